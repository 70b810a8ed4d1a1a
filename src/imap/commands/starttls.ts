// RFC 9051 6.2.1 STARTTLS: the connection upgrades after the tagged OK and
// drops anything the client pipelined before the handshake.
import { bad } from '../errors.js';
import type { Cmd, CommandContext, Done } from '../handler.js';

export async function starttls(_cmd: Cmd<'STARTTLS'>, ctx: CommandContext): Promise<Done | undefined> {
  if (!ctx.options.tls) throw bad('STARTTLS is not available');
  if (ctx.session.secure) throw bad('TLS is already active');
  return { after: 'starttls', text: 'Begin TLS negotiation now' };
}
