// RFC 9051 6.3.2 SELECT / 6.3.3 EXAMINE, with RFC 7162 CONDSTORE and QRESYNC (3.2.5).
import { resolveSequenceSet } from '../parser/index.js';
import { bad, no } from '../errors.js';
import type { Cmd, CommandContext, Reply } from '../handler.js';
import { MailboxView, SYSTEM_FLAG_LIST } from '../mailbox-view.js';
import { flagList, formatSequenceSet, mailboxName, untagged, untaggedStatus } from '../respond.js';
import { mailboxAttributes } from './list.js';
import { mailboxObjectId } from '../object-id.js';

export async function* select(cmd: Cmd<'SELECT' | 'EXAMINE'>, ctx: CommandContext): Reply {
  const s = ctx.session;
  const wasSelected = s.state.kind === 'selected';
  // RFC 9051 6.3.2: a SELECT (even a failing one) first leaves the selected state.
  s.deselect();
  if (wasSelected) yield untaggedStatus('OK', 'Previous mailbox closed', 'CLOSED');
  if (cmd.qresync && !s.qresync) throw bad('QRESYNC is not enabled');
  if (cmd.condstore) s.enabled.add('CONDSTORE');
  const account = s.account();
  const mailbox = await ctx.store.getMailbox(account.id, cmd.mailbox);
  if (!mailbox) throw no('Mailbox does not exist', 'NONEXISTENT');
  const readOnly = cmd.name === 'EXAMINE';
  // RFC 3501 2.3.2 \Recent for IMAP4rev1 sessions only (RFC 9051 removed it).
  const view = await MailboxView.open(ctx.store, mailbox, readOnly, () => s.onMailboxChange(), s.rev2 ? 'off' : readOnly ? 'peek' : 'claim');
  s.state = { kind: 'selected', account, view };

  yield view.flagsResponse();
  const permanent = readOnly ? '()' : flagList([...SYSTEM_FLAG_LIST, ...view.keywords, '\\*']);
  yield untaggedStatus('OK', readOnly ? 'No permanent flags permitted' : 'Flags permitted', `PERMANENTFLAGS ${permanent}`);
  yield untagged(`${view.count} EXISTS`);
  if (!s.rev2) {
    yield untagged(`${view.recent.size} RECENT`);
    const firstUnseen = view.allUids().findIndex((u) => !view.flagsOf(u)?.flags.includes('\\Seen'));
    if (firstUnseen >= 0) yield untaggedStatus('OK', 'First unseen', `UNSEEN ${firstUnseen + 1}`);
  }
  yield untaggedStatus('OK', 'UIDs valid', `UIDVALIDITY ${view.uidValidity}`);
  // RFC 8474 4.2.
  yield untaggedStatus('OK', 'Mailbox id', `MAILBOXID (${mailboxObjectId(mailbox)})`);
  yield untaggedStatus('OK', 'Predicted next UID', `UIDNEXT ${view.uidNext}`);
  // RFC 7162 3.1.2.1: sent with every SELECT/EXAMINE by a server with persistent modseqs.
  yield untaggedStatus('OK', 'Highest', `HIGHESTMODSEQ ${view.modseq}`);
  if (s.rev2) {
    // RFC 9051 6.3.2: the mailbox's LIST response, so the client learns its canonical name.
    const attrs = mailboxAttributes(mailbox, false, false);
    yield untagged(`LIST (${attrs.join(' ')}) "/" `, mailboxName(mailbox.name, { utf8: s.utf8 }));
  }
  const qr = cmd.qresync;
  if (qr && qr.uidValidity === view.uidValidity) {
    // RFC 7162 3.2.5.1: what vanished and what changed since the client's modseq.
    const changes = await ctx.store.changesSince(view.mailboxId, qr.modseq);
    let vanished = changes.vanished.filter((u) => view.msnOf(u) === 0);
    if (qr.knownUids?.kind === 'ranges') {
      const spans = resolveSequenceSet(qr.knownUids.ranges, Number.MAX_SAFE_INTEGER, false);
      vanished = vanished.filter((u) => spans.some(([a, b]) => u >= a && u <= b));
    }
    if (vanished.length > 0) yield untagged(`VANISHED (EARLIER) ${formatSequenceSet(vanished)}`);
    for (const m of changes.changed.sort((a, b) => a.uid - b.uid)) {
      const f = view.flagsOf(m.uid);
      if (f) yield view.fetchFlagsLine(m.uid, f, true);
    }
  }
  return { code: readOnly ? 'READ-ONLY' : 'READ-WRITE', text: `${cmd.name} completed` };
}
