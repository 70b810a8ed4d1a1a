// RFC 9051 6.4.6 STORE (+/-FLAGS, .SILENT) with RFC 7162 3.1.3 UNCHANGEDSINCE.
import type { FlagOperation } from '../../store/types.js';
import { no } from '../errors.js';
import type { Cmd, CommandContext, Reply } from '../handler.js';
import { flagList, formatSequenceSet, untagged } from '../respond.js';

const OPERATION: Record<'add' | 'remove' | 'set', FlagOperation> = { add: 'add', remove: 'remove', set: 'set' };

export async function* store(cmd: Cmd<'STORE'>, ctx: CommandContext): Reply {
  const s = ctx.session;
  const view = s.view();
  if (view.readOnly) throw no('Mailbox is read-only', 'READ-ONLY');
  if (cmd.unchangedSince !== null) s.enabled.add('CONDSTORE');
  const uids = view.resolve(cmd.set, cmd.uid, s.savedSearch).filter((u) => !view.isPendingExpunge(u));
  if (uids.length === 0) return undefined;
  const keywordsBefore = view.keywords.size;
  const result = await ctx.store.updateFlags(view.mailboxId, {
    uids,
    operation: OPERATION[cmd.action],
    flags: cmd.flags.system,
    keywords: cmd.flags.keywords,
    ...(cmd.unchangedSince !== null ? { unchangedSince: cmd.unchangedSince } : {}),
  });
  const changed = new Set<number>();
  for (const c of result.changed) {
    view.setFlags(c.uid, { flags: c.flags, keywords: c.keywords, modseq: c.modseq });
    changed.add(c.uid);
  }
  if (view.keywords.size !== keywordsBefore) yield view.flagsResponse();
  const modified = new Set(result.modified);
  const condstore = s.condstore;
  for (const uid of uids) {
    if (modified.has(uid)) continue;
    // RFC 7162 3.1.3: with CONDSTORE the changed messages are reported even with .SILENT.
    if (cmd.silent && !(condstore && changed.has(uid))) continue;
    const f = view.flagsOf(uid);
    if (!f) continue;
    const parts = [`FLAGS ${flagList(view.flagNames(uid, f))}`];
    // RFC 7162 3.2.4: with QRESYNC every FETCH response carries the UID.
    if (cmd.uid || s.qresync) parts.unshift(`UID ${uid}`);
    if (condstore) parts.push(`MODSEQ (${f.modseq})`);
    yield untagged(`${view.msnOf(uid)} FETCH (${parts.join(' ')})`);
  }
  if (modified.size > 0) {
    // RFC 7162 3.1.3: MODIFIED lists what UNCHANGEDSINCE kept unchanged, as UIDs for UID STORE.
    const set = [...modified].map((u) => (cmd.uid ? u : view.msnOf(u)));
    return { code: `MODIFIED ${formatSequenceSet(set)}`, text: 'Conditional STORE failed for some messages' };
  }
  return undefined;
}
