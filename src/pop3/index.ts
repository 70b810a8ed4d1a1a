// The POP3 server (RFC 1939, RFC 2449, RFC 2595, RFC 3206, RFC 5034).
// Everything comes in by injection: the store, a logger, TLS material and
// policy; `serve` wires it to the configuration.

import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import type { Store } from '../store/store.js';
import type { LoginThrottle } from '../auth/authenticator.js';
import { processWireSizes, type WireSizeCache } from './maildrop.js';
import { Pop3Listener, type Pop3Tls } from './server.js';

export type { Pop3Tls } from './server.js';
import type { Pop3Logger } from './session.js';
import type { SessionRecorder } from '../sessions/recorder.js';

export interface Pop3Options {
  store: Store;
  logger: Pop3Logger;
  hostname: string;
  /** Enables STLS on the plain port and is required for implicit TLS. */
  tls?: Pop3Tls;
  /** POP3S: TLS from the first byte (RFC 8314). */
  implicitTls?: boolean;
  /** Whether USER/PASS and AUTH PLAIN/LOGIN are allowed without TLS from this address. */
  allowPlaintext: (remoteAddress: string, secure: boolean) => boolean;
  /** Mark retrieved messages \Seen (default true). */
  markSeenOnRetr: boolean;
  /** Advertised (RFC 2449 6.8) and enforced per process when set. */
  loginDelaySeconds?: number;
  idleTimeoutMs: number;
  /** A command line started and not completed within this ends the connection. */
  commandTimeoutMs?: number;
  /** Longest accepted command line, CRLF included (RFC 2449 4 says 255; be generous). */
  maxLineBytes: number;
  maxConnectionsPerIp: number;
  /** Least delay before answering a failed login. */
  authFailureDelayMs?: number;
  /** Failure throttle; defaults to the process-wide one. */
  throttle?: LoginThrottle;
  /** Wire-size cache; defaults to the process-wide one. */
  wireSizes?: WireSizeCache;
  /** Session history, traces and protocol counters. */
  sessions?: SessionRecorder;
}

export interface Pop3Server {
  listen(host: string, port: number): Promise<{ address: string; port: number }>;
  /** Stops accepting, closes idle sessions now and busy ones within `graceMs`. */
  close(graceMs: number): Promise<void>;
  connections(): number;
}

export function createPop3Server(opts: Pop3Options): Pop3Server {
  const node = `${osHostname()}:${process.pid}`;
  let sessions = 0;
  const listener = new Pop3Listener({
    store: opts.store,
    logger: opts.logger,
    hostname: opts.hostname,
    tls: opts.tls,
    implicitTls: opts.implicitTls ?? false,
    tlsAvailable: opts.tls !== undefined,
    allowPlaintext: opts.allowPlaintext,
    markSeenOnRetr: opts.markSeenOnRetr,
    loginDelaySeconds: opts.loginDelaySeconds,
    idleTimeoutMs: opts.idleTimeoutMs,
    ...(opts.commandTimeoutMs !== undefined ? { commandTimeoutMs: opts.commandTimeoutMs } : {}),
    maxLineBytes: opts.maxLineBytes,
    maxConnectionsPerIp: opts.maxConnectionsPerIp,
    authFailureDelayMs: opts.authFailureDelayMs,
    throttle: opts.throttle,
    wireSizes: opts.wireSizes ?? processWireSizes,
    lastLogin: new Map(),
    ...(opts.sessions ? { sessions: opts.sessions } : {}),
    newHolder: () => `${node}:${++sessions}:${randomBytes(4).toString('hex')}`,
  });
  return {
    listen: (host, port) => listener.listen(host, port),
    close: (graceMs) => listener.close(graceMs),
    connections: () => listener.connections(),
  };
}

export { WireEncoder, encodeMessage } from './wire.js';
