// SASL PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login) decoding,
// protocol-neutral: POP3 AUTH (RFC 5034), IMAP AUTHENTICATE (RFC 9051 6.2.2)
// and SMTP AUTH (RFC 4954) all drive the same exchange and only frame the
// challenges differently ("+ " in POP3/IMAP, "334 " in SMTP).
//
// Rules:
// - Client responses are base64 lines; "*" cancels the exchange (RFC 5034 4,
//   RFC 4954 4, RFC 9051 6.2.2).
// - An initial response of "=" means "present but empty" (RFC 5034 4).
// - PLAIN: authzid must be empty or equal to authcid; we do not support
//   acting on behalf of another user.

export type SaslMechanism = 'PLAIN' | 'LOGIN';
export const SASL_MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'LOGIN'];

export interface SaslCredentials {
  username: string;
  password: string;
}

export type SaslFailure = 'malformed' | 'cancelled' | 'authzid-mismatch';

export type SaslStep =
  /** Send this challenge (raw bytes; the protocol base64-encodes and frames it). */
  | { kind: 'challenge'; challenge: Buffer }
  | { kind: 'done'; credentials: SaslCredentials }
  | { kind: 'failed'; reason: SaslFailure };

export interface SaslExchange {
  readonly mechanism: SaslMechanism;
  /** The first step, after the optional initial response has been consumed. */
  start(): SaslStep;
  /** Feed one client response line (base64, or "*"). */
  respond(line: string): SaslStep;
}

export function isSaslMechanism(name: string): name is SaslMechanism {
  return (SASL_MECHANISMS as readonly string[]).includes(name.toUpperCase());
}

/**
 * Begins an exchange. `initialResponse` is the optional argument after the
 * mechanism name (RFC 4959 style SASL-IR; RFC 5034 4 for POP3).
 */
export function startSasl(mechanism: SaslMechanism, initialResponse?: string): SaslExchange {
  return mechanism === 'PLAIN' ? new PlainExchange(initialResponse) : new LoginExchange(initialResponse);
}

/** Strict base64 decoding: Buffer.from() silently skips garbage, we refuse it. */
export function decodeBase64(text: string): Buffer | undefined {
  const t = text.trim();
  if (t === '=') return Buffer.alloc(0);
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(t)) return undefined;
  return Buffer.from(t, 'base64');
}

function isCancel(line: string): boolean {
  return line.trim() === '*';
}

function utf8(bytes: Buffer): string | undefined {
  const s = bytes.toString('utf8');
  // Refuse invalid UTF-8 rather than comparing passwords with U+FFFD in them.
  return Buffer.from(s, 'utf8').equals(bytes) ? s : undefined;
}

/** RFC 4616 2: message = [authzid] UTF8NUL authcid UTF8NUL passwd */
export function decodePlain(message: Buffer): SaslStep {
  const first = message.indexOf(0);
  const second = first < 0 ? -1 : message.indexOf(0, first + 1);
  if (first < 0 || second < 0 || message.indexOf(0, second + 1) >= 0) return { kind: 'failed', reason: 'malformed' };
  const authzid = utf8(message.subarray(0, first));
  const authcid = utf8(message.subarray(first + 1, second));
  const passwd = utf8(message.subarray(second + 1));
  if (authzid === undefined || authcid === undefined || passwd === undefined) return { kind: 'failed', reason: 'malformed' };
  if (authcid.length === 0 || passwd.length === 0) return { kind: 'failed', reason: 'malformed' };
  if (authzid !== '' && authzid.toLowerCase() !== authcid.toLowerCase()) return { kind: 'failed', reason: 'authzid-mismatch' };
  return { kind: 'done', credentials: { username: authcid, password: passwd } };
}

class PlainExchange implements SaslExchange {
  readonly mechanism = 'PLAIN' as const;
  private finished = false;
  constructor(private readonly initial: string | undefined) {}

  start(): SaslStep {
    if (this.initial === undefined) return { kind: 'challenge', challenge: Buffer.alloc(0) };
    return this.respond(this.initial);
  }

  respond(line: string): SaslStep {
    if (this.finished) return { kind: 'failed', reason: 'malformed' };
    this.finished = true;
    if (isCancel(line)) return { kind: 'failed', reason: 'cancelled' };
    const bytes = decodeBase64(line);
    if (!bytes) return { kind: 'failed', reason: 'malformed' };
    return decodePlain(bytes);
  }
}

class LoginExchange implements SaslExchange {
  readonly mechanism = 'LOGIN' as const;
  private username: string | undefined;
  private finished = false;
  constructor(private readonly initial: string | undefined) {}

  start(): SaslStep {
    if (this.initial === undefined) return { kind: 'challenge', challenge: Buffer.from('Username:') };
    return this.respond(this.initial);
  }

  respond(line: string): SaslStep {
    if (this.finished) return { kind: 'failed', reason: 'malformed' };
    if (isCancel(line)) {
      this.finished = true;
      return { kind: 'failed', reason: 'cancelled' };
    }
    const bytes = decodeBase64(line);
    const text = bytes && utf8(bytes);
    if (text === undefined || text.includes('\0')) {
      this.finished = true;
      return { kind: 'failed', reason: 'malformed' };
    }
    if (this.username === undefined) {
      if (text === '') {
        this.finished = true;
        return { kind: 'failed', reason: 'malformed' };
      }
      this.username = text;
      return { kind: 'challenge', challenge: Buffer.from('Password:') };
    }
    this.finished = true;
    if (text === '') return { kind: 'failed', reason: 'malformed' };
    return { kind: 'done', credentials: { username: this.username, password: text } };
  }
}
