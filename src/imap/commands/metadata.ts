// RFC 5464 METADATA: GETMETADATA and SETMETADATA on a mailbox or (mailbox "") on
// the server. Entries are kept per account; /private and /shared are both the
// account's own (a mailbox has one user here), as Dovecot keeps them.
import { no } from '../errors.js';
import type { Cmd, CommandContext, Done, Reply } from '../handler.js';
import { literal, mailboxName, untagged } from '../respond.js';

const DEFAULT_MAX_ENTRY_BYTES = 65536;
const DEFAULT_MAX_ENTRIES = 100;

/** The mailbox id, null for the server; NO [NONEXISTENT] for a missing mailbox. */
async function target(ctx: CommandContext, name: string): Promise<number | null> {
  if (name === '') return null;
  const mailbox = await ctx.store.getMailbox(ctx.session.account().id, name);
  if (!mailbox) throw no('Mailbox does not exist', 'NONEXISTENT');
  return mailbox.id;
}

/** RFC 5464 4.2 */
export async function* getMetadata(cmd: Cmd<'GETMETADATA'>, ctx: CommandContext): Reply {
  const box = await target(ctx, cmd.mailbox);
  const found = await ctx.store.getMetadata(ctx.session.account().id, box, cmd.entries, cmd.depth);
  // RFC 5464 4.2.1: values over MAXSIZE are left out, and the biggest left out is named.
  const shown = found.filter((e) => cmd.maxSize === null || e.value.length <= cmd.maxSize);
  const longest = found.reduce((mx, e) => (cmd.maxSize !== null && e.value.length > cmd.maxSize ? Math.max(mx, e.value.length) : mx), 0);
  if (shown.length > 0) {
    const parts: Buffer[] = [Buffer.from('METADATA '), mailboxName(cmd.mailbox, { utf8: ctx.session.utf8 }), Buffer.from(' (')];
    shown.forEach((e, i) => {
      parts.push(Buffer.from(`${i > 0 ? ' ' : ''}${e.name} `), literal(e.value, e.value.includes(0)));
    });
    parts.push(Buffer.from(')'));
    yield untagged(...parts);
  }
  return longest > 0 ? { code: `METADATA LONGENTRIES ${longest}`, text: 'GETMETADATA completed' } : undefined;
}

/** RFC 5464 4.3: all entries set, or none. */
export async function setMetadata(cmd: Cmd<'SETMETADATA'>, ctx: CommandContext): Promise<Done | undefined> {
  const limits = ctx.options.limits;
  const maxBytes = limits.metadataMaxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const biggest = cmd.entries.reduce((mx, e) => Math.max(mx, e.value?.length ?? 0), 0);
  if (biggest > maxBytes) throw no('Value too large', `METADATA MAXSIZE ${maxBytes}`);
  const box = await target(ctx, cmd.mailbox);
  const ok = await ctx.store.setMetadata(ctx.session.account().id, box, cmd.entries, limits.metadataMaxEntries ?? DEFAULT_MAX_ENTRIES);
  if (!ok) throw no('Too many entries', 'METADATA TOOMANY');
  return undefined;
}
