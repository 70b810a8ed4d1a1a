// SMTP transactions to remote hosts with nodemailer's SMTPConnection (RFC 5321), over
// connections kept open for the next message to the same host.
//
// Rules:
// - TLS is 'opportunistic' (RFC 3207, RFC 7435): STARTTLS when offered, certificate not
//   verified; when the TLS handshake itself fails the host is tried again in plaintext.
//   'verified' (MTA-STS enforce, a relay with relay_require_tls): STARTTLS is required
//   and the certificate must chain to a trusted CA and name the host; never plaintext.
// - A reply is classified by its code: 5xx permanent, 4xx temporary. A connection that
//   could not be made or broke is temporary and the next host is tried.
// - Per-recipient replies are kept: one message can be accepted for some recipients
//   and refused (temporarily or permanently) for others.
// - Reuse: after a transaction the connection waits (idle_connection_seconds) for the
//   next message to the same address, port, TLS mode and login; the next transaction
//   starts with RSET (RFC 5321 4.1.1.5). A connection that fails RSET is replaced, not
//   counted as a failed delivery. At most max_messages_per_connection per connection.
// - What goes on the wire depends on the peer's EHLO: the caller's `prepare` gets the
//   extensions and returns the bytes to send (converted, then DKIM-signed).

import { rootCertificates } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { DeliveryError, permanent, statusOf, temporary } from './errors.js';

export type TlsMode = 'opportunistic' | 'verified';

export interface SmtpTarget {
  /** Name for TLS SNI, certificate checks and reports. */
  host: string;
  /** What to connect to (an address, or the host name for a relay). */
  connectTo: string;
  port: number;
  auth?: { user: string; pass: string };
  tls: TlsMode;
}

export interface SendResult {
  accepted: string[];
  /** Recipients refused at RCPT, each with its error. */
  refused: Array<{ recipient: string; error: DeliveryError }>;
  response: string;
}

/** What the peer announced, for the caller to shape the message. */
export interface PeerFeatures {
  smtputf8: boolean;
  eightBitMime: boolean;
  /** The session runs over TLS. */
  secure: boolean;
}

export interface PreparedMessage {
  message: Buffer;
  /** Send SMTPUTF8 on MAIL FROM (RFC 6531 3.4). */
  smtputf8: boolean;
  /** Send BODY=8BITMIME (RFC 6152 2). */
  eightBit: boolean;
}

export interface ClientOptions {
  hostname: string;
  timeoutMs: number;
  /** Extra trusted CA certificates (PEM) for verified TLS, beside the system's. */
  extraCa?: string;
  /** How long a connection waits for the next message; 0 closes after each. */
  idleMs: number;
  maxMessagesPerConnection: number;
  /** Called for every connection used: opened anew or reused. */
  onConnection?: (reused: boolean) => void;
}

type SmtpError = Error & { code?: string; response?: string; responseCode?: number; rejected?: string[]; rejectedErrors?: SmtpError[]; recipient?: string };

