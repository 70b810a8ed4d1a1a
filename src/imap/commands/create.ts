// RFC 9051 6.3.4 CREATE, with RFC 6154 3 CREATE-SPECIAL-USE.
import type { SpecialUse } from '../../store/types.js';
import { no } from '../errors.js';
import { mailboxObjectId } from '../object-id.js';
import type { Cmd, CommandContext, Done } from '../handler.js';

const USES: ReadonlyMap<string, SpecialUse> = new Map(
  (['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive', '\\All', '\\Flagged'] as const).map((u) => [u.toUpperCase(), u]),
);

export async function create(cmd: Cmd<'CREATE'>, ctx: CommandContext): Promise<Done | undefined> {
  // RFC 9051 6.3.4: a trailing hierarchy delimiter only says the client wants children.
  const name = cmd.mailbox.replace(/\/+$/, '');
  if (name === '' || name.toUpperCase() === 'INBOX') throw no('Mailbox already exists', 'ALREADYEXISTS');
  // Wildcards in names would make LIST patterns ambiguous (RFC 9051 5.1: SHOULD NOT be used).
  if (/[*%]/.test(name)) throw no('Mailbox names may not contain * or %', 'CANNOT');
  if (cmd.specialUse.length > 1) throw no('Only one special use per mailbox', 'USEATTR');
  let specialUse: SpecialUse | null = null;
  const wanted = cmd.specialUse[0];
  if (wanted !== undefined) {
    const use = USES.get(wanted.toUpperCase());
    if (!use) throw no(`Unsupported special use ${wanted}`, 'USEATTR');
    specialUse = use;
  }
  const created = await ctx.store.createMailbox(ctx.session.account().id, name, { specialUse, subscribed: true });
  // RFC 8474 4.1: the new mailbox's id in the tagged OK.
  return { code: `MAILBOXID (${mailboxObjectId(created)})`, text: 'CREATE completed' };
}
