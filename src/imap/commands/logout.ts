// RFC 9051 6.1.3 LOGOUT: `* BYE` (always with text: Outlook), then the tagged OK, then close.
import type { Cmd, CommandContext, Reply } from '../handler.js';
import { untaggedStatus } from '../respond.js';

export async function* logout(_cmd: Cmd<'LOGOUT'>, ctx: CommandContext): Reply {
  ctx.session.close();
  yield untaggedStatus('BYE', 'Logging out');
  return { after: 'logout', text: 'LOGOUT completed' };
}
