// The session observer: every protocol session (SMTP, POP3, IMAP, ManageSieve, webmail
// sign-in) reports to one SessionObserver what happens to it; the process's
// SessionRecorder turns that into
//   - counters (always; read by /metrics): commands per protocol and command, error
//     replies, failed logins, sessions ended per reason;
//   - the live session list (a store row at the start, refreshed by a heartbeat, removed
//     at the end) and the history row (written once, at the end);
//   - a protocol trace, only while the account's trace is switched on.
//
// Rules:
// - The hot path is cheap: a command costs a map increment. Trace text is built only when
//   the session is being traced (callers pass thunks), and before login only while some
//   trace is on at all (the account is not known yet; lines wait in a small buffer).
// - The switches are read from the store every TRACE_REFRESH_MS (one small query per
//   process), so a trace switched on or off elsewhere takes effect within seconds, and a
//   trace past its end stops recording by itself.
// - A kill request (any process, any node) reaches the owning process at its next
//   heartbeat; the protocol ends the session the way it ends an idle one.
// - Store failures here are logged, never thrown into a session.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { EndReason, LoginResult, NewTraceLine, SessionProtocol, TraceSwitch } from '../store/sql/sessions.js';
import { clip, summariseBody } from './mask.js';

export type { EndReason, SessionProtocol } from '../store/sql/sessions.js';

export const TRACE_REFRESH_MS = 5000;
export const HEARTBEAT_MS = 5000;
const PRUNE_EVERY_MS = 3600_000;
/** Lines kept before login while a trace is on somewhere (the account is not known yet). */
const PRELOGIN_LINES = 200;
const FLUSH_MS = 500;

/** Counted by name; anything else counts as "other" (bounded label values). */
const KNOWN_COMMANDS: Record<string, ReadonlySet<string>> = {
  imap: new Set(
    'CAPABILITY NOOP LOGOUT STARTTLS AUTHENTICATE LOGIN ENABLE SELECT EXAMINE CREATE DELETE RENAME SUBSCRIBE UNSUBSCRIBE LIST LSUB NAMESPACE STATUS APPEND IDLE CLOSE UNSELECT EXPUNGE SEARCH FETCH STORE COPY MOVE UID ID COMPRESS GETQUOTA GETQUOTAROOT SETQUOTA GETMETADATA SETMETADATA SORT THREAD ESEARCH CHECK GETACL MYRIGHTS LISTRIGHTS SETACL DELETEACL'.split(' '),
  ),
  pop3: new Set('CAPA NOOP QUIT USER PASS AUTH STLS APOP STAT LIST RETR DELE RSET TOP UIDL'.split(' ')),
  smtp: new Set('HELO EHLO LHLO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY EXPN HELP'.split(' ')),
  managesieve: new Set('AUTHENTICATE STARTTLS LOGOUT CAPABILITY HAVESPACE PUTSCRIPT LISTSCRIPTS SETACTIVE GETSCRIPT DELETESCRIPT RENAMESCRIPT CHECKSCRIPT NOOP UNAUTHENTICATE'.split(' ')),
  webmail: new Set(['LOGIN']),
};

/** The counter family a protocol's commands go to (inbound SMTP and submission share "smtp"). */
export function counterProtocol(p: SessionProtocol): string {
  return p === 'submission' ? 'smtp' : p;
}

export function commandLabel(protocol: SessionProtocol, name: string): string {
  const upper = name.toUpperCase();
  return KNOWN_COMMANDS[counterProtocol(protocol)]?.has(upper) ? upper : 'other';
}

/** Plain counts of this process; /metrics reads them at scrape time (summed over workers). */
export class SessionCounters {
  /** protocol → command → count */
  readonly commands = new Map<string, Map<string, number>>();
  /** protocol → kind (NO, BAD, -ERR, 4xx, 5xx) → count */
  readonly errors = new Map<string, Map<string, number>>();
  readonly authFailures = new Map<string, number>();
  /** protocol → end reason → count */
  readonly ended = new Map<string, Map<string, number>>();

