// RFC 9051 6.4.7 COPY and RFC 6851 MOVE, with RFC 4315 COPYUID.
import { no } from '../errors.js';
import type { Cmd, CommandContext, Reply } from '../handler.js';
import { formatSequenceSet, untaggedStatus } from '../respond.js';

export async function* copy(cmd: Cmd<'COPY' | 'MOVE'>, ctx: CommandContext): Reply {
  const s = ctx.session;
  const view = s.view();
  if (cmd.name === 'MOVE' && view.readOnly) throw no('Mailbox is read-only', 'READ-ONLY');
  const uids = view.resolve(cmd.set, cmd.uid, s.savedSearch).filter((u) => !view.isPendingExpunge(u));
  const target = await ctx.store.getMailbox(s.account().id, cmd.mailbox);
  if (!target) throw no('Mailbox does not exist', 'TRYCREATE');
  if (uids.length === 0) return { text: `${cmd.name} completed, nothing to do` };
  const transferred = (mapping: Array<[number, number]>) =>
    ctx.options.onTransfer?.({ accountId: s.account().id, fromMailboxId: view.mailboxId, to: target, uids: mapping.map(([, b]) => b) });
  if (cmd.name === 'COPY') {
    const r = await ctx.store.copyMessages(view.mailboxId, uids, target.id);
    transferred(r.mapping);
    return { code: copyUid(r.uidValidity, r.mapping), text: 'COPY completed' };
  }
  const r = await ctx.store.moveMessages(view.mailboxId, uids, target.id);
  transferred(r.mapping);
  // RFC 6851 4.3: COPYUID goes in an untagged OK before the expunges.
  yield untaggedStatus('OK', 'Moved', copyUid(r.uidValidity, r.mapping));
  yield* view.removeUids(
    r.mapping.map(([src]) => src),
    s.qresync,
  );
  return { text: 'MOVE completed' };
}

function copyUid(uidValidity: number, mapping: Array<[number, number]>): string {
  const src = formatSequenceSet(
    mapping.map(([a]) => a),
    { sort: false },
  );
  const dst = formatSequenceSet(
    mapping.map(([, b]) => b),
    { sort: false },
  );
  return `COPYUID ${uidValidity} ${src} ${dst}`;
}
