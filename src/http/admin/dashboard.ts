// The dashboard: one read of everything an operator glances at. Each part that cannot be
// read (the monitor off, the disk not statable) is null rather than failing the page.

import { statfs, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdminCall } from './common.js';
import type { DashboardData } from './types.js';

const HOUR_MS = 3600_000;
const QUEUE_SCAN_LIMIT = 100_000;

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

export async function dashboard(call: AdminCall): Promise<DashboardData> {
  const { ctx } = call;
  const now = Date.now();
  const thisHour = Math.floor(now / HOUR_MS) * HOUR_MS;
  const first = thisHour - 23 * HOUR_MS;
  const [summary, traffic, queued, failed, stats, probes] = await Promise.all([
    ctx.summary ? ctx.summary().catch(() => undefined) : Promise.resolve(undefined),
    ctx.store.admin.listTraffic(new Date(first)),
    ctx.store.listQueue({ state: 'queued', limit: QUEUE_SCAN_LIMIT }),
    ctx.store.listQueue({ state: 'failed', limit: 50 }),
    ctx.store.stats(),
    ctx.store.monitoring.recentProbes({ since: new Date(now - 24 * HOUR_MS), limit: 500 }),
  ]);
  const byHour = new Map(traffic.map((t) => [t.hour.getTime(), t]));
  const hours: DashboardData['traffic'] = [];
  for (let h = first; h <= thisHour; h += HOUR_MS) {
    const t = byHour.get(h);
    hours.push({ hour: new Date(h).toISOString(), received: t?.received ?? 0, deliveredLocal: t?.deliveredLocal ?? 0, transmitted: t?.transmitted ?? 0, failed: t?.failed ?? 0 });
  }
  let disk: DashboardData['disk'] = null;
  try {
    const s = await statfs(ctx.config.dataDir);
    disk = { path: ctx.config.dataDir, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  } catch {
    disk = null;
  }
  const databaseBytes =
    ctx.store.driver === 'sqlite'
      ? (await fileSize(join(ctx.config.dataDir, 'steadymail.db'))) + (await fileSize(join(ctx.config.dataDir, 'steadymail.db-wal')))
      : null;
  const oldest = queued.reduce((min, e) => Math.min(min, e.createdAt.getTime()), now);
  const perProtocol = new Map<string, number>();
  for (const [name, open] of ctx.connections?.() ?? []) if (open !== undefined) perProtocol.set(name, (perProtocol.get(name) ?? 0) + open);

  const errors: DashboardData['errors'] = [];
  for (const p of probes) {
    if (p.ok) continue;
    errors.push({ at: p.at.toISOString(), source: `probe ${p.component} (${p.node})`, message: p.failedSteps.length > 0 ? `failed steps: ${p.failedSteps.join(', ')}` : 'failed' });
  }
  for (const e of [...queued, ...failed]) {
    if (e.lastError === null) continue;
    errors.push({ at: e.updatedAt.toISOString(), source: `queue entry ${e.id} (${e.domain}, ${e.state})`, message: e.lastError });
  }
  errors.sort((a, b) => b.at.localeCompare(a.at));

  return {
    generatedAt: new Date(now).toISOString(),
    components: summary ? summary.components.map((c) => ({ id: c.id, name: c.name, status: c.status, lastLatencyMs: c.lastLatencyMs, recentLatenciesMs: c.recentLatenciesMs })) : null,
    overall: summary?.status ?? null,
    traffic: hours,
    queue: { queued: queued.length, failed: (await ctx.store.listQueue({ state: 'failed', limit: QUEUE_SCAN_LIMIT })).length, oldestAgeSeconds: Math.round((now - oldest) / 1000) },
    disk,
    store: { driver: ctx.store.driver, domains: stats.domains, accounts: stats.accounts, messages: stats.messages, messageBytes: stats.bytes, databaseBytes },
    connections: [...perProtocol].map(([protocol, open]) => ({ protocol, open })),
    errors: errors.slice(0, 50),
  };
}
