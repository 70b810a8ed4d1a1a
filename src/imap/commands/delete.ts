// RFC 9051 6.3.5 DELETE. INBOX cannot be deleted.
import { no } from '../errors.js';
import type { Cmd, CommandContext, Done } from '../handler.js';

export async function deleteMailbox(cmd: Cmd<'DELETE'>, ctx: CommandContext): Promise<Done | undefined> {
  const s = ctx.session;
  if (cmd.mailbox === 'INBOX') throw no('INBOX cannot be deleted', 'CANNOT');
  const account = s.account();
  if (s.state.kind === 'selected' && s.state.view.name === cmd.mailbox) s.deselect();
  await ctx.store.deleteMailbox(account.id, cmd.mailbox, { actor: `user:${account.address}`, reason: 'IMAP DELETE' });
  return undefined;
}
