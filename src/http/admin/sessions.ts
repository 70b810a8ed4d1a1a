// Sessions in the console: the open sessions of every process and node (and ending one),
// an account's log-in history, and its protocol trace (on for a while, off, read). The
// same store rows as `steadymail sessions` and `steadymail trace`; ending a session and
// switching a trace are audited.

import { normalizeAddress } from '../../address/index.js';
import type { LiveSession, SessionHistoryEntry, TraceLine, TraceSwitch } from '../../store/sql/sessions.js';
import type { Account } from '../../store/types.js';
import { liveSince, parseDuration } from '../../sessions/views.js';
import { audit, body, int, invalid, notFound, str, type AdminCall } from './common.js';
import type { LiveSessionInfo, HistoryInfo, TraceInfo } from './types.js';

const live = (s: LiveSession): LiveSessionInfo => ({
  sessionId: s.sessionId,
  protocol: s.protocol,
  account: s.account,
  clientIp: s.clientIp,
  clientId: s.clientId,
  tls: s.tls,
  startedAt: s.startedAt.toISOString(),
  node: s.node,
  killRequested: s.killRequested,
});

const history = (e: SessionHistoryEntry): HistoryInfo => ({
  sessionId: e.sessionId,
  protocol: e.protocol,
  clientIp: e.clientIp,
  clientId: e.clientId,
  tls: e.tls,
  login: e.login,
  startedAt: e.startedAt.toISOString(),
  endedAt: e.endedAt.toISOString(),
  endReason: e.endReason,
  commands: e.commands,
  bytesIn: e.bytesIn,
  bytesOut: e.bytesOut,
  traced: e.traced,
  node: e.node,
});

const switchInfo = (t: TraceSwitch): NonNullable<TraceInfo['trace']> => ({ until: t.until.toISOString(), bodies: t.bodies, bytes: t.bytes, createdAt: t.createdAt.toISOString() });
const lineInfo = (l: TraceLine): TraceInfo['lines'][number] => ({ sessionId: l.sessionId, protocol: l.protocol, at: l.at.toISOString(), direction: l.direction, line: l.line });

async function existing(call: AdminCall): Promise<Account> {
  const address = normalizeAddress(call.params.address ?? '');
  const account = await call.ctx.store.getAccount(address);
  if (!account) throw notFound(`account ${address}`);
  return account;
}

export async function listLiveSessions(call: AdminCall): Promise<{ sessions: LiveSessionInfo[] }> {
  const account = str(call.query.account, 'account', { max: 320, optional: true });
  const rows = await call.ctx.store.sessions.listLiveSessions({ seenSince: liveSince(), ...(account ? { account: normalizeAddress(account) } : {}) });
  return { sessions: rows.map(live) };
}

/** Asks the process serving the session to end it (it does so at its next heartbeat, within seconds). */
export async function killSession(call: AdminCall): Promise<{ ok: true }> {
  const id = str(call.params.id, 'id', { max: 200 });
  const session = await call.ctx.store.sessions.getLiveSession(id);
  if (!session || !(await call.ctx.store.sessions.requestKill(id))) throw notFound(`open session ${id}`);
  const account = session.account ? await call.ctx.store.getAccount(session.account) : undefined;
  await audit(call, 'session.kill', `session ${id}`, { protocol: session.protocol, account: session.account, clientIp: session.clientIp, node: session.node }, account?.id ?? null);
  return { ok: true };
}

export async function sessionHistory(call: AdminCall): Promise<{ sessions: HistoryInfo[] }> {
  const account = await existing(call);
  const limit = int(call.query.limit, 'limit', 50, 1, 1000);
  return { sessions: (await call.ctx.store.sessions.listHistory({ account: account.address, limit })).map(history) };
}

export async function showTrace(call: AdminCall): Promise<TraceInfo> {
  const account = await existing(call);
  const session = str(call.query.session, 'session', { max: 200, optional: true });
  const limit = int(call.query.limit, 'limit', 5000, 1, 100_000);
  const [sw, lines] = await Promise.all([call.ctx.store.sessions.getTrace(account.address), call.ctx.store.sessions.readTrace(account.address, { limit, ...(session ? { sessionId: session } : {}) })]);
  return { account: account.address, trace: sw ? switchInfo(sw) : null, active: sw !== undefined && sw.until.getTime() > Date.now(), lines: lines.map(lineInfo) };
}

/** Body: `{ for?: "30m" | "1h" | …, bodies?: boolean }`; without `for`, sessions.trace_default_minutes. */
export async function startTrace(call: AdminCall): Promise<TraceInfo> {
  const account = await existing(call);
  const b = body(call);
  const text = str(b.for, 'for', { max: 20, optional: true });
  const ms = text === undefined || text === '' ? call.ctx.config.sessions.traceDefaultMinutes * 60_000 : parseDuration(text);
  if (ms === undefined) throw invalid(`not a duration: ${text} (e.g. 30m, 1h, 2d; at most 30d)`);
  if (b.bodies !== undefined && typeof b.bodies !== 'boolean') throw invalid('bodies must be true or false');
  const sw = await call.ctx.store.sessions.startTrace(account.address, new Date(Date.now() + ms), b.bodies === true);
  await audit(call, 'trace.on', account.address, { until: sw.until.toISOString(), bodies: sw.bodies }, account.id);
  return { account: account.address, trace: switchInfo(sw), active: true, lines: [] };
}

export async function stopTrace(call: AdminCall): Promise<{ stopped: boolean }> {
  const account = await existing(call);
  const stopped = await call.ctx.store.sessions.stopTrace(account.address);
  await audit(call, 'trace.off', account.address, { wasRunning: stopped }, account.id);
  return { stopped };
}
