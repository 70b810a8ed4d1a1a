// Shared by LOGIN and AUTHENTICATE: the plaintext policy, the failed-login
// delay and the switch to the authenticated state (RFC 9051 6.2).

import { setTimeout as sleep } from 'node:timers/promises';
import { capabilities } from './capabilities.js';
import { ProtocolError, no } from './errors.js';
import type { CommandContext, Done } from './handler.js';

/** After this many failures the connection is closed (Dovecot does the same). */
const MAX_FAILED_LOGINS = 3;

export function requirePlaintextAllowed(ctx: CommandContext): void {
  const s = ctx.session;
  // RFC 9051 6.2.3: LOGINDISABLED servers refuse LOGIN; PRIVACYREQUIRED says why (RFC 5530).
  if (!s.options.allowPlaintext(s.remoteAddress, s.secure)) throw no('Plaintext authentication is not allowed without TLS', 'PRIVACYREQUIRED');
}

export async function login(ctx: CommandContext, username: string, password: string): Promise<Done> {
  const s = ctx.session;
  requirePlaintextAllowed(ctx);
  const result = await ctx.options.authenticate(username, password, s.remoteAddress);
  s.observer?.login(result.ok ? result.account.address : username, result.ok);
  if (!result.ok) {
    s.failedLogins++;
    await sleep(Math.max(ctx.options.limits.authFailureDelayMs ?? 1000, result.delayMs ?? 0));
    if (s.failedLogins >= MAX_FAILED_LOGINS) throw new ProtocolError('bye', 'Too many failed logins');
    if (result.reason === 'throttled') throw no('Too many failed logins, try again later', 'UNAVAILABLE');
    if (result.reason === 'disabled') throw no('Account disabled', 'CONTACTADMIN');
    throw no('Authentication failed', 'AUTHENTICATIONFAILED');
  }
  s.state = { kind: 'authenticated', account: result.account };
  ctx.options.logger.debug({ account: result.account.address, remote: s.remoteAddress }, 'imap login');
  // Dovecot's habit, relied on by clients: the new capabilities in the tagged OK.
  return { code: `CAPABILITY ${capabilities(s).join(' ')}`, text: 'Logged in' };
}
