// RFC 3691 UNSELECT (RFC 9051 6.4.2): leave the mailbox without expunging.
import type { Cmd, CommandContext, Done } from '../handler.js';

export async function unselect(_cmd: Cmd<'UNSELECT'>, ctx: CommandContext): Promise<Done | undefined> {
  ctx.session.deselect();
  return undefined;
}
