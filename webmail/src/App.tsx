// The application: the session (sign in / out) and, once signed in, the mail view.
import { useEffect, useState } from 'react';
import type { LoginRequest, SessionInfo } from '../../src/http/api/types.js';
import { api, ApiFailure, errorText, setCsrfToken, setUnauthenticatedHandler } from './api.js';
import { Mail } from './Mail.js';

export function App(): React.JSX.Element {
  const [session, setSession] = useState<SessionInfo | null | 'loading'>('loading');

  useEffect(() => {
    setUnauthenticatedHandler(() => setSession(null));
    api<SessionInfo>('GET', '/api/session')
      .then((s) => {
        setCsrfToken(s.csrfToken);
        setSession(s);
      })
      .catch(() => setSession(null));
  }, []);

  if (session === 'loading') return <p className="muted center">Loading…</p>;
  if (session === null)
    return (
      <Login
        onSignedIn={(s) => {
          setCsrfToken(s.csrfToken);
          setSession(s);
        }}
      />
    );
  return (
    <Mail
      session={session}
      onSignOut={() => {
        void api('DELETE', '/api/session')
          .catch(() => undefined)
          .finally(() => {
            setCsrfToken('');
            setSession(null);
          });
      }}
      onSessionChange={setSession}
    />
  );
}

function Login({ onSignedIn }: { onSignedIn: (session: SessionInfo) => void }): React.JSX.Element {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const body: LoginRequest = { username: username.trim(), password };
      onSignedIn(await api<SessionInfo>('POST', '/api/session', body));
    } catch (err) {
      if (err instanceof ApiFailure && err.code === 'bad-credentials') setError('The address or the password is wrong.');
      else if (err instanceof ApiFailure && err.code === 'throttled') setError('Too many attempts. Wait a minute and try again.');
      else setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
        aria-labelledby="login-title"
      >
        <h1 id="login-title">Sign in to your mail</h1>
        <label className="field">
          <span>Email address</span>
          <input type="text" inputMode="email" name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus />
        </label>
        <label className="field">
          <span>Password</span>
          <input type="password" name="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        {error ? (
          <p className="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
