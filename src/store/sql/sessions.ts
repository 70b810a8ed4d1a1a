// Session rows (src/sessions): the history of finished sessions, the live list every
// process and node shares, and per-account protocol traces. Reads go to the database;
// writes through the store's WriteBatcher. Accounts are named by login address in lower
// case. Nothing here is on a protocol's hot path: a session writes its live row at the
// start, once more at login, and its history row at the end; traces only while switched on.

import type { Kysely, Selectable } from 'kysely';
import type { Database, LiveSessionsTable, SessionHistoryTable, TraceLinesTable, TraceSwitchesTable } from './schema.js';
import type { WriteBatcher } from './write-batch.js';

export const SESSION_PROTOCOLS = ['smtp', 'submission', 'pop3', 'imap', 'managesieve', 'webmail'] as const;
export type SessionProtocol = (typeof SESSION_PROTOCOLS)[number];
/** How a session ended: the client said goodbye, it was idle or too slow, it broke, it vanished, the server stopped, an operator ended it. */
export const END_REASONS = ['quit', 'timeout', 'error', 'dropped', 'shutdown', 'killed'] as const;
export type EndReason = (typeof END_REASONS)[number];
export type LoginResult = 'ok' | 'failed' | 'none';

export interface LiveSession {
  sessionId: string;
  /** The process that owns it (`host:pid`): the one that acts on a kill request. */
  node: string;
  protocol: SessionProtocol;
  clientIp: string;
  clientId: string | null;
  tls: string | null;
  account: string | null;
  startedAt: Date;
  seenAt: Date;
  killRequested: boolean;
}

export interface SessionHistoryEntry {
  id: number;
  sessionId: string;
  account: string | null;
  protocol: SessionProtocol;
  node: string;
  clientIp: string;
  clientId: string | null;
  tls: string | null;
  login: LoginResult;
  startedAt: Date;
  endedAt: Date;
  endReason: EndReason;
  bytesIn: number;
  bytesOut: number;
  commands: number;
  traced: boolean;
}

export type NewSessionHistory = Omit<SessionHistoryEntry, 'id'>;

export interface TraceSwitch {
  account: string;
  until: Date;
  bodies: boolean;
  /** Bytes of trace lines recorded under this switch. */
  bytes: number;
  createdAt: Date;
}

export interface TraceLine {
  id: number;
  account: string;
  sessionId: string;
  protocol: SessionProtocol;
  at: Date;
  direction: 'C' | 'S' | '*';
  line: string;
}

export type NewTraceLine = Omit<TraceLine, 'id' | 'account'>;

export interface SessionPruneOptions {
  /** History rows that ended before this go. */
  historyBefore: Date;
  /** At most this many history rows per account (the newest are kept). */
  historyMaxPerAccount: number;
  /** Traces whose switch ended before this go, with their lines. */
  tracesBefore: Date;
  /** Live rows whose owner has not refreshed them since this are left over from a dead process. */
  liveBefore: Date;
}

export interface SessionStore {
  addLiveSession(session: Omit<LiveSession, 'seenAt' | 'killRequested'>): Promise<void>;
  updateLiveSession(sessionId: string, change: { account?: string | null; clientId?: string | null; tls?: string | null }): Promise<void>;
  /** Removes the live row of a session that leaves no history (inbound SMTP). */
  removeLiveSession(sessionId: string): Promise<void>;
  /** Removes the live row and writes the history row, in one transaction. */
  finishSession(entry: NewSessionHistory): Promise<void>;
  /** The owner's heartbeat: refreshes its rows; returns those an operator asked to end. */
  refreshLiveSessions(node: string, now?: Date): Promise<string[]>;
  /** Live sessions of every process refreshed since `seenSince`, oldest first. */
  listLiveSessions(options?: { seenSince?: Date; account?: string }): Promise<LiveSession[]>;
  getLiveSession(sessionId: string): Promise<LiveSession | undefined>;
  /** Asks the owner to end the session; false when no such live session. */
  requestKill(sessionId: string): Promise<boolean>;
  /** Newest first. */
  listHistory(options: { account?: string; limit?: number; since?: Date }): Promise<SessionHistoryEntry[]>;

