// What the IMAP server is given by whoever starts it (src/server.ts at merge
// time, tests now): everything by injection, nothing read from globals.

import type { Account, Mailbox } from '../store/types.js';
import type { SecureContext, SecureVersion } from 'node:tls';
import type { Store } from '../store/store.js';
import type { SessionRecorder } from '../sessions/recorder.js';

export interface ImapLogger {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
  debug(o: object, m?: string): void;
}

/** `delayMs`: the shared throttle's delay for this failure (src/auth/throttle.ts). */
export type AuthResult = { ok: true; account: Account } | { ok: false; reason: 'bad-credentials' | 'disabled' | 'throttled'; delayMs?: number };

export interface ImapLimits {
  /** Longest command line (excluding literals). */
  maxLineBytes: number;
  /** Largest literal, hence largest APPEND (advertised as APPENDLIMIT). */
  maxLiteralBytes: number;
  /** Inactivity before `* BYE Autologout`; IDLE waits at least 30 minutes (RFC 9051 5.4). */
  idleTimeoutMs: number;
  maxConnectionsPerIp: number;
  /** A command line started and not completed within this ends the connection (literals excepted). */
  commandTimeoutMs?: number;
  /** Delay before answering a failed login (default 1000 ms). */
  authFailureDelayMs?: number;
  /** Interval of `* OK Still here` during IDLE (default 120000 ms). */
  idleKeepaliveMs?: number;
  /** RFC 5464 METADATA: largest entry value (default 65536 bytes). */
  metadataMaxEntryBytes?: number;
  /** RFC 5464 METADATA: most entries on one mailbox, or on the server, per account (default 100). */
  metadataMaxEntries?: number;
  /** RFC 5465 NOTIFY: most notifications queued for a client before `[NOTIFICATIONOVERFLOW]` (default 1000). */
  notifyMaxPending?: number;
}

/**
 * The certificate: key/cert is the default (clients without SNI); SNICallback, when
 * given, chooses by the requested name; onDefaultChange reports a reloaded default.
 */
export interface ImapTls {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  SNICallback?: (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;
  onDefaultChange?: (listener: () => void) => () => void;
  /** Legacy clients (tls.legacy_versions_on): the lowest version (default TLS 1.2) and the cipher list. */
  minVersion?: SecureVersion;
  ciphers?: string;
}

export interface ImapOptions {
  store: Store;
  logger: ImapLogger;
  hostname: string;
  tls?: ImapTls;
  implicitTls?: boolean;
  allowPlaintext: (remoteAddress: string, secure: boolean) => boolean;
  authenticate: (username: string, password: string, remoteAddress: string) => Promise<AuthResult>;
  limits: ImapLimits;
  /** Told after every COPY or MOVE that committed (the filter learns from Junk moves). */
  onTransfer?: (t: { accountId: number; fromMailboxId: number; to: Mailbox; uids: number[] }) => void;
  /** Capabilities the operator switched off (e.g. for one account's broken client); never advertised. */
  disabledCapabilities?: (account: Account | null) => readonly string[];
  /** Session history, traces and protocol counters (src/sessions). */
  sessions?: SessionRecorder;
}
