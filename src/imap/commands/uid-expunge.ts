// RFC 4315 2.1 UID EXPUNGE (RFC 9051 6.4.9): only the named \Deleted messages.
import { no } from '../errors.js';
import type { Cmd, CommandContext, Reply } from '../handler.js';

export async function* uidExpunge(cmd: Cmd<'UID EXPUNGE'>, ctx: CommandContext): Reply {
  const s = ctx.session;
  const view = s.view();
  if (view.readOnly) throw no('Mailbox is read-only', 'READ-ONLY');
  yield* s.updates(true);
  const named = view.resolve(cmd.set, true, s.savedSearch);
  const deleted = named.filter((u) => view.flagsOf(u)?.flags.includes('\\Deleted'));
  if (deleted.length > 0) {
    const removed = await ctx.store.expungeMessages(view.mailboxId, deleted);
    yield* view.removeUids(removed, s.qresync);
  }
  return undefined;
}
