// rspamd over its HTTP protocol: POST /checkv2 with the message and the envelope in
// request headers (IP, Helo, From, Rcpt, …), a JSON answer with score, action and
// symbols; POST /learnspam and /learnham on the controller for training.
// https://rspamd.com/doc/developers/protocol.html
//
// Rules: every request has a timeout and a bounded answer; a transport failure or
// a malformed answer is an RspamdUnavailable, which the caller turns into fail-open
// or a temporary failure; nothing here decides what happens to the mail.

import http from 'node:http';
import https from 'node:https';

export type RspamdAction = 'no action' | 'greylist' | 'add header' | 'rewrite subject' | 'soft reject' | 'reject';

export interface RspamdResult {
  action: RspamdAction;
  score: number;
  requiredScore: number;
  symbols: string[];
  /** The text rspamd wants in the SMTP reply (messages.smtp_message), if any. */
  smtpMessage: string | null;
  /** The rewritten Subject for "rewrite subject". */
  subject: string | null;
}

export interface RspamdEnvelope {
  ip: string;
  helo: string;
  mailFrom: string;
  rcpts: string[];
  hostname: string;
  /** Logged by rspamd as the queue id. */
  queueId: string;
}

export class RspamdUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RspamdUnavailable';
  }
}

const ACTIONS = new Set<string>(['no action', 'greylist', 'add header', 'rewrite subject', 'soft reject', 'reject']);
const MAX_ANSWER_BYTES = 1024 * 1024;

export interface RspamdClientOptions {
  url: string;
  controllerUrl: string;
  password: string | null;
  timeoutMs: number;
}

export class RspamdClient {
  constructor(private readonly options: RspamdClientOptions) {}

  async check(message: Buffer, env: RspamdEnvelope): Promise<RspamdResult> {
    const headers: Record<string, string | string[]> = {
      IP: env.ip.startsWith('::ffff:') ? env.ip.slice(7) : env.ip,
      Helo: env.helo || 'unknown',
      From: env.mailFrom,
      Rcpt: env.rcpts,
      'MTA-Name': env.hostname,
      'Queue-Id': env.queueId,
    };
    const body = await this.post(this.options.url, '/checkv2', message, headers);
    return parseCheck(body);
  }

  /** Trains the Bayes classifier; a message already learnt the same way is not an error. */
  async learn(verdict: 'spam' | 'ham', message: Buffer): Promise<{ learned: boolean; reason: string | null }> {
    const headers: Record<string, string> = {};
    if (this.options.password !== null) headers['Password'] = this.options.password;
    try {
      const body = await this.post(this.options.controllerUrl, verdict === 'spam' ? '/learnspam' : '/learnham', message, headers);
      const parsed = JSON.parse(body) as { success?: unknown; error?: unknown };
      return { learned: parsed.success === true, reason: typeof parsed.error === 'string' ? parsed.error : null };
    } catch (err) {
      // 208: "already learned"; rspamd answers it with an error object.
      if (err instanceof RspamdHttpError && err.status === 208) return { learned: false, reason: 'already learned' };
      throw err;
    }
  }

  private post(base: string, path: string, payload: Buffer, headers: Record<string, string | string[]>): Promise<string> {
    const url = new URL(path, base.endsWith('/') ? base : `${base}/`);
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, { method: 'POST', headers: { ...headers, 'Content-Length': String(payload.length) }, timeout: this.options.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_ANSWER_BYTES) {
            req.destroy(new RspamdUnavailable(`rspamd answer larger than ${MAX_ANSWER_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status === 200) resolve(text);
          else reject(new RspamdHttpError(status, `rspamd ${path}: HTTP ${status} ${text.slice(0, 200)}`));
        });
        res.on('error', (err) => reject(new RspamdUnavailable(`rspamd ${path}: ${err.message}`, { cause: err })));
      });
      req.on('timeout', () => req.destroy(new RspamdUnavailable(`rspamd ${path}: no answer within ${this.options.timeoutMs} ms`)));
      req.on('error', (err) => reject(err instanceof RspamdUnavailable ? err : new RspamdUnavailable(`rspamd ${path}: ${err.message}`, { cause: err })));
      req.end(payload);
    });
  }
}

export class RspamdHttpError extends RspamdUnavailable {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'RspamdHttpError';
  }
}

/** Reads a /checkv2 answer; anything not shaped like one is RspamdUnavailable. */
export function parseCheck(text: string): RspamdResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new RspamdUnavailable('rspamd answered with something other than JSON', { cause: err });
  }
  if (typeof data !== 'object' || data === null) throw new RspamdUnavailable('rspamd answered with an unexpected document');
  const d = data as Record<string, unknown>;
  const action = d['action'];
  const score = d['score'];
  if (typeof action !== 'string' || !ACTIONS.has(action) || typeof score !== 'number') throw new RspamdUnavailable('rspamd answer lacks action or score');
  const symbols = typeof d['symbols'] === 'object' && d['symbols'] !== null ? Object.keys(d['symbols']).slice(0, 100) : [];
  const messages = typeof d['messages'] === 'object' && d['messages'] !== null ? (d['messages'] as Record<string, unknown>) : {};
  const smtp = messages['smtp_message'];
  const subject = d['subject'];
  return {
    action: action as RspamdAction,
    score,
    requiredScore: typeof d['required_score'] === 'number' ? d['required_score'] : 0,
    symbols,
    // It becomes our SMTP reply text: printable ASCII on one line.
    smtpMessage: typeof smtp === 'string' && smtp.trim() !== '' ? smtp.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim().slice(0, 200) : null,
    subject: typeof subject === 'string' ? subject : null,
  };
}
