// RFC 2342 NAMESPACE: one personal namespace, no shared or other users'.
import type { Cmd, CommandContext, Reply } from '../handler.js';
import { untagged } from '../respond.js';

export async function* namespace(_cmd: Cmd<'NAMESPACE'>, _ctx: CommandContext): Reply {
  yield untagged('NAMESPACE (("" "/")) NIL NIL');
  return undefined;
}
