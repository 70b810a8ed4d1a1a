// The POP3 session state machine (RFC 1939 3): AUTHORIZATION → TRANSACTION →
// UPDATE. The state is a tagged union so a handler can only reach a maildrop
// once one is locked and loaded.
//
// Rules:
// - Nothing here writes to a socket: handlers (commands.ts) return Responses
//   and the server (server.ts) sends them.
// - Leaving without QUIT (drop, timeout, shutdown, crash) deletes nothing
//   (RFC 1939 6: the UPDATE state is entered only from QUIT).
// - \Seen marks are written as messages are retrieved, coalesced so that at
//   most one flag write per session is in flight.

import type { Store } from '../store/store.js';
import type { SaslExchange } from '../auth/sasl.js';
import type { LoginThrottle } from '../auth/authenticator.js';
import type { Maildrop, MaildropLock, MaildropMessage, WireSizeCache } from './maildrop.js';
import type { SessionObserver, SessionRecorder } from '../sessions/recorder.js';

export interface Pop3Logger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
  debug(o: object, msg?: string): void;
}

/** What a session needs from the server's configuration. */
export interface SessionConfig {
  store: Store;
  logger: Pop3Logger;
  hostname: string;
  tlsAvailable: boolean;
  allowPlaintext: (remoteAddress: string, secure: boolean) => boolean;
  markSeenOnRetr: boolean;
  loginDelaySeconds?: number;
  authFailureDelayMs?: number;
  throttle?: LoginThrottle;
  wireSizes: WireSizeCache;
  /** Per-process record of the last login per account, for LOGIN-DELAY (RFC 2449 6.8). */
  lastLogin: Map<number, number>;
  /** A unique lease holder name for a new session. */
  newHolder: () => string;
  /** Session history, traces and protocol counters (src/sessions). */
  sessions?: SessionRecorder;
}

export interface ConnectionInfo {
  id: string;
  remoteAddress: string;
  secure: boolean;
}

export type SessionState =
  | { kind: 'authorization'; user?: string; sasl?: SaslExchange }
  | { kind: 'transaction'; maildrop: Maildrop; lock: MaildropLock; seen: SeenMarker }
  | { kind: 'update' }
  | { kind: 'closed' };

/** One reply. A multi-line body is either `lines` (dot-stuffed when sent) or a message streamed from its blob. */
export interface Response {
  status: string;
  lines?: string[];
  message?: { msg: MaildropMessage; maildrop: Maildrop; topLines?: number; markSeen: boolean };
  /** What the server does after sending. */
  then?: 'starttls' | 'close';
  /** Wait this long before sending (failed logins). */
  delayMs?: number;
}

export class Pop3Session {
  state: SessionState = { kind: 'authorization' };
  /** Consecutive bad commands; the server hangs up when there are too many. */
  badCommands = 0;

  /** What this session reports to the session recorder, when there is one. */
  observer: SessionObserver | undefined;

  constructor(
    readonly config: SessionConfig,
    readonly conn: ConnectionInfo,
  ) {}

  get plaintextAllowed(): boolean {
    return this.conn.secure || this.config.allowPlaintext(this.conn.remoteAddress, this.conn.secure);
  }

  /** After STLS: RFC 2595 4 — forget everything learnt before the handshake. */
  tlsStarted(): void {
    this.conn.secure = true;
    this.state = { kind: 'authorization' };
  }

  /**
   * Ends the session without an UPDATE state: marks stay marks, the lock is
   * released. Safe to call more than once.
   */
  async close(): Promise<void> {
    const st = this.state;
    this.state = { kind: 'closed' };
    if (st.kind !== 'transaction') return;
    await st.seen.flush();
    try {
      await st.lock.release();
    } catch (err) {
      // The lease expires by itself within its TTL.
      this.config.logger.warn({ session: this.conn.id, err }, 'POP3 maildrop lease release failed');
    }
  }
}

/**
 * Writes \Seen for retrieved messages. Marks wait up to SEEN_BATCH_MS so that
 * a client fetching many messages costs a few flag commits, not one each;
 * QUIT and disconnects flush at once.
 */
export class SeenMarker {
  private readonly pending = new Set<number>();
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly mailboxId: number,
    private readonly logger: Pop3Logger,
  ) {}

  add(uid: number): void {
    this.pending.add(uid);
    if (this.running || this.timer) return;
    this.timer = setTimeout(() => this.start(), SEEN_BATCH_MS);
  }

  async flush(): Promise<void> {
    if (this.timer) this.start();
    await this.running;
  }

  private start(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.running ??= this.drain();
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0) {
      const uids = [...this.pending];
      this.pending.clear();
      try {
        await this.store.updateFlags(this.mailboxId, { uids, operation: 'add', flags: ['\\Seen'], keywords: [] });
      } catch (err) {
        // Not worth failing a download over; IMAP just shows them unread.
        this.logger.warn({ mailboxId: this.mailboxId, uids, err }, 'POP3 could not mark retrieved messages \\Seen');
      }
    }
    this.running = undefined;
  }
}

const SEEN_BATCH_MS = 200;
