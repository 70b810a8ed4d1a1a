// The ManageSieve session (RFC 5804): state machine and command handlers. A
// handler returns the response text; the connection (server.ts) writes it.
//
// Rules:
// - States: not authenticated (CAPABILITY, STARTTLS, AUTHENTICATE, NOOP,
//   LOGOUT) and authenticated (script commands, UNAUTHENTICATE); a SASL
//   exchange in progress takes the client's next line as its response.
// - Plaintext mechanisms are offered and accepted only over TLS unless the
//   operator allows them for this address (ENCRYPT-NEEDED otherwise).
// - Scripts are compiled on PUTSCRIPT and CHECKSCRIPT; a script that does not
//   compile is never stored, and the reply names line and column.
// - Failed logins go through the shared throttle and are answered after its delay.

import { authenticate, type LoginThrottle } from '../auth/authenticator.js';
import { isSaslMechanism, startSasl, type SaslExchange, type SaslStep } from '../auth/sasl.js';
import type { Store } from '../store/store.js';
import type { Account } from '../store/types.js';
import { isStoreError } from '../store/errors.js';
import { CAPABILITIES } from '../sieve/grammar.js';
import { compileScript, validScriptName } from '../sieve/validator.js';
import { SieveError } from '../sieve/errors.js';
import { encodeString, type Token } from './parser.js';
import type { SessionObserver } from '../sessions/recorder.js';

export interface SessionLogger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  debug(o: object, msg?: string): void;
}

export interface SessionConfig {
  store: Store;
  logger: SessionLogger;
  hostname: string;
  tlsAvailable: boolean;
  allowPlaintext: (remoteAddress: string, secure: boolean) => boolean;
  maxScriptBytes: number;
  maxScripts: number;
  maxRedirects: number;
  throttle?: LoginThrottle;
  /** Least delay before answering a failed login. */
  authFailureDelayMs?: number;
}

export type State =
  | { kind: 'unauthenticated'; sasl?: SaslExchange }
  | { kind: 'authenticated'; account: Account }
  | { kind: 'closed' };

export interface Response {
  text: string;
  delayMs?: number;
  then?: 'starttls' | 'close';
}

export const SASL_LIST = ['PLAIN', 'LOGIN'];

const ok = (text: string, code?: string): Response => ({ text: `OK${code ? ` (${code})` : ''} ${encodeString(text)}\r\n` });
const no = (text: string, code?: string): Response => ({ text: `NO${code ? ` (${code})` : ''} ${encodeString(text)}\r\n` });

export class ManageSieveSession {
  state: State = { kind: 'unauthenticated' };
  badCommands = 0;
  /** Session history, traces and protocol counters (src/sessions); set by the connection. */
  observer: SessionObserver | undefined;

  constructor(
    readonly config: SessionConfig,
    readonly conn: { id: string; remoteAddress: string; secure: boolean },
  ) {}

  private get plaintextAllowed(): boolean {
    return this.config.allowPlaintext(this.conn.remoteAddress, this.conn.secure);
  }

  /** RFC 5804 1.7: the capability lines, without the final OK. */
  capabilities(): string {
    const lines = [
      `"IMPLEMENTATION" "Steadymail"`,
      `"SIEVE" "${CAPABILITIES.join(' ')}"`,
      `"SASL" "${this.state.kind === 'authenticated' || !this.plaintextAllowed ? '' : SASL_LIST.join(' ')}"`,
      ...(this.config.tlsAvailable && !this.conn.secure && this.state.kind !== 'authenticated' ? ['"STARTTLS"'] : []),
      `"MAXREDIRECTS" "${this.config.maxRedirects}"`,
      ...(this.state.kind === 'authenticated' ? [`"OWNER" ${encodeString(this.state.account.address)}`] : []),
      '"UNAUTHENTICATE"',
      '"VERSION" "1.0"',
    ];
    return lines.join('\r\n') + '\r\n';
  }

  greeting(): string {
    return this.capabilities() + `OK "${this.config.hostname} Steadymail ManageSieve ready"\r\n`;
  }

  tlsStarted(): void {
    this.conn.secure = true;
  }

  async handle(tokens: Token[]): Promise<Response> {
    if (this.state.kind === 'unauthenticated' && this.state.sasl) return this.saslContinue(tokens);
    const first = tokens[0];
    if (first?.kind !== 'atom') {
      this.badCommands++;
      return no('Expected a command');
    }
    const name = first.value.toUpperCase();
    const args = tokens.slice(1);
    try {
      return await this.dispatch(name, args);
    } catch (err) {
      if (isStoreError(err)) {
        switch (err.code) {
          case 'not-found':
            return no('There is no script by that name', 'NONEXISTENT');
          case 'already-exists':
            return no('A script by that name already exists', 'ALREADYEXISTS');
          case 'in-use':
            return no('The active script cannot be deleted; deactivate it first', 'ACTIVE');
          case 'unavailable':
            return no('Temporary server problem; try again later', 'TRYLATER');
          default:
            break;
        }
      }
      throw err;
    }
  }