  static inc(map: Map<string, Map<string, number>>, a: string, b: string): void {
    let inner = map.get(a);
    if (!inner) map.set(a, (inner = new Map<string, number>()));
    inner.set(b, (inner.get(b) ?? 0) + 1);
  }
}

export interface SessionLimits {
  historyDays: number;
  historyMaxPerAccount: number;
  traceMaxBytes: number;
  traceTotalMaxBytes: number;
  /** How long a trace's lines stay readable after it ended. */
  traceKeepHours: number;
}

export interface SessionStart {
  clientIp: string;
  tls?: string | null;
  /** Ends the session the protocol's way (a goodbye line, then close); called on a kill request. */
  onKill?: () => void;
  /** Bytes read and written so far, read at the end. */
  bytes?: () => { in: number; out: number };
}

export class SessionObserver {
  readonly id = randomBytes(8).toString('hex');
  readonly startedAt = new Date();
  private account: string | null = null;
  private loginResult: LoginResult = 'none';
  private clientIdText: string | null = null;
  private tlsVersion: string | null;
  private commands = 0;
  private endHint: EndReason | undefined;
  private ended = false;
  /** Lines waiting for the account (before login) or for the next flush. */
  private pending: NewTraceLine[] = [];
  private tracing: TraceSwitch | undefined;
  private traceStopped = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly counterName: string;

  constructor(
    private readonly recorder: SessionRecorder,
    readonly protocol: SessionProtocol,
    private readonly start: SessionStart,
  ) {
    this.tlsVersion = start.tls ?? null;
    this.counterName = counterProtocol(protocol);
  }

  /** True while lines are worth building: the session is traced, or may be once it logs in. */
  get recording(): boolean {
    if (this.traceStopped || this.ended) return false;
    if (this.tracing) return true;
    return this.loginResult === 'none' && this.recorder.anyTraceOn();
  }

  /** Bodies in full (the operator asked for them), else size + hash. */
  get bodies(): boolean {
    return this.tracing?.bodies ?? false;
  }

  kill(): void {
    this.endHint = 'killed';
    this.note('session ended by the administrator');
    this.start.onKill?.();
  }

  setClientId(text: string): void {
    const id = text.slice(0, 200);
    if (id === this.clientIdText) return;
    this.clientIdText = id;
    this.recorder.updateLive(this.id, { clientId: id });
  }

  setTls(version: string | null): void {
    this.tlsVersion = version;
    this.recorder.updateLive(this.id, { tls: version });
  }

  /** One command from the client: `name` for the counters, `line` (masked by the caller) only when recording. */
  command(name: string, line: () => string): void {
    this.commands++;
    SessionCounters.inc(this.recorder.counters.commands, this.counterName, commandLabel(this.protocol, name));
    if (this.recording) this.add('C', line());
  }

  /** A line from the client that is not a command (a SASL response, a DATA body, …). */
  clientLine(line: () => string): void {
    if (this.recording) this.add('C', line());
  }

  /** A message body the client sent: summarised unless the trace asked for bodies. */
  body(data: () => Buffer): void {
    if (!this.recording) return;
    const buf = data();
    this.add('C', this.bodies ? clip(buf.toString('utf8'), 1_000_000) : `<message body ${summariseBody(buf)}>`);
  }

  /** A reply; `error` is its kind for the error counter (NO, BAD, -ERR, 4xx, 5xx). */
  reply(text: () => string, error?: string): void {
    if (error) SessionCounters.inc(this.recorder.counters.errors, this.counterName, error);
    if (this.recording) this.add('S', clip(text()));
  }

  /** A note of the recorder itself (a body summarised, a kill). */
  note(text: string): void {
    if (this.recording) this.add('*', text);
  }

  login(account: string, ok: boolean): void {
    const name = account.toLowerCase().slice(0, 320);
    if (!ok) {
      const failures = this.recorder.counters.authFailures;
      failures.set(this.counterName, (failures.get(this.counterName) ?? 0) + 1);
    }
    // The first successful login names the session; a failure names it until then.
    if (this.loginResult !== 'ok') {
      this.account = name;
      this.loginResult = ok ? 'ok' : 'failed';
      if (ok) this.recorder.updateLive(this.id, { account: name });
    }
    if (!this.tracing && !this.traceStopped) {
      this.tracing = this.recorder.traceOf(name);
      if (!this.tracing) this.pending = [];
      else this.scheduleFlush();
    }
  }

