// Account settings: display name, signature, password, the Apple Mail profile; filters,
// vacation and forwarding (./Filters.tsx).
import { useEffect, useState } from 'react';
import type { OkResponse, PasswordChangeRequest, Settings as SettingsData, SettingsUpdate } from '../../src/http/api/types.js';
import { api, errorText, rememberFocus } from './api.js';
import { Filters } from './Filters.js';

export function Settings({ onClose, onSaved }: { onClose: () => void; onSaved: (settings: SettingsData) => void }): React.JSX.Element {
  const [settings, setSettings] = useState<SettingsData | null>(null);
  const [displayName, setDisplayName] = useState('');
  const [signature, setSignature] = useState('');
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [message, setMessage] = useState('');
  const [error, setError] = useState<string | null>(null);
  // Captured while rendering, before autofocus moves focus into the panel.
  const [restoreFocus] = useState(rememberFocus);
  useEffect(() => restoreFocus, [restoreFocus]);

  useEffect(() => {
    api<SettingsData>('GET', '/api/settings')
      .then((s) => {
        setSettings(s);
        setDisplayName(s.displayName);
        setSignature(s.signature);
      })
      .catch((err: unknown) => setError(errorText(err)));
  }, []);

  const save = async () => {
    setError(null);
    try {
      const update: SettingsUpdate = { displayName, signature };
      const saved = await api<SettingsData>('PUT', '/api/settings', update);
      setSettings(saved);
      onSaved(saved);
      setMessage('Settings saved.');
    } catch (err) {
      setError(errorText(err));
    }
  };

  const changePassword = async () => {
    setError(null);
    if (next !== repeat) {
      setError('The new passwords do not match.');
      return;
    }
    try {
      const body: PasswordChangeRequest = { currentPassword: current, newPassword: next };
      await api<OkResponse>('POST', '/api/settings/password', body);
      setCurrent('');
      setNext('');
      setRepeat('');
      setMessage('Password changed.');
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <section
      className="settings"
      aria-labelledby="settings-title"
      role="dialog"
      aria-modal="false"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
      }}
    >
      <header className="compose-head">
        <h2 id="settings-title">Settings{settings ? ` for ${settings.address}` : ''}</h2>
        <button type="button" onClick={onClose} aria-label="Close settings">
          ✕
        </button>
      </header>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <label className="field">
          <span>Display name</span>
          <input type="text" value={displayName} onChange={(e) => setDisplayName(e.target.value)} maxLength={200} autoComplete="name" />
        </label>
        <label className="field body">
          <span>Signature</span>
          <textarea value={signature} onChange={(e) => setSignature(e.target.value)} rows={4} />
        </label>
        <button type="submit" className="primary" disabled={!settings}>
          Save
        </button>
      </form>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void changePassword();
        }}
      >
        <h3>Change password</h3>
        <label className="field">
          <span>Current password</span>
          <input type="password" value={current} onChange={(e) => setCurrent(e.target.value)} autoComplete="current-password" required />
        </label>
        <label className="field">
          <span>New password</span>
          <input type="password" value={next} onChange={(e) => setNext(e.target.value)} autoComplete="new-password" required minLength={8} />
        </label>
        <label className="field">
          <span>Repeat new password</span>
          <input type="password" value={repeat} onChange={(e) => setRepeat(e.target.value)} autoComplete="new-password" required minLength={8} />
        </label>
        <button type="submit">Change password</button>
      </form>
      <div>
        <h3>Mail apps</h3>
        <p className="muted">
          iPhone, iPad and Mac: <a href="/api/settings/mobileconfig" download>download the configuration profile</a> and open it; it asks for
          your password when it is installed. Thunderbird and Outlook set themselves up from your address alone.
        </p>
      </div>
      <Filters />
      <p role="status" aria-live="polite" className="muted">
        {message}
      </p>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
    </section>
  );
}
