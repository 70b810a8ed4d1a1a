// Loading a console resource and running an action against it (errors shown, then a reload).
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { call } from './api.js';

export function useLoad<T>(path: string): { data: T | null; error: string; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState('');
  const reload = useCallback(() => {
    call<T>('GET', path)
      .then((d) => {
        setData(d);
        setError('');
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [path]);
  useEffect(reload, [reload]);
  return { data, error, reload };
}

/** Runs an action, shows its error, then reloads. */
export function useAction(reload: () => void): { run: (f: () => Promise<unknown>) => void; message: ReactNode } {
  const [error, setError] = useState('');
  const run = (f: () => Promise<unknown>) => {
    setError('');
    f()
      .then(() => reload())
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  };
  return { run, message: error ? <p role="alert">{error}</p> : null };
}
