// RFC 9051 6.4.1 CLOSE: silently expunge \Deleted messages (read-write only), then deselect.
import type { Cmd, CommandContext, Done } from '../handler.js';

export async function close(_cmd: Cmd<'CLOSE'>, ctx: CommandContext): Promise<Done | undefined> {
  const s = ctx.session;
  const view = s.view();
  if (!view.readOnly) {
    // Bring the \Deleted flags up to date first; nothing is reported, the mailbox is being closed.
    await view.sync({ allowExpunge: false, condstore: false, qresync: false });
    const deleted = view.allUids().filter((u) => view.flagsOf(u)?.flags.includes('\\Deleted'));
    if (deleted.length > 0) {
      await ctx.store.expungeMessages(view.mailboxId, deleted);
    }
  }
  s.deselect();
  return undefined;
}