  /** Switches a trace on (or extends it). A switch that had ended starts again empty. */
  startTrace(account: string, until: Date, bodies: boolean, now?: Date): Promise<TraceSwitch>;
  /** Stops recording now; the lines stay until pruned. False when there was no trace. */
  stopTrace(account: string, now?: Date): Promise<boolean>;
  getTrace(account: string): Promise<TraceSwitch | undefined>;
  /** Traces still recording at `now`. */
  activeTraces(now?: Date): Promise<TraceSwitch[]>;
  /**
   * Appends lines to the account's trace while it is on and within `maxBytes` (this trace)
   * and `totalMaxBytes` (every trace): all or none. False: the trace is off or full.
   */
  appendTrace(account: string, lines: NewTraceLine[], limits: { maxBytes: number; totalMaxBytes: number }, now?: Date): Promise<boolean>;
  /** Oldest first. */
  readTrace(account: string, options?: { sessionId?: string; limit?: number }): Promise<TraceLine[]>;

  prune(options: SessionPruneOptions): Promise<{ history: number; traces: number; lines: number; live: number }>;
}

const lineBytes = (l: { line: string }): number => Buffer.byteLength(l.line) + 32;

function toLive(r: Selectable<LiveSessionsTable>): LiveSession {
  return {
    sessionId: r.session_id,
    node: r.node,
    protocol: r.protocol as SessionProtocol,
    clientIp: r.client_ip,
    clientId: r.client_id,
    tls: r.tls,
    account: r.account,
    startedAt: new Date(Number(r.started_at)),
    seenAt: new Date(Number(r.seen_at)),
    killRequested: Number(r.kill_requested) === 1,
  };
}

function toHistory(r: Selectable<SessionHistoryTable>): SessionHistoryEntry {
  return {
    id: Number(r.id),
    sessionId: r.session_id,
    account: r.account,
    protocol: r.protocol as SessionProtocol,
    node: r.node,
    clientIp: r.client_ip,
    clientId: r.client_id,
    tls: r.tls,
    login: r.login as LoginResult,
    startedAt: new Date(Number(r.started_at)),
    endedAt: new Date(Number(r.ended_at)),
    endReason: r.end_reason as EndReason,
    bytesIn: Number(r.bytes_in),
    bytesOut: Number(r.bytes_out),
    commands: Number(r.commands),
    traced: Number(r.traced) === 1,
  };
}

function toSwitch(r: Selectable<TraceSwitchesTable>): TraceSwitch {
  return { account: r.account, until: new Date(Number(r.until_at)), bodies: Number(r.bodies) === 1, bytes: Number(r.bytes), createdAt: new Date(Number(r.created_at)) };
}

function toLine(r: Selectable<TraceLinesTable>): TraceLine {
  return { id: Number(r.id), account: r.account, sessionId: r.session_id, protocol: r.protocol as SessionProtocol, at: new Date(Number(r.at)), direction: r.direction as TraceLine['direction'], line: r.line };
}

const norm = (account: string): string => account.toLowerCase();

