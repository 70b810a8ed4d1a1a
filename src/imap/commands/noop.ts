// RFC 9051 6.1.2 NOOP and RFC 3501 6.4.1 CHECK: nothing to do but report
// pending changes, which the session does after every command.
import type { Cmd, CommandContext, Done } from '../handler.js';

export async function noop(_cmd: Cmd<'NOOP' | 'CHECK'>, _ctx: CommandContext): Promise<Done | undefined> {
  return undefined;
}
