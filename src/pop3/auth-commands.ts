// AUTHORIZATION-state handlers: USER, PASS (RFC 1939 7), AUTH (RFC 5034),
// STLS (RFC 2595 4), and the login that moves a session to TRANSACTION.
//
// Rules:
// - Plaintext credentials (USER/PASS, AUTH PLAIN/LOGIN) are refused on an
//   unencrypted connection unless the operator allows it, with an [AUTH]
//   reply that says why (RFC 3206 4).
// - A maildrop held by another session gets [IN-USE] at once (RFC 2449 8.1.2).
// - Failed logins are answered after a delay that grows with repeated failures.

import { authenticate } from '../auth/authenticator.js';
import { SASL_MECHANISMS, isSaslMechanism, startSasl, type SaslStep } from '../auth/sasl.js';
import type { Command } from './parser.js';
import { Maildrop, MaildropLock } from './maildrop.js';
import { SeenMarker, type Pop3Session, type Response } from './session.js';

const PLAINTEXT_REFUSED =
  '-ERR [AUTH] Plaintext authentication is not allowed on an unencrypted connection: use STLS first, or connect to the POP3S port';

export function cmdUser(s: Pop3Session, cmd: Command): Response {
  if (s.state.kind !== 'authorization') return { status: '-ERR Already logged in' };
  if (!s.plaintextAllowed) return { status: PLAINTEXT_REFUSED };
  const name = cmd.rest.trim();
  if (name === '') return { status: '-ERR USER needs a login name' };
  s.state = { kind: 'authorization', user: name };
  return { status: '+OK Send your password' };
}

export async function cmdPass(s: Pop3Session, cmd: Command): Promise<Response> {
  if (s.state.kind !== 'authorization') return { status: '-ERR Already logged in' };
  const user = s.state.user;
  if (user === undefined) return { status: '-ERR Send USER first' };
  s.state = { kind: 'authorization' };
  if (!s.plaintextAllowed) return { status: PLAINTEXT_REFUSED };
  // RFC 1939 7: a password may contain spaces; take the rest of the line as is.
  return login(s, user, cmd.rest);
}

/** RFC 5034 4; a bare AUTH lists the mechanisms (sent by old Outlook versions). */
export async function cmdAuth(s: Pop3Session, cmd: Command): Promise<Response> {
  if (s.state.kind !== 'authorization') return { status: '-ERR Already logged in' };
  if (cmd.args.length === 0) {
    return { status: '+OK Supported authentication mechanisms', lines: s.plaintextAllowed ? [...SASL_MECHANISMS] : [] };
  }
  const mech = cmd.args[0]!.toUpperCase();
  if (!isSaslMechanism(mech)) return { status: `-ERR Unsupported authentication mechanism` };
  if (!s.plaintextAllowed) return { status: PLAINTEXT_REFUSED };
  const exchange = startSasl(mech, cmd.args[1]);
  s.state = { kind: 'authorization', sasl: exchange };
  return saslStep(s, exchange.start());
}

/** A line sent while an AUTH exchange waits for the client's response. */
export async function saslContinue(s: Pop3Session, line: string): Promise<Response> {
  if (s.state.kind !== 'authorization' || !s.state.sasl) return { status: '-ERR No authentication in progress' };
  return saslStep(s, s.state.sasl.respond(line));
}

async function saslStep(s: Pop3Session, step: SaslStep): Promise<Response> {
  switch (step.kind) {
    case 'challenge':
      // RFC 5034 4: "+" SP base64 challenge.
      return { status: `+ ${step.challenge.toString('base64')}` };
    case 'failed':
      s.state = { kind: 'authorization' };
      if (step.reason === 'cancelled') return { status: '-ERR Authentication cancelled' };
      if (step.reason === 'authzid-mismatch') return { status: '-ERR [AUTH] Logging in as another user is not supported' };
      return { status: '-ERR Malformed authentication response' };
    case 'done':
      s.state = { kind: 'authorization' };
      return login(s, step.credentials.username, step.credentials.password);
  }
}

/** RFC 2595 4: STLS, only before login and only once. */
export function cmdStls(s: Pop3Session): Response {
  if (s.state.kind !== 'authorization') return { status: '-ERR Already logged in' };
  if (s.conn.secure) return { status: '-ERR Already using TLS' };
  if (!s.config.tlsAvailable) return { status: '-ERR TLS is not configured on this server' };
  return { status: '+OK Begin TLS negotiation', then: 'starttls' };
}

async function login(s: Pop3Session, username: string, password: string): Promise<Response> {
  const { store, logger } = s.config;
  const result = await authenticate(store, username, password, s.conn.remoteAddress, s.config.throttle ? { throttle: s.config.throttle } : {});
  const failureDelay = s.config.authFailureDelayMs ?? 0;
  s.observer?.login(result.ok ? result.account.address : username, result.ok);
  if (!result.ok) {
    logger.info({ session: s.conn.id, remote: s.conn.remoteAddress, user: username, failure: result.failure }, 'POP3 login failed');
    const delayMs = Math.max(failureDelay, result.delayMs);
    switch (result.failure) {
      case 'bad-credentials':
        return { status: '-ERR [AUTH] Invalid login name or password', delayMs };
      case 'disabled':
        return { status: '-ERR [AUTH] This account is disabled; contact your provider', delayMs };
      case 'throttled':
        return { status: '-ERR [AUTH] Too many failed logins from your address; try again later', delayMs };
    }
  }
  const account = result.account;
  const delaySeconds = s.config.loginDelaySeconds;
  if (delaySeconds !== undefined && delaySeconds > 0) {
    // RFC 2449 6.8 / 8.1.1: refuse logins closer together than advertised (per process).
    const last = s.config.lastLogin.get(account.id);
    const now = Date.now();
    if (last !== undefined && now - last < delaySeconds * 1000) {
      const wait = Math.ceil((last + delaySeconds * 1000 - now) / 1000);
      return { status: `-ERR [LOGIN-DELAY] Please wait ${wait} more seconds between logins` };
    }
  }
  const lock = await MaildropLock.acquire(store, account.id, s.config.newHolder(), logger);
  if (!lock) {
    logger.info({ session: s.conn.id, user: account.address }, 'POP3 maildrop in use');
    return { status: '-ERR [IN-USE] Another POP3 session is using this mailbox; try again in a minute' };
  }
  try {
    const inbox = await store.getMailbox(account.id, 'INBOX');
    if (!inbox) throw new Error(`account ${account.address} has no INBOX`);
    const snapshot = await store.listMessages(inbox.id, { withoutStructure: true });
    const maildrop = new Maildrop(store, account, inbox.id, snapshot, s.config.wireSizes);
    if (s.state.kind === 'closed') {
      // The connection went away while we were loading.
      await lock.release();
      return { status: '-ERR Connection closed' };
    }
    s.state = { kind: 'transaction', maildrop, lock, seen: new SeenMarker(store, inbox.id, logger) };
    if (delaySeconds !== undefined) s.config.lastLogin.set(account.id, Date.now());
    logger.info({ session: s.conn.id, user: account.address, messages: snapshot.length }, 'POP3 login');
    return { status: `+OK Logged in, ${snapshot.length} message${snapshot.length === 1 ? '' : 's'}` };
  } catch (err) {
    await lock.release().catch(() => undefined);
    throw err;
  }
}
