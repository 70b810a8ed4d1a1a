// RFC 3501 6.3.9 LSUB (deprecated in RFC 9051 but used by many clients). Special-use
// attributes are sent here too: Outlook reads them from LSUB.
import type { Cmd, CommandContext, Reply } from '../handler.js';
import { mailboxName, untagged } from '../respond.js';
import { listMatcher, parentNames } from './list.js';

export async function* lsub(cmd: Cmd<'LSUB'>, ctx: CommandContext): Reply {
  const s = ctx.session;
  if (cmd.pattern === '') {
    yield untagged('LSUB (\\Noselect) "/" ""');
    return undefined;
  }
  const all = await ctx.store.listMailboxes(s.account().id);
  const parents = parentNames(all);
  const match = listMatcher(cmd.reference, cmd.pattern);
  for (const m of all) {
    if (!m.subscribed || !match(m.name)) continue;
    const attrs = [parents.has(m.name) ? '\\HasChildren' : '\\HasNoChildren'];
    if (m.specialUse) attrs.push(m.specialUse);
    yield untagged(`LSUB (${attrs.join(' ')}) "/" `, mailboxName(m.name, { utf8: s.utf8 }));
  }
  return undefined;
}
