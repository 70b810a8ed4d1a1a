// RFC 9051 6.2.2 AUTHENTICATE with PLAIN (RFC 4616) and LOGIN
// (draft-murchison-sasl-login), initial response per RFC 4959 SASL-IR.
import { bad, no } from '../errors.js';
import type { Cmd, CommandContext, Done } from '../handler.js';
import { login, requirePlaintextAllowed } from '../login-flow.js';

export async function authenticate(cmd: Cmd<'AUTHENTICATE'>, ctx: CommandContext): Promise<Done | undefined> {
  const mech = cmd.mechanism.toUpperCase();
  if (mech !== 'PLAIN' && mech !== 'LOGIN') throw no(`Unsupported mechanism ${cmd.mechanism}`, 'CANNOT');
  requirePlaintextAllowed(ctx);
  if (mech === 'PLAIN') {
    const response = cmd.initialResponse ?? (await ctx.challenge(Buffer.alloc(0)));
    // message = [authzid] NUL authcid NUL passwd (RFC 4616 2)
    const parts = response.toString('utf8').split('\0');
    if (parts.length !== 3) throw bad('Malformed PLAIN response');
    const [authzid, authcid, password] = parts as [string, string, string];
    if (authzid !== '' && authzid.toLowerCase() !== authcid.toLowerCase()) throw no('Proxy authorization is not allowed', 'AUTHORIZATIONFAILED');
    return await login(ctx, authcid, password);
  }
  const username = (cmd.initialResponse ?? (await ctx.challenge(Buffer.from('Username:')))).toString('utf8');
  const password = (await ctx.challenge(Buffer.from('Password:'))).toString('utf8');
  return await login(ctx, username, password);
}
