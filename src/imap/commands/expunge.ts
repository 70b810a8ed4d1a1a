// RFC 9051 6.4.3 EXPUNGE: remove every \Deleted message and report each one.
import { no } from '../errors.js';
import type { Cmd, CommandContext, Reply } from '../handler.js';

export async function* expunge(_cmd: Cmd<'EXPUNGE'>, ctx: CommandContext): Reply {
  const s = ctx.session;
  const view = s.view();
  if (view.readOnly) throw no('Mailbox is read-only', 'READ-ONLY');
  // Learn about \Deleted set elsewhere first (and report it: EXPUNGE may send anything).
  yield* s.updates(true);
  const deleted = view.allUids().filter((u) => view.flagsOf(u)?.flags.includes('\\Deleted'));
  if (deleted.length > 0) {
    const removed = await ctx.store.expungeMessages(view.mailboxId, deleted);
    yield* view.removeUids(removed, s.qresync);
  }
  return undefined;
}
