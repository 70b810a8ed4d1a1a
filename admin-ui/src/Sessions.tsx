// Sessions: the open sessions of every process (refreshing, with Disconnect), and on an
// account's view its log-in history and its protocol trace (on for a while, off, read).
import { useEffect, useState } from 'react';
import { call, enc, formatBytes } from './api.js';
import { useAction, useLoad } from './hooks.js';
import type { HistoryInfo, LiveSessionInfo, TraceInfo } from '../../src/http/admin/types.js';

const REFRESH_MS = 5000;
const time = (iso: string) => new Date(iso).toLocaleString();

function duration(from: string, to: string): string {
  const s = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

export function Sessions() {
  const { data, error, reload } = useLoad<{ sessions: LiveSessionInfo[] }>('/sessions');
  const { run, message } = useAction(reload);
  useEffect(() => {
    const t = setInterval(reload, REFRESH_MS);
    return () => clearInterval(t);
  }, [reload]);
  return (
    <>
      <p>Sessions open now on every process and node, refreshed every {REFRESH_MS / 1000} seconds.</p>
      {message}
      {error && <p role="alert">{error}</p>}
      {data?.sessions.length === 0 && <p>No session is open.</p>}
      <table aria-label="Open sessions">
        <thead>
          <tr>
            <th>Protocol</th>
            <th>Account</th>
            <th>Client IP</th>
            <th>Client</th>
            <th>TLS</th>
            <th>Started</th>
            <th>Process</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {data?.sessions.map((s) => (
            <tr key={s.sessionId}>
              <td>{s.protocol}</td>
              <td>{s.account ?? '—'}</td>
              <td>{s.clientIp}</td>
              <td>{s.clientId ?? '—'}</td>
              <td>{s.tls ?? 'plain'}</td>
              <td>{time(s.startedAt)}</td>
              <td>{s.node}</td>
              <td>
                {s.killRequested ? (
                  'ending…'
                ) : (
                  <button className="danger" onClick={() => window.confirm(`Disconnect this ${s.protocol} session${s.account ? ` of ${s.account}` : ''}?`) && run(() => call('POST', `/sessions/${enc(s.sessionId)}/kill`))}>
                    Disconnect
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function AccountSessions({ address }: { address: string }) {
  const base = `/accounts/${enc(address)}`;
  const history = useLoad<{ sessions: HistoryInfo[] }>(`${base}/sessions`);
  const trace = useLoad<TraceInfo>(`${base}/trace`);
  const { run, message } = useAction(() => {
    trace.reload();
    history.reload();
  });
  const [length, setLength] = useState('1h');
  const [bodies, setBodies] = useState(false);
  return (
    <>
      <section aria-label={`Log-in history of ${address}`}>
        <h3>Log-in history</h3>
        {history.error && <p role="alert">{history.error}</p>}
        {history.data?.sessions.length === 0 && <p>No sessions recorded.</p>}
        <table>
          <thead>
            <tr>
              <th>Started</th>
              <th>Protocol</th>
              <th>Client IP</th>
              <th>Log-in</th>
              <th>Ended</th>
              <th>Duration</th>
              <th>Commands</th>
              <th>In / out</th>
              <th>TLS</th>
              <th>Client</th>
            </tr>
          </thead>
          <tbody>
            {history.data?.sessions.map((h) => (
              <tr key={h.sessionId}>
                <td>{time(h.startedAt)}</td>
                <td>{h.protocol}</td>
                <td>{h.clientIp}</td>
                <td>{h.login}</td>
                <td>{h.endReason}</td>
                <td>{duration(h.startedAt, h.endedAt)}</td>
                <td>{h.commands}</td>
                <td>
                  {formatBytes(h.bytesIn)} / {formatBytes(h.bytesOut)}
                </td>
                <td>{h.tls ?? 'plain'}</td>
                <td>
                  {h.clientId ?? '—'}
                  {h.traced ? ' (traced)' : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-label={`Trace of ${address}`}>
        <h3>Trace</h3>
        <p>Records the commands and replies of this account's sessions (passwords masked; message bodies as size and hash unless asked for).</p>
        {message}
        {trace.error && <p role="alert">{trace.error}</p>}
        {trace.data && (
          <p>
            {trace.data.trace === null
              ? 'No trace.'
              : `${trace.data.active ? 'On until' : 'Ended'} ${time(trace.data.trace.until)}, ${formatBytes(trace.data.trace.bytes)} recorded${trace.data.trace.bodies ? ', with message bodies' : ''}.`}
          </p>
        )}
        <div className="inline">
          <label>
            For <input name="trace-for" value={length} onChange={(e) => setLength(e.target.value)} size={6} />
          </label>
          <label>
            <input type="checkbox" name="trace-bodies" checked={bodies} onChange={(e) => setBodies(e.target.checked)} /> Message bodies
          </label>
          <button onClick={() => run(() => call('POST', `${base}/trace`, { for: length, bodies }))}>{trace.data?.active ? 'Restart trace' : 'Start trace'}</button>{' '}
          {trace.data?.active && <button onClick={() => run(() => call('DELETE', `${base}/trace`))}>Stop trace</button>} <button onClick={trace.reload}>Refresh</button>
        </div>
        {trace.data && trace.data.lines.length > 0 && (
          <pre className="trace" aria-label="Trace lines">
            {trace.data.lines.map((l) => `${l.at} ${l.sessionId} ${l.protocol} ${l.direction}: ${l.line}`).join('\n')}
          </pre>
        )}
      </section>
    </>
  );
}
