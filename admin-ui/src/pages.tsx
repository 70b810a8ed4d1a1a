// The console's pages besides the dashboard and sessions: domains, accounts, queue, incidents, audit log.
import { useState, type FormEvent } from 'react';
import { call, enc, formatBytes } from './api.js';
import { Meter } from './charts.js';
import { useAction, useLoad } from './hooks.js';
import { AccountForwarding } from './Forwarding.js';
import { AccountSessions } from './Sessions.js';
import type { AccountInfo } from '../../src/http/admin/types.js';

interface Rec {
  type: string;
  name: string;
  value: string;
  zone: string;
  purpose: string;
  state?: string;
  found?: string[];
}

export function Domains() {
  const { data, error, reload } = useLoad<{ domains: Array<{ name: string; accounts: number; aliases: number; dkim: boolean }> }>('/domains');
  const { run, message } = useAction(reload);
  const [name, setName] = useState('');
  const [shown, setShown] = useState<{ domain: string; records: Rec[]; checked: boolean } | null>(null);
  const add = (e: FormEvent) => {
    e.preventDefault();
    run(async () => {
      await call('POST', '/domains', { name });
      setName('');
    });
  };
  const records = (domain: string, check: boolean) =>
    run(async () => {
      const r = await call<{ records: Rec[] }>('GET', `/domains/${enc(domain)}/${check ? 'dns-check' : 'records'}`);
      setShown({ domain, records: r.records, checked: check });
    });
  return (
    <>
      <form onSubmit={add} className="inline">
        <label>
          New domain <input name="domain" value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <button type="submit">Add domain</button>
      </form>
      {message}
      {error && <p role="alert">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>Domain</th>
            <th>Accounts</th>
            <th>Aliases</th>
            <th>DKIM</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {data?.domains.map((d) => (
            <tr key={d.name}>
              <td>{d.name}</td>
              <td>{d.accounts}</td>
              <td>{d.aliases}</td>
              <td>{d.dkim ? 'key present' : <button onClick={() => run(() => call('POST', `/domains/${enc(d.name)}/dkim`))}>Create DKIM key</button>}</td>
              <td>
                <button onClick={() => records(d.name, false)}>DNS records</button> <button onClick={() => records(d.name, true)}>Check DNS</button>{' '}
                <button className="danger" onClick={() => window.confirm(`Remove ${d.name}?`) && run(() => call('DELETE', `/domains/${enc(d.name)}`))}>
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown && (
        <section aria-label={`DNS records of ${shown.domain}`}>
          <h2>DNS records of {shown.domain}</h2>
          <table className="records">
            <thead>
              <tr>
                {shown.checked && <th>State</th>}
                <th>Record</th>
                <th>Why</th>
              </tr>
            </thead>
            <tbody>
              {shown.records.map((r) => (
                <tr key={`${r.type} ${r.name}`}>
                  {shown.checked && (
                    <td className={`state-${r.state ?? ''}`}>
                      {r.state}
                      {r.state === 'different' && r.found && <div className="found">DNS says: {r.found.join(' | ')}</div>}
                    </td>
                  )}
                  <td>
                    <code>{r.zone}</code>
                  </td>
                  <td>{r.purpose}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </>
  );
}

interface AccountDetail extends AccountInfo {
  folders: Array<{ name: string; messages: number; unseen: number; bytes: number }>;
  aliases: Array<{ source: string; targets: string[] }>;
}

export function Accounts() {
  const { data, error, reload } = useLoad<{ accounts: AccountInfo[] }>('/accounts');
  const { run, message } = useAction(reload);
  const [form, setForm] = useState({ address: '', password: '', quotaMiB: '' });
  const [detail, setDetail] = useState<AccountDetail | null>(null);
  const [csv, setCsv] = useState('');
  const [imported, setImported] = useState<Array<{ line: number; address: string; status: string; error?: string }> | null>(null);
  const create = (e: FormEvent) => {
    e.preventDefault();
    run(async () => {
      await call('POST', '/accounts', { address: form.address, password: form.password, quotaBytes: Math.round(Number(form.quotaMiB || '0') * 1024 * 1024) });
      setForm({ address: '', password: '', quotaMiB: '' });
    });
  };
  const path = (a: string) => `/accounts/${enc(a)}`;
  return (
    <>
      <form onSubmit={create} className="inline" aria-label="New account">
        <label>
          Address <input name="address" value={form.address} onChange={(e) => setForm({ ...form, address: e.target.value })} required />
        </label>
        <label>
          Password <input name="password" type="password" autoComplete="new-password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} required />
        </label>
        <label>
          Quota (MiB, 0 = none) <input name="quota" inputMode="numeric" value={form.quotaMiB} onChange={(e) => setForm({ ...form, quotaMiB: e.target.value })} />
        </label>
        <button type="submit">Create account</button>
      </form>
      {message}
      {error && <p role="alert">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>Address</th>
            <th>Usage</th>
            <th>State</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {data?.accounts.map((a) => (
            <tr key={a.address}>
              <td>
                <button className="link" onClick={() => run(async () => setDetail(await call<AccountDetail>('GET', path(a.address))))}>
                  {a.address}
                </button>
              </td>
              <td>
                {a.quotaBytes > 0 && <Meter used={a.usedBytes} total={a.quotaBytes} label={`Quota of ${a.address}`} />} {formatBytes(a.usedBytes)}
                {a.quotaBytes > 0 ? ` of ${formatBytes(a.quotaBytes)}` : ''}
              </td>
              <td>{a.disabled ? 'disabled' : 'active'}</td>
              <td>
                <button onClick={() => run(() => call('POST', `${path(a.address)}/${a.disabled ? 'enable' : 'disable'}`))}>{a.disabled ? 'Enable' : 'Disable'}</button>{' '}
                <button
                  onClick={() => {
                    const pw = window.prompt(`New password for ${a.address}`);
                    if (pw) run(() => call('PUT', `${path(a.address)}/password`, { password: pw }));
                  }}
                >
                  Reset password
                </button>{' '}
                <button
                  onClick={() => {
                    const q = window.prompt(`Quota of ${a.address} in MiB (0 = none)`, String(a.quotaBytes / 1024 / 1024));
                    if (q !== null) run(() => call('PUT', `${path(a.address)}/quota`, { quotaBytes: Math.round(Number(q) * 1024 * 1024) }));
                  }}
                >
                  Quota
                </button>{' '}
                <button className="danger" onClick={() => window.confirm(`Remove ${a.address} and all its mail?`) && run(() => call('DELETE', path(a.address)))}>
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {detail && (
        <section aria-label={`Account ${detail.address}`}>
          <h2>{detail.address}</h2>
          <table>
            <thead>
              <tr>
                <th>Folder</th>
                <th>Messages</th>
                <th>Unread</th>
                <th>Size</th>
              </tr>
            </thead>
            <tbody>
              {detail.folders.map((f) => (
                <tr key={f.name}>
                  <td>{f.name}</td>
                  <td>{f.messages}</td>
                  <td>{f.unseen}</td>
                  <td>{formatBytes(f.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p>Aliases: {detail.aliases.length === 0 ? 'none' : detail.aliases.map((a) => `${a.source} → ${a.targets.join(', ')}`).join('; ')}</p>
          <AccountForwarding key={`f-${detail.address}`} address={detail.address} />
          <AccountSessions key={detail.address} address={detail.address} />
        </section>
      )}
      <section aria-label="Import accounts">
        <h2>Import accounts from CSV</h2>
        <p>Columns: address,password,quota (e.g. 500M). Nothing is created when a row is wrong.</p>
        <textarea name="csv" rows={5} value={csv} onChange={(e) => setCsv(e.target.value)} />
        <button onClick={() => run(async () => setImported((await call<{ rows: Array<{ line: number; address: string; status: string; error?: string }> }>('POST', '/accounts/import', { csv })).rows))}>Import</button>
        {imported && (
          <ul>
            {imported.map((r) => (
              <li key={r.line}>
                line {r.line} {r.address}: {r.status}
                {r.error ? ` (${r.error})` : ''}
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

export function Queue() {
  const { data, error, reload } = useLoad<{ entries: Array<{ id: number; state: string; mailFrom: string; recipients: string[]; attempts: number; nextAttemptAt: string; lastError: string | null }> }>('/queue');
  const { run, message } = useAction(reload);
  return (
    <>
      {message}
      {error && <p role="alert">{error}</p>}
      {data?.entries.length === 0 && <p>The queue is empty.</p>}
      <table>
        <tbody>
          {data?.entries.map((e) => (
            <tr key={e.id}>
              <td>{e.id}</td>
              <td>{e.state}</td>
              <td>{e.mailFrom || '<>'}</td>
              <td>{e.recipients.join(', ')}</td>
              <td>{e.attempts} attempts</td>
              <td>{e.lastError}</td>
              <td>
                <button onClick={() => run(() => call('POST', `/queue/${e.id}/retry`))}>Retry</button>{' '}
                <button className="danger" onClick={() => window.confirm(`Delete queue entry ${e.id}?`) && run(() => call('DELETE', `/queue/${e.id}`))}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function Incidents() {
  const { data, error, reload } = useLoad<{ incidents: Array<{ id: number; title: string; stage: string; impact: string; createdAt: string }> }>('/incidents');
  const { run, message } = useAction(reload);
  const [form, setForm] = useState({ title: '', impact: 'minor', body: '' });
  const open = (e: FormEvent) => {
    e.preventDefault();
    run(async () => {
      await call('POST', '/incidents', form);
      setForm({ title: '', impact: 'minor', body: '' });
    });
  };
  return (
    <>
      <form onSubmit={open} aria-label="New incident">
        <label>
          Title <input name="title" value={form.title} onChange={(e) => setForm({ ...form, title: e.target.value })} required />
        </label>
        <label>
          Impact{' '}
          <select name="impact" value={form.impact} onChange={(e) => setForm({ ...form, impact: e.target.value })}>
            {['none', 'minor', 'major', 'critical'].map((i) => (
              <option key={i}>{i}</option>
            ))}
          </select>
        </label>
        <label>
          First update <textarea name="body" value={form.body} onChange={(e) => setForm({ ...form, body: e.target.value })} required />
        </label>
        <button type="submit">Open incident</button>
      </form>
      {message}
      {error && <p role="alert">{error}</p>}
      <table>
        <tbody>
          {data?.incidents.map((i) => (
            <tr key={i.id}>
              <td>{i.id}</td>
              <td>{i.title}</td>
              <td>{i.impact}</td>
              <td>{i.stage}</td>
              <td>
                {i.stage !== 'resolved' && (
                  <>
                    <button
                      onClick={() => {
                        const body = window.prompt('Update');
                        if (body) run(() => call('POST', `/incidents/${i.id}/updates`, { body }));
                      }}
                    >
                      Update
                    </button>{' '}
                    <button onClick={() => run(() => call('POST', `/incidents/${i.id}/resolve`, {}))}>Resolve</button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function AuditLog() {
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const q = new URLSearchParams({ limit: '200', ...(actor ? { actor } : {}), ...(action ? { action } : {}) });
  const { data, error } = useLoad<{ entries: Array<{ id: number; at: string; actor: string; action: string; subject: string; reason: string; detail: { ip?: string } }> }>(`/audit?${q.toString()}`);
  return (
    <>
      <form className="inline" onSubmit={(e) => e.preventDefault()}>
        <label>
          Actor <input name="actor" value={actor} onChange={(e) => setActor(e.target.value)} placeholder="admin:root" />
        </label>
        <label>
          Action <input name="action" value={action} onChange={(e) => setAction(e.target.value)} placeholder="account." />
        </label>
      </form>
      {error && <p role="alert">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>When</th>
            <th>Who</th>
            <th>From</th>
            <th>What</th>
            <th>On</th>
          </tr>
        </thead>
        <tbody>
          {data?.entries.map((e) => (
            <tr key={e.id}>
              <td>{new Date(e.at).toLocaleString()}</td>
              <td>{e.actor}</td>
              <td>{e.detail.ip ?? ''}</td>
              <td>{e.action}</td>
              <td>{e.subject}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
