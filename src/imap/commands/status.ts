// RFC 9051 6.3.11 STATUS (with RFC 8438 SIZE, RFC 7162 HIGHESTMODSEQ, RFC 7889 APPENDLIMIT).
import type { StatusItem } from '../parser/index.js';
import type { Mailbox } from '../../store/types.js';
import { no } from '../errors.js';
import type { Cmd, CommandContext, Reply } from '../handler.js';
import { mailboxName, untagged } from '../respond.js';
import { mailboxObjectId } from '../object-id.js';

export async function statusResponse(ctx: CommandContext, m: Mailbox, items: readonly StatusItem[]): Promise<Buffer> {
  const out: string[] = [];
  let deleted: number | undefined;
  for (const item of items) {
    switch (item) {
      case 'MESSAGES':
        out.push(`MESSAGES ${m.messages}`);
        break;
      case 'RECENT': {
        // RFC 3501 6.3.10: the messages not yet claimed as \Recent by a session.
        const r = await ctx.store.claimRecent(m.id, false);
        const recent = r.from > r.to ? 0 : (await ctx.store.listMessages(m.id, { fromUid: r.from, withoutStructure: true })).length;
        out.push(`RECENT ${recent}`);
        break;
      }
      case 'UIDNEXT':
        out.push(`UIDNEXT ${m.uidNext}`);
        break;
      case 'UIDVALIDITY':
        out.push(`UIDVALIDITY ${m.uidValidity}`);
        break;
      case 'UNSEEN':
        out.push(`UNSEEN ${m.unseen}`);
        break;
      case 'DELETED':
        deleted ??= (await ctx.store.listMessages(m.id, { withoutStructure: true })).filter((x) => x.flags.includes('\\Deleted')).length;
        out.push(`DELETED ${deleted}`);
        break;
      case 'SIZE':
        out.push(`SIZE ${m.bytes}`);
        break;
      case 'HIGHESTMODSEQ':
        out.push(`HIGHESTMODSEQ ${m.highestModseq}`);
        break;
      case 'APPENDLIMIT':
        out.push(`APPENDLIMIT ${ctx.options.limits.maxLiteralBytes}`);
        break;
      case 'MAILBOXID':
        out.push(`MAILBOXID (${mailboxObjectId(m)})`);
        break;
    }
  }
  return untagged('STATUS ', mailboxName(m.name, { utf8: ctx.session.utf8 }), ` (${out.join(' ')})`);
}

export async function* status(cmd: Cmd<'STATUS'>, ctx: CommandContext): Reply {
  const m = await ctx.store.getMailbox(ctx.session.account().id, cmd.mailbox);
  if (!m) throw no('Mailbox does not exist', 'NONEXISTENT');
  if (cmd.items.includes('HIGHESTMODSEQ')) ctx.session.enabled.add('CONDSTORE');
  yield await statusResponse(ctx, m, cmd.items);
  return undefined;
}
