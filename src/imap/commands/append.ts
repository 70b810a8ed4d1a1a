// RFC 9051 6.3.12 APPEND with RFC 4315 APPENDUID, RFC 7889 APPENDLIMIT.
// Durability (DESIGN.md): the blob is written and fsynced, then the metadata
// commits, and only then is OK sent.
import { indexMessage, toStoredStructure } from '../../mime/index.js';
import { no } from '../errors.js';
import type { Cmd, CommandContext, Done } from '../handler.js';
import { formatSequenceSet } from '../respond.js';

export async function append(cmd: Cmd<'APPEND'>, ctx: CommandContext): Promise<Done | undefined> {
  const account = ctx.session.account();
  const mailbox = await ctx.store.getMailbox(account.id, cmd.mailbox);
  // RFC 9051 6.3.12: TRYCREATE tells the client it may CREATE and retry.
  if (!mailbox) throw no('Mailbox does not exist', 'TRYCREATE');
  const uids: number[] = [];
  let uidValidity = mailbox.uidValidity;
  for (const msg of cmd.messages) {
    if (msg.message.length === 0) throw no('Empty message', 'CANNOT');
    if (msg.message.length > ctx.options.limits.maxLiteralBytes) throw no('Message too large', 'TOOBIG');
    const index = indexMessage(msg.message);
    const blob = await ctx.store.blobs.put(msg.message);
    const result = await ctx.store.appendMessage(mailbox.id, {
      blobId: blob.id,
      size: blob.size,
      internalDate: msg.internalDate ?? new Date(),
      flags: msg.flags.system,
      keywords: msg.flags.keywords,
      structure: toStoredStructure(index),
    });
    uids.push(result.uid);
    uidValidity = result.uidValidity;
  }
  return { code: `APPENDUID ${uidValidity} ${formatSequenceSet(uids, { sort: false })}`, text: 'APPEND completed' };
}