/** nodemailer keeps the EHLO keywords private; the one internal read here. */
function extensionsOf(conn: SMTPConnection): string[] {
  const list = (conn as unknown as { _supportedExtensions?: unknown })._supportedExtensions;
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * nodemailer adds SMTPUTF8 to MAIL FROM only for non-ASCII addresses; RFC 6531 3.4 wants
 * it for UTF-8 header fields too. The one internal write here: the MAIL command.
 */
function forceSmtpUtf8(conn: SMTPConnection, on: boolean): void {
  const c = conn as unknown as { _sendCommand: (str: string, logStr?: string) => void; steadymailUtf8?: boolean; steadymailWrapped?: boolean };
  c.steadymailUtf8 = on;
  if (c.steadymailWrapped) return;
  c.steadymailWrapped = true;
  const original = c._sendCommand.bind(conn);
  c._sendCommand = (str, logStr) => original(c.steadymailUtf8 && /^MAIL FROM:/i.test(str) && !/ SMTPUTF8\b/i.test(str) ? `${str} SMTPUTF8` : str, logStr);
}

/** A refused STARTTLS (any reply code), or a TLS handshake or certificate check that failed. */
function isTlsFailure(err: SmtpError): boolean {
  if (err.code === 'ETLS') return true;
  // Node reports handshake failures with OpenSSL's text and certificate failures with their check.
  return err.code === 'ESOCKET' && err.responseCode === undefined && /SSL routines|certificate|self.signed|altnames|issuer/i.test(err.message);
}

function classify(err: SmtpError, host: string, tls: TlsMode): DeliveryError {
  if (tls === 'verified' && isTlsFailure(err)) {
    // RFC 8461 5: a policy failure is a temporary failure; RFC 3463 4.7.5 cryptographic failure.
    return temporary('4.7.5', `TLS with ${host} could not be verified: ${err.message}`, host, err);
  }
  const status = statusOf(err.response, err.responseCode);
  const text = err.response ?? err.message;
  if (err.responseCode !== undefined && err.responseCode >= 500) return permanent(status, text, host, err);
  return temporary(err.responseCode === undefined ? '4.4.1' : status, text, host, err);
}

function refusals(err: { rejectedErrors?: SmtpError[] }, host: string, tls: TlsMode): SendResult['refused'] {
  return (err.rejectedErrors ?? []).map((e) => ({ recipient: e.recipient ?? '', error: classify(e, host, tls) }));
}

/** One command's callback, or the connection's error or end, whichever comes first. */
function step<T>(conn: SMTPConnection, run: (done: (err: SmtpError | undefined | null, res?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onError = (err: SmtpError) => finish(err);
    const onEnd = () => finish(Object.assign(new Error('connection closed'), { code: 'ECONNECTION' }));
    let settled = false;
    function finish(err: SmtpError | undefined | null, res?: T) {
      if (settled) return;
      settled = true;
      conn.off('error', onError);
      conn.off('end', onEnd);
      if (err) reject(err);
      else resolve(res as T);
    }
    conn.once('error', onError);
    conn.once('end', onEnd);
    run(finish);
  });
}

interface Session {
  key: string;
  conn: SMTPConnection;
  messages: number;
  closed: boolean;
  idleTimer?: NodeJS.Timeout;
}

export class SmtpClient {
  private readonly idle = new Map<string, Session[]>();
  private readonly ca: string[] | undefined;

  constructor(private readonly opts: ClientOptions) {
    this.ca = opts.extraCa ? [...rootCertificates, opts.extraCa] : undefined;
  }

  private keyOf(t: SmtpTarget): string {
    return `${t.connectTo}|${t.port}|${t.host}|${t.tls}|${t.auth?.user ?? ''}`;
  }

  private async open(target: SmtpTarget, plaintext: boolean): Promise<Session> {
    const verified = target.tls === 'verified';
    const conn = new SMTPConnection({
      host: target.connectTo,
      port: target.port,
      name: this.opts.hostname,
      secure: false,
      ignoreTLS: plaintext && !verified,
      opportunisticTLS: !verified,
      requireTLS: verified,
      tls: { servername: target.host.replace(/\.$/, ''), rejectUnauthorized: verified, ...(verified && this.ca ? { ca: this.ca } : {}) },
      connectionTimeout: this.opts.timeoutMs,
      greetingTimeout: this.opts.timeoutMs,
      socketTimeout: this.opts.timeoutMs,
    });
    const session: Session = { key: this.keyOf(target), conn, messages: 0, closed: false };
    // Errors of the connection (refused, reset, timeout) arrive as events, not callbacks;
    // a listener stays for the whole life of the connection so none can throw.
    conn.on('error', () => {});
    conn.on('end', () => this.drop(session));
    try {
      await step<void>(conn, (done) => conn.connect((err) => done(err)));
      const auth = target.auth;
      if (auth) await step<void>(conn, (done) => conn.login({ user: auth.user, pass: auth.pass }, (err) => done(err)));
    } catch (err) {
      this.drop(session);
      throw err;
    }
    this.opts.onConnection?.(false);
    return session;
  }

  /** A connection for the target: an idle one (after RSET) or a new one. */
  private async acquire(target: SmtpTarget): Promise<Session> {
    const key = this.keyOf(target);
    for (let s = this.idle.get(key)?.pop(); s !== undefined; s = this.idle.get(key)?.pop()) {
      clearTimeout(s.idleTimer);
      if (s.closed) continue;
      try {
        const conn = s.conn;
        await step<boolean | undefined>(conn, (done) => conn.reset((err, ok) => done(err, ok)));
        this.opts.onConnection?.(true);
        return s;
      } catch {
        this.drop(s);
      }
    }
    try {
      return await this.open(target, false);
    } catch (e) {
      const err = e as SmtpError;
      // RFC 7435: opportunistic TLS that fails in the handshake falls back to plaintext.
      if (target.tls === 'opportunistic' && isTlsFailure(err)) return this.open(target, true);
      throw err;
    }
  }

  private release(s: Session): void {
    if (s.closed || this.opts.idleMs <= 0 || s.messages >= this.opts.maxMessagesPerConnection) {
      this.quit(s);
      return;
    }
    const list = this.idle.get(s.key) ?? [];
    list.push(s);
    this.idle.set(s.key, list);
    s.idleTimer = setTimeout(() => this.quit(s), this.opts.idleMs);
    s.idleTimer.unref();
  }

  private quit(s: Session): void {
    if (s.closed) return;
    s.conn.quit();
    this.drop(s);
  }

  private drop(s: Session): void {
    clearTimeout(s.idleTimer);
    if (!s.closed) {
      s.closed = true;
      s.conn.close();
    }
    const list = this.idle.get(s.key);
    if (list) {
      const i = list.indexOf(s);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.idle.delete(s.key);
    }
  }

  /** Closes every idle connection (QUIT). */
  closeIdle(): void {
    for (const list of [...this.idle.values()]) for (const s of [...list]) this.quit(s);
  }

  async send(target: SmtpTarget, envelope: { from: string; to: string[] }, prepare: (peer: PeerFeatures) => Promise<PreparedMessage>): Promise<SendResult> {
    let session: Session;
    try {
      session = await this.acquire(target);
    } catch (e) {
      throw classify(e as SmtpError, target.host, target.tls);
    }
    const conn = session.conn;
    const ext = extensionsOf(conn);
    let prepared: PreparedMessage;
    try {
      prepared = await prepare({ smtputf8: ext.includes('SMTPUTF8'), eightBitMime: ext.includes('8BITMIME'), secure: conn.secure });
    } catch (err) {
      // Nothing was sent on this connection: it serves the next message.
      this.release(session);
      throw err;
    }
    forceSmtpUtf8(conn, prepared.smtputf8);
    session.messages++;
    try {
      const info = await step<SMTPConnection.SentMessageInfo & { rejectedErrors?: SmtpError[] }>(conn, (done) =>
        conn.send({ from: envelope.from, to: envelope.to, use8BitMime: prepared.eightBit }, prepared.message, (err, res) => done(err, res)),
      );
      this.release(session);
      return { accepted: info.accepted, refused: refusals(info, target.host, target.tls), response: info.response };
    } catch (e) {
      const err = e as SmtpError;
      // Every recipient refused: nodemailer reports the envelope error with the list.
      if (err.code === 'EENVELOPE' && err.rejectedErrors && err.rejectedErrors.length > 0) {
        this.release(session);
        return { accepted: [], refused: refusals(err, target.host, target.tls), response: err.response ?? err.message };
      }
      this.drop(session);
      throw classify(err, target.host, target.tls);
    }
  }
}
