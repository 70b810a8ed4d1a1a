// RFC 2177 IDLE: the continuation, then the connection waits for DONE while
// pushing changes; the tagged OK is sent by the connection after DONE.
import type { Cmd, CommandContext, Reply } from '../handler.js';
import { continuation } from '../respond.js';

export async function* idle(_cmd: Cmd<'IDLE'>, ctx: CommandContext): Reply {
  yield* ctx.session.updates(true);
  yield continuation('idling');
  return { after: 'idle' };
}
