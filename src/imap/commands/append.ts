// RFC 9051 6.3.12 APPEND with RFC 4315 APPENDUID, RFC 7889 APPENDLIMIT, RFC 3502 MULTIAPPEND.
// Durability (DESIGN.md): the blob is written and fsynced, then the metadata
// commits, and only then is OK sent.
import { indexMessage, toStoredStructure } from '../../mime/index.js';
import { no } from '../errors.js';
import type { Cmd, CommandContext, Done } from '../handler.js';
import { formatSequenceSet } from '../respond.js';
import type { NewMessage } from '../../store/types.js';

export async function append(cmd: Cmd<'APPEND'>, ctx: CommandContext): Promise<Done | undefined> {
  const account = ctx.session.account();
  const mailbox = await ctx.store.getMailbox(account.id, cmd.mailbox);
  // RFC 9051 6.3.12: TRYCREATE tells the client it may CREATE and retry.
  if (!mailbox) throw no('Mailbox does not exist', 'TRYCREATE');
  // RFC 3502 MULTIAPPEND: all messages or none. Everything is checked, then every blob
  // is made durable, then one transaction adds them all.
  for (const msg of cmd.messages) {
    if (msg.message.length === 0) throw no('Empty message', 'CANNOT');
    if (msg.message.length > ctx.options.limits.maxLiteralBytes) throw no('Message too large', 'TOOBIG');
  }
  const list: NewMessage[] = [];
  for (const msg of cmd.messages) {
    const index = indexMessage(msg.message);
    const blob = await ctx.store.blobs.put(msg.message);
    list.push({
      blobId: blob.id,
      size: blob.size,
      internalDate: msg.internalDate ?? new Date(),
      flags: msg.flags.system,
      keywords: msg.flags.keywords,
      structure: toStoredStructure(index),
    });
  }
  const results = list.length === 1 ? [await ctx.store.appendMessage(mailbox.id, list[0]!)] : await ctx.store.appendMessages(mailbox.id, list);
  const uids = results.map((r) => r.uid);
  const uidValidity = results[0]?.uidValidity ?? mailbox.uidValidity;
  return { code: `APPENDUID ${uidValidity} ${formatSequenceSet(uids, { sort: false })}`, text: 'APPEND completed' };
}
