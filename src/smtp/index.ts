// SMTP listeners: inbound MX (RFC 5321), submission with STARTTLS (RFC 6409, RFC 3207)
// and submission over implicit TLS (RFC 8314). smtp-server speaks the protocol; this
// module decides who may send what, and deliver.ts stores it.
//
// Rules:
// - Every RCPT is decided at RCPT time (recipients.ts); DATA never bounces later.
// - 250 after DATA only when every copy is durable (deliver.ts).
// - A failure inside a handler becomes that session's reply (451 4.3.0 for the
//   unexpected), never an exception that could take down the process.
// - No AUTH on the MX; on submission, no AUTH before TLS unless allowPlaintextAuth.

import type { SecureContext, SecureVersion } from 'node:tls';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { Store } from '../store/store.js';
import type { Account } from '../store/types.js';
import { dnsLookup, verifyInbound } from './auth-results.js';
import { deliverMessage, type DeliveryDeps, type Logger } from './deliver.js';
import type { SieveDeliveryOptions } from '../sieve/deliver-hook.js';
import type { Srs } from '../sieve/srs.js';
import { patchSmtpServer, refusePlaintextAuth, setCommandTimeout } from './library.js';
import { readMessage } from './message-reader.js';
import { QuotaDeferrals, resolveRecipient, type ResolvedRecipient } from './recipients.js';
import { ConnectionRate } from './connection-rate.js';
import { SmtpReply, reply } from './replies.js';
import { authenticateClient, checkSenderOwned, type Authenticate } from './submission.js';
import { ConnectionsPerIp } from '../net/per-ip.js';
import type { SessionRecorder } from '../sessions/recorder.js';
import { observeSession, observerOf } from './library.js';

export type { Logger } from './deliver.js';
export type { Authenticate } from './submission.js';
export { SmtpReply } from './replies.js';

export interface SmtpLimits {
  /** Largest message accepted (advertised with SIZE, RFC 1870). */
  maxMessageBytes: number;
  /** Recipients per transaction; more get 452 4.5.3 (RFC 5321 4.5.3.1.8). */
  maxRecipients: number;
  /** Longest command or text line, CRLF included (RFC 5321 4.5.3.1.4-6 minimums: 512/1000). */
  maxLineBytes: number;
  /** Concurrent connections from one IP address; more get 421 4.7.0. */
  maxConnectionsPerIp: number;
  /** New connections from one IP address per minute (0 or absent: no limit); more get 421 4.7.0. */
  maxConnectionsPerIpPerMinute?: number;
  /** Idle time before the server closes the connection (RFC 5321 4.5.3.2.7). */
  idleTimeoutMs: number;
  /** A line started and not completed within this ends the connection (slowloris). */
  commandTimeoutMs?: number;
  /** A message with this many Received headers is a loop: 554 5.4.6 (RFC 5321 6.3). */
  maxReceivedHeaders: number;
}

export interface SmtpOptions {
  store: Store;
  logger: Logger;
  /** Our host name: greeting, Received "by", Authentication-Results authserv-id. */
  hostname: string;
  tls?: SmtpTls;
  limits: SmtpLimits;
  /** [] = system resolvers; else "ip" or "ip:port" for SPF/DKIM/DMARC/ARC lookups. */
  dnsServers: string[];
  /** Reject (550 5.7.1) mail failing DMARC with policy reject; default: accept and mark. */
  dmarcRejectEnforced: boolean;
  allowPlaintextAuth: (remoteAddress: string, secure: boolean) => boolean;
  authenticate: Authenticate;
  /** Also store submitted mail in the sender's Sent mailbox (clients usually APPEND it). */
  copyToSent?: boolean;
  /** The operator's mailbox for postmaster@ every hosted domain that has none (RFC 5321 4.5.1). */
  postmaster?: string;
  /** Inbound only: the spam and virus filter's verdict (src/filter/hook.ts). */
  filter?: DeliveryDeps['filter'];
  /** Sieve limits at delivery; defaults when not given. */
  sieve?: SieveDeliveryOptions;
  /** Sender rewriting for Sieve redirects, and the way back for their bounces. */
  srs?: Srs;
  /** Session history, traces and protocol counters (src/sessions). */
  sessions?: SessionRecorder;
}

/**
 * The certificate: key/cert is the default (clients without SNI); SNICallback, when
 * given, chooses by the requested name; onDefaultChange reports a reloaded default.
 */
