// The console shell: sign-in, then one page at a time (no client-side routes: /admin is
// the only page the server serves).
import { useEffect, useState, type FormEvent } from 'react';
import { AdminApiError, call, setCsrfToken, setUnauthenticatedHandler } from './api.js';
import { Dashboard } from './Dashboard.js';
import { Accounts, AuditLog, Domains, Incidents, Queue } from './pages.js';
import { Sessions } from './Sessions.js';
import type { AdminSessionInfo } from '../../src/http/admin/types.js';

const PAGES = { dashboard: 'Dashboard', domains: 'Domains', accounts: 'Accounts', sessions: 'Sessions', queue: 'Queue', incidents: 'Incidents', audit: 'Audit log' } as const;
type Page = keyof typeof PAGES;

export function App() {
  const [session, setSession] = useState<AdminSessionInfo | null | undefined>(undefined);
  const [page, setPage] = useState<Page>('dashboard');

  useEffect(() => {
    setUnauthenticatedHandler(() => setSession(null));
    call<AdminSessionInfo>('GET', '/session')
      .then((s) => {
        setCsrfToken(s.csrfToken ?? '');
        setSession(s);
      })
      .catch(() => setSession(null));
  }, []);

  if (session === undefined) return <p className="loading">Loading…</p>;
  if (session === null) return <SignIn onSignedIn={setSession} />;

  const signOut = async () => {
    await call('DELETE', '/session').catch(() => undefined);
    setSession(null);
  };

  return (
    <div className="shell">
      <header>
        <strong>Steadymail console</strong>
        <nav aria-label="Console">
          {(Object.keys(PAGES) as Page[]).map((p) => (
            <button key={p} type="button" className={p === page ? 'current' : ''} aria-current={p === page ? 'page' : undefined} onClick={() => setPage(p)}>
              {PAGES[p]}
            </button>
          ))}
        </nav>
        <span className="who">
          {session.name}{' '}
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </span>
      </header>
      <main>
        <h1>{PAGES[page]}</h1>
        {page === 'dashboard' && <Dashboard />}
        {page === 'domains' && <Domains />}
        {page === 'accounts' && <Accounts />}
        {page === 'sessions' && <Sessions />}
        {page === 'queue' && <Queue />}
        {page === 'incidents' && <Incidents />}
        {page === 'audit' && <AuditLog />}
      </main>
    </div>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (s: AdminSessionInfo) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    try {
      const s = await call<AdminSessionInfo>('POST', '/session', { name, password });
      setCsrfToken(s.csrfToken ?? '');
      onSignedIn(s);
    } catch (err) {
      setError(err instanceof AdminApiError ? err.message : 'Sign-in failed.');
    }
  };
  return (
    <form className="signin" onSubmit={(e) => void submit(e)}>
      <h1>Steadymail console</h1>
      <label>
        Admin name
        <input name="name" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
      </label>
      {error && <p role="alert">{error}</p>}
      <button type="submit">Sign in</button>
    </form>
  );
}
