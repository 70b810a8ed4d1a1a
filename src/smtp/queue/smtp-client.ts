// One SMTP transaction to one host with nodemailer's SMTPConnection (RFC 5321).
//
// Rules:
// - STARTTLS is opportunistic (RFC 3207, RFC 7435): used when offered, certificate not
//   verified, plaintext when the peer offers none. A smarthost relay may require TLS.
// - A reply is classified by its code: 5xx permanent, 4xx temporary. A connection that
//   could not be made or broke is temporary and the next host is tried.
// - Per-recipient replies are kept: one message can be accepted for some recipients
//   and refused (temporarily or permanently) for others.

import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { DeliveryError, permanent, statusOf, temporary } from './errors.js';

export interface SmtpTarget {
  /** Name for TLS SNI and reports. */
  host: string;
  /** What to connect to (an address, or the host name for a relay). */
  connectTo: string;
  port: number;
  auth?: { user: string; pass: string };
  requireTLS?: boolean;
}

export interface SendResult {
  accepted: string[];
  /** Recipients refused at RCPT, each with its error. */
  refused: Array<{ recipient: string; error: DeliveryError }>;
  response: string;
}

export interface SendOptions {
  hostname: string;
  timeoutMs: number;
}

type SmtpError = SMTPConnection.SMTPError & { rejected?: string[]; rejectedErrors?: SmtpError[]; recipient?: string };

function classify(err: SmtpError, host: string): DeliveryError {
  const status = statusOf(err.response, err.responseCode);
  const text = err.response ?? err.message;
  if (err.responseCode !== undefined && err.responseCode >= 500) return permanent(status, text, host, err);
  return temporary(err.responseCode === undefined ? '4.4.1' : status, text, host, err);
}

function refusals(err: { rejectedErrors?: SmtpError[] }, host: string): SendResult['refused'] {
  return (err.rejectedErrors ?? []).map((e) => ({ recipient: e.recipient ?? '', error: classify(e, host) }));
}

/** One command's callback, or the connection's error or end, whichever comes first. */
function step<T>(conn: SMTPConnection, run: (done: (err: SmtpError | undefined, res?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onError = (err: SmtpError) => finish(err);
    const onEnd = () => finish(Object.assign(new Error('connection closed'), { code: 'ECONNECTION' }));
    let settled = false;
    function finish(err: SmtpError | undefined, res?: T) {
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

export async function sendMessage(target: SmtpTarget, envelope: { from: string; to: string[] }, message: Buffer, opts: SendOptions): Promise<SendResult> {
  const conn = new SMTPConnection({
    host: target.connectTo,
    port: target.port,
    name: opts.hostname,
    secure: false,
    opportunisticTLS: !target.requireTLS,
    requireTLS: target.requireTLS ?? false,
    tls: { servername: target.host.replace(/\.$/, ''), rejectUnauthorized: target.requireTLS ?? false },
    connectionTimeout: opts.timeoutMs,
    greetingTimeout: opts.timeoutMs,
    socketTimeout: opts.timeoutMs,
  });
  // Errors of the connection (refused, reset, timeout) arrive as events, not callbacks;
  // a listener stays for the whole life of the connection so none can throw.
  conn.on('error', () => {});
  try {
    await step<void>(conn, (done) => conn.connect((err) => done(err ?? undefined)));
    const auth = target.auth;
    if (auth) await step<void>(conn, (done) => conn.login({ user: auth.user, pass: auth.pass }, (err) => done(err ?? undefined)));
    const info = await step<SMTPConnection.SentMessageInfo & { rejectedErrors?: SmtpError[] }>(conn, (done) =>
      conn.send({ from: envelope.from, to: envelope.to }, message, (err, res) => done(err ?? undefined, res)),
    );
    conn.quit();
    return { accepted: info.accepted, refused: refusals(info, target.host), response: info.response };
  } catch (e) {
    conn.close();
    const err = e as SmtpError;
    // Every recipient refused: nodemailer reports the envelope error with the list.
    if (err.code === 'EENVELOPE' && err.rejectedErrors && err.rejectedErrors.length > 0) {
      return { accepted: [], refused: refusals(err, target.host), response: err.response ?? err.message };
    }
    throw classify(err, target.host);
  }
}
