// RFC 9051 6.3.6 RENAME, children included; renaming INBOX moves its messages (store does it).
import { no } from '../errors.js';
import type { Cmd, CommandContext, Done } from '../handler.js';

export async function rename(cmd: Cmd<'RENAME'>, ctx: CommandContext): Promise<Done | undefined> {
  const to = cmd.newName.replace(/\/+$/, '');
  if (to === '' || to === 'INBOX') throw no('Target mailbox already exists', 'ALREADYEXISTS');
  if (/[*%]/.test(to)) throw no('Mailbox names may not contain * or %', 'CANNOT');
  await ctx.store.renameMailbox(ctx.session.account().id, cmd.mailbox, to);
  return undefined;
}