  private async dispatch(name: string, args: Token[]): Promise<Response> {
    const state = this.state;
    switch (name) {
      case 'CAPABILITY':
        if (args.length > 0) return this.bad('CAPABILITY takes no arguments');
        return { text: this.capabilities() + 'OK "Capability completed"\r\n' };
      case 'NOOP': {
        // RFC 5804 2.13: an optional tag is echoed back.
        const tag = args[0];
        if (tag?.kind === 'string') return ok('Done', `TAG ${encodeString(tag.value)}`);
        return ok('Done');
      }
      case 'LOGOUT':
        return { text: 'OK "Logout completed"\r\n', then: 'close' };
      case 'STARTTLS':
        if (state.kind !== 'unauthenticated') return no('STARTTLS is only allowed before login');
        if (this.conn.secure) return no('TLS is already active');
        if (!this.config.tlsAvailable) return no('TLS is not configured on this server');
        return { text: 'OK "Begin TLS negotiation now"\r\n', then: 'starttls' };
      case 'AUTHENTICATE':
        if (state.kind !== 'unauthenticated') return no('Already authenticated');
        return this.authenticateStart(args);
      case 'UNAUTHENTICATE':
        if (state.kind !== 'authenticated') return no('Not authenticated');
        this.state = { kind: 'unauthenticated' };
        return ok('Unauthenticated');
    }
    if (state.kind !== 'authenticated') {
      if (['HAVESPACE', 'PUTSCRIPT', 'CHECKSCRIPT', 'LISTSCRIPTS', 'SETACTIVE', 'GETSCRIPT', 'DELETESCRIPT', 'RENAMESCRIPT'].includes(name)) {
        return no('Authenticate first');
      }
      return this.bad(`Unknown command ${name}`);
    }
    const account = state.account;
    const store = this.config.store;
    switch (name) {
      case 'LISTSCRIPTS': {
        const scripts = await store.listSieveScripts(account.id);
        return { text: scripts.map((s) => `${encodeString(s.name)}${s.active ? ' ACTIVE' : ''}\r\n`).join('') + 'OK "Listscripts completed"\r\n' };
      }
      case 'HAVESPACE': {
        const [n, size] = args;
        if (n?.kind !== 'string' || size?.kind !== 'number' || args.length !== 2) return this.bad('HAVESPACE needs a script name and a size');
        return (await this.spaceProblem(account, n.value, size.value)) ?? ok('Putscript would succeed');
      }
      case 'PUTSCRIPT': {
        const [n, content] = args;
        if (n?.kind !== 'string' || content?.kind !== 'string' || args.length !== 2) return this.bad('PUTSCRIPT needs a script name and the script');
        if (!validScriptName(n.value)) return no('Invalid script name');
        const problem = await this.spaceProblem(account, n.value, Buffer.byteLength(content.value, 'utf8'));
        if (problem) return problem;
        const error = checkScript(content.value);
        if (error) return no(error);
        await store.putSieveScript(account.id, n.value, content.value);
        this.config.logger.info({ session: this.conn.id, user: account.address, script: n.value }, 'ManageSieve script stored');
        return ok('Putscript completed');
      }
      case 'CHECKSCRIPT': {
        const [content] = args;
        if (content?.kind !== 'string' || args.length !== 1) return this.bad('CHECKSCRIPT needs the script');
        if (Buffer.byteLength(content.value, 'utf8') > this.config.maxScriptBytes) return no(`Scripts are limited to ${this.config.maxScriptBytes} bytes`, 'QUOTA/MAXSIZE');
        const error = checkScript(content.value);
        return error ? no(error) : ok('Script is valid');
      }
      case 'GETSCRIPT': {
        const [n] = args;
        if (n?.kind !== 'string' || args.length !== 1) return this.bad('GETSCRIPT needs a script name');
        const s = await store.getSieveScript(account.id, n.value);
        if (!s) return no('There is no script by that name', 'NONEXISTENT');
        return { text: `{${Buffer.byteLength(s.content, 'utf8')}}\r\n${s.content}\r\nOK "Getscript completed"\r\n` };
      }
      case 'SETACTIVE': {
        const [n] = args;
        if (n?.kind !== 'string' || args.length !== 1) return this.bad('SETACTIVE needs a script name ("" deactivates)');
        if (n.value !== '') {
          const s = await store.getSieveScript(account.id, n.value);
          if (!s) return no('There is no script by that name', 'NONEXISTENT');
          // Stored scripts compiled when stored; an older release may have stored one that no longer does.
          const error = checkScript(s.content);
          if (error) return no(`The script does not compile: ${error}`);
        }
        await store.activateSieveScript(account.id, n.value === '' ? null : n.value);
        return ok(n.value === '' ? 'No script is active now' : 'Setactive completed');
      }
      case 'DELETESCRIPT': {
        const [n] = args;
        if (n?.kind !== 'string' || args.length !== 1) return this.bad('DELETESCRIPT needs a script name');
        await store.deleteSieveScript(account.id, n.value);
        return ok('Deletescript completed');
      }
      case 'RENAMESCRIPT': {
        const [a, b] = args;
        if (a?.kind !== 'string' || b?.kind !== 'string' || args.length !== 2) return this.bad('RENAMESCRIPT needs the old and the new name');
        if (!validScriptName(b.value)) return no('Invalid script name');
        await store.renameSieveScript(account.id, a.value, b.value);
        return ok('Renamescript completed');
      }
      default:
        return this.bad(`Unknown command ${name}`);
    }
  }

