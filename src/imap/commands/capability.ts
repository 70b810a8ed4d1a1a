// RFC 9051 6.1.1 CAPABILITY
import { capabilities } from '../capabilities.js';
import type { Cmd, CommandContext, Reply } from '../handler.js';
import { untagged } from '../respond.js';

export async function* capability(_cmd: Cmd<'CAPABILITY'>, ctx: CommandContext): Reply {
  yield untagged(`CAPABILITY ${capabilities(ctx.session).join(' ')}`);
  return undefined;
}