  /** How the session is ending, when the protocol knows before the socket closes. */
  hint(reason: EndReason): void {
    this.endHint ??= reason;
  }

  /** The session is over; `reason` unless a hint said otherwise. Idempotent. */
  end(reason: EndReason = 'dropped'): void {
    if (this.ended) return;
    const final = this.endHint ?? reason;
    this.note(`session ended: ${final}`);
    this.ended = true;
    clearTimeout(this.flushTimer);
    SessionCounters.inc(this.recorder.counters.ended, this.counterName, final);
    const bytes = this.start.bytes?.() ?? { in: 0, out: 0 };
    const flushed = this.tracing ? this.flush() : Promise.resolve();
    this.recorder.finish(this, flushed, {
      sessionId: this.id,
      account: this.account,
      protocol: this.protocol,
      node: this.recorder.node,
      clientIp: this.start.clientIp,
      clientId: this.clientIdText,
      tls: this.tlsVersion,
      login: this.loginResult,
      startedAt: this.startedAt,
      endedAt: new Date(),
      endReason: final,
      bytesIn: bytes.in,
      bytesOut: bytes.out,
      commands: this.commands,
      traced: this.tracing !== undefined,
    });
  }

  private add(direction: NewTraceLine['direction'], line: string): void {
    this.pending.push({ sessionId: this.id, protocol: this.protocol, at: new Date(), direction, line });
    if (!this.tracing) {
      if (this.pending.length > PRELOGIN_LINES) this.pending.shift();
      return;
    }
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.ended) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, FLUSH_MS);
    this.flushTimer.unref();
  }

  private flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const account = this.account;
      if (!account || this.pending.length === 0 || this.traceStopped) return;
      const lines = this.pending;
      this.pending = [];
      if (!(await this.recorder.appendTrace(account, lines))) this.traceStopped = true;
    });
    return this.flushing;
  }
}

export interface SessionRecorderOptions {
  store: Store;
  logger: Logger;
  /** This process's name in the live list: `host:pid`. */
  node: string;
  limits: SessionLimits;
  counters?: SessionCounters;
}

/** One per process: counters, trace switches, the live rows and the heartbeat. */
export class SessionRecorder {
  readonly counters: SessionCounters;
  readonly node: string;
  private readonly store: Store;
  private readonly log: Logger;
  private readonly live = new Map<string, SessionObserver>();
  private switches = new Map<string, TraceSwitch>();
  private readonly writes = new Set<Promise<unknown>>();
  private timers: NodeJS.Timeout[] = [];
  private lastPrune = 0;
  private stopped = false;

  constructor(private readonly options: SessionRecorderOptions) {
    this.store = options.store;
    this.node = options.node;
    this.log = options.logger.child({ component: 'sessions' });
    this.counters = options.counters ?? new SessionCounters();
  }

  /** A new session; its live row is written in the background. */
  open(protocol: SessionProtocol, start: SessionStart): SessionObserver {
    const observer = new SessionObserver(this, protocol, start);
    this.live.set(observer.id, observer);
    this.background(
      this.store.sessions.addLiveSession({ sessionId: observer.id, node: this.node, protocol, clientIp: start.clientIp, clientId: null, tls: start.tls ?? null, account: null, startedAt: observer.startedAt }),
    );
    return observer;
  }

  /** Sessions of this process now open. */
  openSessions(): SessionObserver[] {
    return [...this.live.values()];
  }

  anyTraceOn(): boolean {
    return this.switches.size > 0;
  }

  traceOf(account: string): TraceSwitch | undefined {
    const sw = this.switches.get(account);
    return sw && sw.until.getTime() > Date.now() ? sw : undefined;
  }