  private bad(text: string): Response {
    this.badCommands++;
    return no(text);
  }

  /** RFC 5804 2.5 HAVESPACE / PUTSCRIPT: the QUOTA response, or null when it fits. */
  private async spaceProblem(account: Account, name: string, size: number): Promise<Response | null> {
    if (size > this.config.maxScriptBytes) return no(`Scripts are limited to ${this.config.maxScriptBytes} bytes`, 'QUOTA/MAXSIZE');
    const scripts = await this.config.store.listSieveScripts(account.id);
    if (!scripts.some((s) => s.name === name) && scripts.length >= this.config.maxScripts) {
      return no(`At most ${this.config.maxScripts} scripts per account`, 'QUOTA/MAXSCRIPTS');
    }
    return null;
  }

  // RFC 5804 2.1: AUTHENTICATE "mechanism" ["initial response"]
  private async authenticateStart(args: Token[]): Promise<Response> {
    const [mech, initial] = args;
    if (mech?.kind !== 'string' || args.length > 2 || (initial !== undefined && initial.kind !== 'string')) {
      return this.bad('AUTHENTICATE needs a mechanism name as a string');
    }
    const m = mech.value.toUpperCase();
    if (!isSaslMechanism(m)) return no('Unsupported authentication mechanism');
    if (!this.plaintextAllowed) return no('Use STARTTLS before authenticating', 'ENCRYPT-NEEDED');
    // An empty initial response is "=" in SASL-IR framing; ManageSieve sends "" for it.
    const ir = initial?.kind === 'string' ? (initial.value === '' ? '=' : initial.value) : undefined;
    const exchange = startSasl(m, ir);
    this.state = { kind: 'unauthenticated', sasl: exchange };
    return this.saslStep(exchange.start());
  }

  private async saslContinue(tokens: Token[]): Promise<Response> {
    const state = this.state;
    if (state.kind !== 'unauthenticated' || !state.sasl) return no('No authentication in progress');
    const t = tokens[0];
    if (tokens.length !== 1 || t?.kind !== 'string') {
      this.state = { kind: 'unauthenticated' };
      return no('Authentication cancelled: expected a string');
    }
    return this.saslStep(state.sasl.respond(t.value === '' ? '=' : t.value));
  }

  private async saslStep(step: SaslStep): Promise<Response> {
    switch (step.kind) {
      case 'challenge':
        return { text: `${encodeString(step.challenge.toString('base64'))}\r\n` };
      case 'failed':
        this.state = { kind: 'unauthenticated' };
        if (step.reason === 'cancelled') return no('Authentication cancelled');
        if (step.reason === 'authzid-mismatch') return no('Logging in as another user is not supported', 'AUTH-TOO-WEAK');
        return no('Malformed authentication response');
      case 'done':
        this.state = { kind: 'unauthenticated' };
        return this.login(step.credentials.username, step.credentials.password);
    }
  }

  private async login(username: string, password: string): Promise<Response> {
    const { store, logger } = this.config;
    const r = await authenticate(store, username, password, this.conn.remoteAddress, this.config.throttle ? { throttle: this.config.throttle } : {});
    this.observer?.login(r.ok ? r.account.address : username, r.ok);
    if (!r.ok) {
      logger.info({ session: this.conn.id, remote: this.conn.remoteAddress, user: username, failure: r.failure }, 'ManageSieve login failed');
      const delayMs = Math.max(this.config.authFailureDelayMs ?? 0, r.delayMs);
      const text = r.failure === 'throttled' ? 'Too many failed logins; try again later' : r.failure === 'disabled' ? 'This account is disabled' : 'Authentication failed';
      return { ...no(text, r.failure === 'throttled' ? 'TRYLATER' : undefined), delayMs };
    }
    if (this.state.kind === 'closed') return no('Connection closed');
    this.state = { kind: 'authenticated', account: r.account };
    logger.info({ session: this.conn.id, user: r.account.address }, 'ManageSieve login');
    return ok('Authenticated');
  }
}

/** The compile error (with line:column) of a script, or null when it is valid. */
export function checkScript(content: string): string | null {
  try {
    compileScript(content);
    return null;
  } catch (err) {
    if (err instanceof SieveError) return err.message;
    throw err;
  }
}