export function createSessionStore(db: Kysely<Database>, writes: WriteBatcher): SessionStore {
  return {
    async addLiveSession(s) {
      await writes.run((tx) =>
        tx
          .insertInto('live_sessions')
          .values({
            session_id: s.sessionId,
            node: s.node,
            protocol: s.protocol,
            client_ip: s.clientIp,
            client_id: s.clientId,
            tls: s.tls,
            account: s.account === null ? null : norm(s.account),
            started_at: s.startedAt.getTime(),
            seen_at: Date.now(),
            kill_requested: 0,
          })
          .onConflict((oc) => oc.column('session_id').doNothing())
          .execute(),
      );
    },

    async updateLiveSession(sessionId, change) {
      const set: { account?: string | null; client_id?: string | null; tls?: string | null } = {};
      if (change.account !== undefined) set.account = change.account === null ? null : norm(change.account);
      if (change.clientId !== undefined) set.client_id = change.clientId;
      if (change.tls !== undefined) set.tls = change.tls;
      if (Object.keys(set).length === 0) return;
      await writes.run((tx) => tx.updateTable('live_sessions').set(set).where('session_id', '=', sessionId).execute());
    },

    async removeLiveSession(sessionId) {
      await writes.run((tx) => tx.deleteFrom('live_sessions').where('session_id', '=', sessionId).execute());
    },

    async finishSession(e) {
      await writes.run(async (tx) => {
        await tx.deleteFrom('live_sessions').where('session_id', '=', e.sessionId).execute();
        await tx
          .insertInto('session_history')
          .values({
            session_id: e.sessionId,
            account: e.account === null ? null : norm(e.account),
            protocol: e.protocol,
            node: e.node,
            client_ip: e.clientIp,
            client_id: e.clientId,
            tls: e.tls,
            login: e.login,
            started_at: e.startedAt.getTime(),
            ended_at: e.endedAt.getTime(),
            end_reason: e.endReason,
            bytes_in: Math.max(0, Math.round(e.bytesIn)),
            bytes_out: Math.max(0, Math.round(e.bytesOut)),
            commands: e.commands,
            traced: e.traced ? 1 : 0,
          })
          .execute();
      });
    },

    async refreshLiveSessions(node, now = new Date()) {
      return writes.run(async (tx) => {
        await tx.updateTable('live_sessions').set({ seen_at: now.getTime() }).where('node', '=', node).execute();
        const rows = await tx.selectFrom('live_sessions').select('session_id').where('node', '=', node).where('kill_requested', '=', 1).execute();
        return rows.map((r) => r.session_id);
      });
    },

    async listLiveSessions(options = {}) {
      let q = db.selectFrom('live_sessions').selectAll();
      if (options.seenSince) q = q.where('seen_at', '>=', options.seenSince.getTime());
      if (options.account !== undefined) q = q.where('account', '=', norm(options.account));
      const rows = await q.orderBy('started_at').orderBy('session_id').execute();
      return rows.map(toLive);
    },

    async getLiveSession(sessionId) {
      const row = await db.selectFrom('live_sessions').selectAll().where('session_id', '=', sessionId).executeTakeFirst();
      return row ? toLive(row) : undefined;
    },

    async requestKill(sessionId) {
      const res = await writes.run((tx) => tx.updateTable('live_sessions').set({ kill_requested: 1 }).where('session_id', '=', sessionId).executeTakeFirst());
      return Number(res.numUpdatedRows) > 0;
    },

    async listHistory(options) {
      let q = db.selectFrom('session_history').selectAll();
      if (options.account !== undefined) q = q.where('account', '=', norm(options.account));
      if (options.since) q = q.where('started_at', '>=', options.since.getTime());
      const rows = await q
        .orderBy('started_at', 'desc')
        .orderBy('id', 'desc')
        .limit(options.limit ?? 100)
        .execute();
      return rows.map(toHistory);
    },

    async startTrace(account, until, bodies, now = new Date()) {
      const key = norm(account);
      return writes.run(async (tx) => {
        const old = await tx.selectFrom('trace_switches').selectAll().where('account', '=', key).executeTakeFirst();
        if (old && Number(old.until_at) > now.getTime()) {
          await tx.updateTable('trace_switches').set({ until_at: until.getTime(), bodies: bodies ? 1 : 0 }).where('account', '=', key).execute();
          return { ...toSwitch(old), until, bodies };
        }
        if (old) {
          await tx.deleteFrom('trace_lines').where('account', '=', key).execute();
          await tx.deleteFrom('trace_switches').where('account', '=', key).execute();
        }
        const row = { account: key, until_at: until.getTime(), bodies: bodies ? 1 : 0, bytes: 0, created_at: now.getTime() };
        await tx.insertInto('trace_switches').values(row).execute();
        return toSwitch(row);
      });
    },

    async stopTrace(account, now = new Date()) {
      const res = await writes.run((tx) =>
        tx
          .updateTable('trace_switches')
          .set({ until_at: now.getTime() })
          .where('account', '=', norm(account))
          .where('until_at', '>', now.getTime())
          .executeTakeFirst(),
      );
      return Number(res.numUpdatedRows) > 0;
    },

    async getTrace(account) {
      const row = await db.selectFrom('trace_switches').selectAll().where('account', '=', norm(account)).executeTakeFirst();
      return row ? toSwitch(row) : undefined;
    },

    async activeTraces(now = new Date()) {
      const rows = await db.selectFrom('trace_switches').selectAll().where('until_at', '>', now.getTime()).orderBy('account').execute();
      return rows.map(toSwitch);
    },

    async appendTrace(account, lines, limits, now = new Date()) {
      if (lines.length === 0) return true;
      const key = norm(account);
      const bytes = lines.reduce((n, l) => n + lineBytes(l), 0);
      return writes.run(async (tx) => {
        const sw = await tx.selectFrom('trace_switches').selectAll().where('account', '=', key).executeTakeFirst();
        if (!sw || Number(sw.until_at) <= now.getTime()) return false;
        if (Number(sw.bytes) + bytes > limits.maxBytes) return false;
        const total = await tx
          .selectFrom('trace_switches')
          .select((eb) => eb.fn.sum<number | string | null>('bytes').as('total'))
          .executeTakeFirst();
        if (Number(total?.total ?? 0) + bytes > limits.totalMaxBytes) return false;
        await tx
          .insertInto('trace_lines')
          .values(lines.map((l) => ({ account: key, session_id: l.sessionId, protocol: l.protocol, at: l.at.getTime(), direction: l.direction, line: l.line })))
          .execute();
        await tx
          .updateTable('trace_switches')
          .set((eb) => ({ bytes: eb('bytes', '+', bytes) }))
          .where('account', '=', key)
          .execute();
        return true;
      });
    },

    async readTrace(account, options = {}) {
      let q = db.selectFrom('trace_lines').selectAll().where('account', '=', norm(account));
      if (options.sessionId !== undefined) q = q.where('session_id', '=', options.sessionId);
      const rows = await q
        .orderBy('id')
        .limit(options.limit ?? 100_000)
        .execute();
      return rows.map(toLine);
    },

    async prune(o) {
      return writes.run(async (tx) => {
        const history = Number((await tx.deleteFrom('session_history').where('ended_at', '<', o.historyBefore.getTime()).executeTakeFirst()).numDeletedRows);
        // The per-account cap: accounts over it lose their oldest rows.
        let capped = 0;
        const over = await tx
          .selectFrom('session_history')
          .select(['account', (eb) => eb.fn.countAll<number | string>().as('n')])
          .where('account', 'is not', null)
          .groupBy('account')
          .having((eb) => eb.fn.countAll(), '>', o.historyMaxPerAccount)
          .execute();
        for (const row of over) {
          const keep = await tx
            .selectFrom('session_history')
            .select('id')
            .where('account', '=', row.account)
            .orderBy('id', 'desc')
            .offset(o.historyMaxPerAccount - 1)
            .limit(1)
            .executeTakeFirst();
          if (!keep) continue;
          const res = await tx.deleteFrom('session_history').where('account', '=', row.account).where('id', '<', keep.id).executeTakeFirst();
          capped += Number(res.numDeletedRows);
        }
        const ended = await tx.selectFrom('trace_switches').select('account').where('until_at', '<', o.tracesBefore.getTime()).execute();
        let lines = 0;
        for (const { account } of ended) {
          lines += Number((await tx.deleteFrom('trace_lines').where('account', '=', account).executeTakeFirst()).numDeletedRows);
          await tx.deleteFrom('trace_switches').where('account', '=', account).execute();
        }
        const live = Number((await tx.deleteFrom('live_sessions').where('seen_at', '<', o.liveBefore.getTime()).executeTakeFirst()).numDeletedRows);
        return { history: history + capped, traces: ended.length, lines, live };
      });
    },
  };
}