  /** Re-reads the trace switches now (the timer does it every few seconds). */
  async refreshTraces(): Promise<void> {
    try {
      const active = await this.store.sessions.activeTraces();
      this.switches = new Map(active.map((t) => [t.account, t]));
    } catch (err) {
      this.log.warn({ err }, 'trace switches not read');
    }
  }

  updateLive(id: string, change: { account?: string; clientId?: string; tls?: string | null }): void {
    this.background(this.store.sessions.updateLiveSession(id, change));
  }

  /** One webmail API request of a traced account: method, path and status; bodies as size only. */
  traceRequest(account: string, sessionId: string, request: { method: string; url: string; headers: Record<string, unknown> }, status: number, replyBytes: number): void {
    const at = new Date();
    const length = Number(request.headers['content-length'] ?? 0);
    const lines: NewTraceLine[] = [
      { sessionId, protocol: 'webmail', at, direction: 'C', line: `${request.method} ${clip(request.url, 500)}${length > 0 ? ` <body ${length} bytes>` : ''}` },
      { sessionId, protocol: 'webmail', at, direction: 'S', line: `${status}${replyBytes > 0 ? ` <${replyBytes} bytes>` : ''}` },
    ];
    this.background(this.appendTrace(account, lines));
  }

  appendTrace(account: string, lines: NewTraceLine[]): Promise<boolean> {
    const { traceMaxBytes, traceTotalMaxBytes } = this.options.limits;
    return this.store.sessions.appendTrace(account, lines, { maxBytes: traceMaxBytes, totalMaxBytes: traceTotalMaxBytes }).catch((err: unknown) => {
      this.log.warn({ err, account }, 'trace lines not stored');
      return false;
    });
  }

  finish(observer: SessionObserver, flushed: Promise<void>, entry: Parameters<Store['sessions']['finishSession']>[0]): void {
    this.live.delete(observer.id);
    // Inbound SMTP (the MX) has no account: counted and listed while open, no history row.
    if (observer.protocol === 'smtp' && entry.login === 'none') this.background(this.store.sessions.removeLiveSession(observer.id));
    else this.background(flushed.then(() => this.store.sessions.finishSession(entry)));
  }

  /** Acts on kill requests, keeps the live rows fresh, re-reads switches, prunes hourly. */
  start(): void {
    this.stopped = false;
    void this.refreshTraces();
    const every = (ms: number, work: () => Promise<void>) => {
      const t = setInterval(() => void work(), ms);
      t.unref();
      this.timers.push(t);
    };
    every(TRACE_REFRESH_MS, () => this.refreshTraces());
    every(HEARTBEAT_MS, () => this.heartbeat());
    every(60_000, () => this.maybePrune());
    void this.maybePrune();
  }

  async heartbeat(): Promise<void> {
    try {
      const kills = await this.store.sessions.refreshLiveSessions(this.node);
      for (const id of kills) {
        const observer = this.live.get(id);
        if (observer) {
          this.log.info({ session: id, protocol: observer.protocol }, 'session ended on request');
          observer.kill();
        }
      }
    } catch (err) {
      this.log.warn({ err }, 'live sessions not refreshed');
    }
  }

  async maybePrune(now = Date.now()): Promise<void> {
    if (this.stopped || now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    try {
      // One process of the farm prunes at a time.
      if (!(await this.store.acquireLease('sessions:prune', this.node, 10 * 60_000))) return;
      const l = this.options.limits;
      const pruned = await this.store.sessions.prune({
        historyBefore: new Date(now - l.historyDays * 86_400_000),
        historyMaxPerAccount: l.historyMaxPerAccount,
        tracesBefore: new Date(now - l.traceKeepHours * 3600_000),
        liveBefore: new Date(now - 6 * HEARTBEAT_MS),
      });
      if (pruned.history + pruned.traces + pruned.live > 0) this.log.debug(pruned, 'old sessions and traces pruned');
    } catch (err) {
      this.log.warn({ err }, 'sessions not pruned');
    }
  }

  /** Stops the timers and waits for the rows being written. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
  }

  private background(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => this.log.warn({ err }, 'session row not written'));
    this.writes.add(tracked);
    void tracked.finally(() => this.writes.delete(tracked));
  }
}
