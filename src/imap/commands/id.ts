// RFC 2971 ID: the client's fields are logged, ours are name and version.
import type { Cmd, CommandContext, Reply } from '../handler.js';
import { untagged } from '../respond.js';
import { VERSION } from '../../version.js';

export async function* id(cmd: Cmd<'ID'>, ctx: CommandContext): Reply {
  if (cmd.params) ctx.options.logger.debug({ remote: ctx.session.remoteAddress, id: Object.fromEntries(cmd.params) }, 'imap client id');
  yield untagged(`ID ("name" "Steadymail" "version" "${VERSION}")`);
  return undefined;
}
