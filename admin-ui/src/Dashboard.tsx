// The dashboard: component status, traffic per hour (24 h), queue, disk and store,
// connections per protocol, recent errors. Refreshed every 30 seconds.
import { useEffect, useState } from 'react';
import { call, formatBytes } from './api.js';
import { BarChart, Meter } from './charts.js';
import type { DashboardData } from '../../src/http/admin/types.js';

export function Dashboard() {
  const [data, setData] = useState<DashboardData | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    const load = () =>
      call<DashboardData>('GET', '/dashboard')
        .then((d) => {
          setData(d);
          setError('');
        })
        .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
    void load();
    const t = setInterval(() => void load(), 30_000);
    return () => clearInterval(t);
  }, []);
  if (error) return <p role="alert">{error}</p>;
  if (!data) return <p>Loading…</p>;
  const hours = data.traffic.map((t) => new Date(t.hour).toISOString().slice(11, 13) + 'h');
  const maxConn = Math.max(1, ...data.connections.map((c) => c.open));
  return (
    <div className="dashboard">
      <section aria-labelledby="components">
        <h2 id="components">Components {data.overall && <span className={`status s-${data.overall.replace(/ /g, '-')}`}>{data.overall}</span>}</h2>
        {data.components ? (
          <ul className="components">
            {data.components.map((c) => (
              <li key={c.id} className={`status s-${c.status.replace(/ /g, '-')}`}>
                {c.name}: {c.status}
                {c.lastLatencyMs !== null && ` (${c.lastLatencyMs} ms)`}
              </li>
            ))}
          </ul>
        ) : (
          <p>Monitoring is off on this node.</p>
        )}
      </section>
      <section aria-labelledby="traffic">
        <h2 id="traffic">Messages per hour (last 24 hours)</h2>
        <BarChart
          title="Messages per hour"
          labels={hours}
          series={[
            { name: 'in', className: 'in', values: data.traffic.map((t) => t.received) },
            { name: 'out', className: 'out', values: data.traffic.map((t) => t.transmitted) },
            { name: 'failed', className: 'failed', values: data.traffic.map((t) => t.failed) },
          ]}
        />
      </section>
      <div className="cards">
        <section className="card">
          <h2>Queue</h2>
          <p>
            {data.queue.queued} queued, {data.queue.failed} failed
          </p>
          <p>Oldest: {Math.round(data.queue.oldestAgeSeconds / 60)} min</p>
        </section>
        <section className="card">
          <h2>Disk</h2>
          {data.disk ? (
            <>
              <Meter used={data.disk.totalBytes - data.disk.freeBytes} total={data.disk.totalBytes} label="Disk used" />
              <p>
                {formatBytes(data.disk.freeBytes)} free of {formatBytes(data.disk.totalBytes)}
              </p>
            </>
          ) : (
            <p>Unknown</p>
          )}
        </section>
        <section className="card">
          <h2>Store</h2>
          <p>
            {data.store.domains} domains, {data.store.accounts} accounts, {data.store.messages} messages ({formatBytes(data.store.messageBytes)})
          </p>
          {data.store.databaseBytes !== null && <p>Database file: {formatBytes(data.store.databaseBytes)}</p>}
        </section>
        <section className="card">
          <h2>Connections</h2>
          <svg viewBox={`0 0 220 ${Math.max(1, data.connections.length) * 18}`} role="img" aria-label="Open connections per protocol" data-chart="connections" className="hbars">
            {data.connections.map((c, i) => (
              <g key={c.protocol}>
                <text x="0" y={i * 18 + 12} className="tick">
                  {c.protocol}
                </text>
                <rect x="70" y={i * 18 + 3} height="12" width={Math.max(1, (120 * c.open) / maxConn)} className="in" />
                <text x={75 + (120 * c.open) / maxConn} y={i * 18 + 13} className="tick">
                  {c.open}
                </text>
              </g>
            ))}
          </svg>
        </section>
      </div>
      <section aria-labelledby="errors">
        <h2 id="errors">Recent errors</h2>
        {data.errors.length === 0 ? (
          <p>None.</p>
        ) : (
          <table>
            <tbody>
              {data.errors.map((e, i) => (
                <tr key={i}>
                  <td>{new Date(e.at).toLocaleString()}</td>
                  <td>{e.source}</td>
                  <td>{e.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