export interface SmtpTls {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  SNICallback?: (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;
  onDefaultChange?: (listener: () => void) => () => void;
  /** Legacy clients (tls.legacy_versions_on): the lowest version and the cipher list. */
  minVersion?: SecureVersion;
  ciphers?: string;
}

export type SmtpListenerKind = 'inbound' | 'submission' | 'submissions';

export interface SmtpListener {
  listen(host: string, port: number): Promise<{ address: string; port: number }>;
  /** Stops accepting, waits up to graceMs for sessions, then for deliveries in progress. */
  close(graceMs: number): Promise<void>;
}

interface SessionState {
  account: Account | null;
  /** Resolved RCPT TO addresses of the current transaction, by lower-cased address. */
  recipients: Map<string, ResolvedRecipient>;
  sizeHint: number;
  countedIp: boolean;
}

export function createSmtpListener(kind: SmtpListenerKind, opts: SmtpOptions): SmtpListener {
  patchSmtpServer();
  if (kind === 'submissions' && !opts.tls) throw new Error('the submissions listener (implicit TLS) needs a certificate');
  const { store, logger, limits } = opts;
  const sessions = new WeakMap<SMTPServerSession, SessionState>();
  const perIp = new ConnectionsPerIp(limits.maxConnectionsPerIp);
  const rate = new ConnectionRate(limits.maxConnectionsPerIpPerMinute ?? 0, 60_000);
  const inflight = new Set<Promise<unknown>>();
  const deferrals = new QuotaDeferrals();
  const lookup = dnsLookup(opts.dnsServers);
  const deps: DeliveryDeps = {
    store,
    logger,
    hostname: opts.hostname,
    maxMessageBytes: limits.maxMessageBytes,
    maxReceivedHeaders: limits.maxReceivedHeaders,
    dmarcRejectEnforced: opts.dmarcRejectEnforced,
    copyToSent: opts.copyToSent ?? false,
    deferrals,
    verify: kind === 'inbound' ? (input) => verifyInbound(input, lookup) : null,
    filter: kind === 'inbound' ? (opts.filter ?? null) : null,
    ...(opts.sieve ? { sieve: opts.sieve } : {}),
    ...(opts.srs ? { srs: opts.srs } : {}),
  };

  const stateOf = (session: SMTPServerSession): SessionState => {
    let st = sessions.get(session);
    if (!st) {
      st = { account: null, recipients: new Map(), sizeHint: 0, countedIp: false };
      sessions.set(session, st);
    }
    return st;
  };

  /** Runs an async handler and answers smtp-server's callback with its result or reply. */
  const settle = <T>(work: Promise<T>, session: SMTPServerSession, cb: (err: Error | null, value?: T) => void): void => {
    const p = work.then(
      (value) => cb(null, value),
      (err: unknown) => {
        if (err instanceof SmtpReply) return cb(err);
        // smtp-server ends the DATA stream with ECONNECTION when the client goes away mid-message.
        if ((err as { code?: unknown } | null)?.code === 'ECONNECTION') logger.debug({ session: session.id }, 'smtp client left during DATA');
        else logger.error({ err, session: session.id }, 'smtp handler failed');
        cb(reply.storeFailure(err));
      },
    );
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  const disabled = kind === 'inbound' ? ['AUTH'] : [];
  if (kind !== 'submission' && kind !== 'inbound') disabled.push('STARTTLS');
  if (!opts.tls) disabled.push('STARTTLS');

  const options: SMTPServerOptions = {
    name: opts.hostname,
    banner: 'Steadymail',
    secure: kind === 'submissions',
    ...(opts.tls ? { key: opts.tls.key, cert: opts.tls.cert } : {}),
    ...(opts.tls?.SNICallback ? { SNICallback: opts.tls.SNICallback } : {}),
    ...(opts.tls?.minVersion ? { minVersion: opts.tls.minVersion } : {}),
    ...(opts.tls?.ciphers ? { ciphers: opts.tls.ciphers } : {}),
    logger: false,
    disableReverseLookup: true,
    size: limits.maxMessageBytes,
    maxRecipients: limits.maxRecipients,
    maxCommandLength: limits.maxLineBytes,
    socketTimeout: limits.idleTimeoutMs,
    // EHLO: PIPELINING, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, SIZE, STARTTLS. No DSN
    // or REQUIRETLS until the queue can honour them; smtp-server has no CHUNKING.
    hideENHANCEDSTATUSCODES: false,
    hideDSN: true,
    hideREQUIRETLS: true,
    disabledCommands: disabled,
    authMethods: ['PLAIN', 'LOGIN'],
    // Plaintext AUTH is decided per session (library.ts), not for the whole server.
    allowInsecureAuth: true,
    authOptional: false,

    onConnect(session, cb) {
      const st = stateOf(session);
      const ip = session.remoteAddress;
      if (perIp.full(ip) || !rate.admit(ip)) return cb(reply.tooManyConnections());
      perIp.tryOpen(ip);
      st.countedIp = true;
      if (opts.sessions) {
        // The connection object, for its socket's byte counts and for ending it on request.
        const connection = [...server.connections].find((c) => c.session === session);
        const socket = connection?._socket;
        const observer = opts.sessions.open(kind === 'inbound' ? 'smtp' : 'submission', {
          clientIp: ip,
          tls: socket && 'getProtocol' in socket ? socket.getProtocol() : null,
          bytes: () => ({ in: socket?.bytesRead ?? 0, out: socket?.bytesWritten ?? 0 }),
          onKill: () => {
            connection?.send(421, `4.3.2 ${opts.hostname} Session ended by the administrator`);
            connection?.close();
          },
        });
        observeSession(session, observer);
      }
      if (kind === 'submission') refusePlaintextAuth(session, !opts.allowPlaintextAuth(ip, false));
      cb();
    },

    onSecure(socket, session, cb) {
      refusePlaintextAuth(session, false);
      observerOf(session)?.setTls('getProtocol' in socket ? socket.getProtocol() : null);
      cb();
    },

    onClose(session) {
      observerOf(session)?.end('dropped');
      const st = sessions.get(session);
      if (!st?.countedIp) return;
      st.countedIp = false;
      perIp.close(session.remoteAddress);
    },

    onAuth(auth, session, cb) {
      if (kind === 'inbound') return cb(reply.authFailed());
      // RFC 4616 2: acting as another identity (authzid) is not something accounts may do.
      if (auth.authzid && auth.username && auth.authzid.toLowerCase() !== auth.username.toLowerCase()) return cb(reply.authFailed());
      const work = authenticateClient({ authenticate: opts.authenticate, logger }, auth.username ?? '', auth.password ?? '', session.remoteAddress);
      settle(
        work.then((r) => {
          observerOf(session)?.login(r instanceof SmtpReply ? (auth.username ?? '') : r.address, !(r instanceof SmtpReply));
          if (r instanceof SmtpReply) throw r;
          stateOf(session).account = r;
          return { user: r.address };
        }),
        session,
        (err, value) => cb(err, value),
      );
    },

    onMailFrom(address, session, cb) {
      const st = stateOf(session);
      st.recipients.clear();
      const size = address.args && typeof address.args['SIZE'] === 'string' ? Number(address.args['SIZE']) : 0;
      st.sizeHint = Number.isFinite(size) ? size : 0;
      if (kind === 'inbound') return cb();
      // AUTH may be hidden before TLS, and smtp-server only demands it when AUTH is on.
      const account = st.account;
      if (!account) return cb(reply.authRequired());
      settle(checkSenderOwned(store, account, address.address), session, (err) => cb(err));
    },

    onRcptTo(address, session, cb) {
      const st = stateOf(session);
      if (kind !== 'inbound' && !st.account) return cb(reply.authRequired());
      const work = resolveRecipient(store, address.address, { sizeHint: st.sizeHint, allowRemote: kind !== 'inbound', deferrals, postmaster: opts.postmaster, srs: opts.srs }).then((r) => {
        st.recipients.set(address.address.toLowerCase(), r);
      });
      settle(work, session, (err) => cb(err));
    },

    onData(stream: SMTPServerDataStream, session, cb) {
      const st = stateOf(session);
      const envelope = session.envelope;
      const work = readMessage(stream, limits).then((message) => {
        observerOf(session)?.body(() => Buffer.concat(message.chunks));
        const recipients = envelope.rcptTo.map((r) => st.recipients.get(r.address.toLowerCase())).filter((r): r is ResolvedRecipient => r !== undefined);
        const tls = session.tlsOptions;
        return deliverMessage(deps, {
          kind: kind === 'inbound' ? 'inbound' : 'submission',
          mailFrom: envelope.mailFrom ? envelope.mailFrom.address : '',
          recipients,
          message,
          account: st.account,
          trace: {
            // One id per message: the session's id and its transaction number.
            sessionId: `${session.id}.${session.transaction}`,
            remoteAddress: session.remoteAddress,
            helo: session.hostNameAppearsAs || '',
            protocol: session.transmissionType,
            tls: tls ? { version: tls.version, cipher: tls.name } : null,
          },
        });
      });
      settle(work, session, (err, text) => cb(err, text));
    },
  };

  const server = new SMTPServer(options);
  if (limits.commandTimeoutMs !== undefined) setCommandTimeout(server, limits.commandTimeoutMs);
  server.on('error', (err) => logger.warn({ err, kind }, 'smtp listener error'));
  // A reloaded default certificate is used from the next handshake on (STARTTLS and implicit TLS).
  const tls = opts.tls;
  const stopWatchingTls = tls?.onDefaultChange?.(() => {
    try {
      server.updateSecureContext({ key: tls.key, cert: tls.cert });
    } catch (err) {
      logger.error({ err, kind }, 'cannot use the reloaded TLS certificate; keeping the previous one');
    }
  });

  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        const net = server.listen(port, host, () => {
          net.off('error', reject);
          const a = net.address();
          if (a === null || typeof a === 'string') return reject(new Error('smtp listener has no TCP address'));
          logger.info({ kind, address: a.address, port: a.port }, 'smtp listening');
          resolve({ address: a.address, port: a.port });
        });
        net.once('error', reject);
      });
    },
    async close(graceMs) {
      stopWatchingTls?.();
      server.options.closeTimeout = graceMs;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...inflight]);
    },
  };
}
