// RFC 9051 6.3.9 LIST with RFC 5258 LIST-EXTENDED, RFC 6154 SPECIAL-USE,
// RFC 3348 CHILDREN and RFC 5819 LIST-STATUS.
import { normalizeInbox } from '../parser/index.js';
import type { Mailbox } from '../../store/types.js';
import type { Cmd, CommandContext, Reply } from '../handler.js';
import { mailboxName, untagged } from '../respond.js';
import { statusResponse } from './status.js';

/** `*` matches anything, `%` anything but the hierarchy delimiter (RFC 9051 6.3.9). */
export function listMatcher(reference: string, pattern: string): (name: string) => boolean {
  let full = pattern;
  if (reference !== '' && !pattern.startsWith('/')) full = reference.endsWith('/') ? reference + pattern : `${reference}/${pattern}`;
  // INBOX is case-insensitive, also as the first level of a pattern.
  full = normalizeInbox(full);
  const re = new RegExp('^' + full.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/%/g, '[^/]*') + '$', 's');
  return (name) => re.test(name);
}

/** Attributes every LIST carries: CHILDREN (RFC 3348) and the special use (RFC 6154). */
export function mailboxAttributes(mailbox: Mailbox, hasChildren: boolean, subscribed: boolean): string[] {
  const attrs = [hasChildren ? '\\HasChildren' : '\\HasNoChildren'];
  if (subscribed) attrs.push('\\Subscribed');
  if (mailbox.specialUse) attrs.push(mailbox.specialUse);
  return attrs;
}

/** Names with children, including parents that exist only as a prefix. */
export function parentNames(mailboxes: readonly Mailbox[]): Set<string> {
  const parents = new Set<string>();
  for (const m of mailboxes) {
    const parts = m.name.split('/');
    for (let i = 1; i < parts.length; i++) parents.add(parts.slice(0, i).join('/'));
  }
  return parents;
}

export async function* list(cmd: Cmd<'LIST'>, ctx: CommandContext): Reply {
  const s = ctx.session;
  const opts = { utf8: s.utf8 };
  if (!cmd.extended && cmd.patterns.length === 1 && cmd.patterns[0] === '') {
    // RFC 9051 6.3.9: an empty pattern asks for the delimiter and the root.
    yield untagged('LIST (\\Noselect) "/" ""');
    return undefined;
  }
  const account = s.account();
  const all = await ctx.store.listMailboxes(account.id);
  const parents = parentNames(all);
  const matchers = cmd.patterns.map((p) => listMatcher(cmd.reference, p));
  const matches = (name: string): boolean => matchers.some((m) => m(name));
  const sel = cmd.selection;
  const showSubscribed = cmd.return.subscribed || sel.subscribed;
  const existing = new Set(all.map((m) => m.name));
  const subscribedNames = all.filter((m) => m.subscribed).map((m) => m.name);
  for (const m of all.sort((a, b) => (a.name === 'INBOX' ? -1 : b.name === 'INBOX' ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!matches(m.name)) continue;
    const selected = (!sel.subscribed || m.subscribed) && (!sel.specialUse || m.specialUse !== null);
    // RFC 5258 3.5: with RECURSIVEMATCH a parent of a selected mailbox is listed with CHILDINFO.
    const childInfo = sel.recursiveMatch && sel.subscribed && subscribedNames.some((n) => n.startsWith(m.name + '/'));
    if (!selected && !childInfo) continue;
    const attrs = mailboxAttributes(m, parents.has(m.name), showSubscribed && m.subscribed);
    yield untagged(`LIST (${attrs.join(' ')}) "/" `, mailboxName(m.name, opts), childInfo ? ' ("CHILDINFO" ("SUBSCRIBED"))' : '');
    if (cmd.return.status) yield await statusResponse(ctx, m, cmd.return.status);
  }
  if (!sel.subscribed && !sel.specialUse) {
    // Parents that exist only as part of a child's name.
    for (const p of [...parents].sort()) {
      if (existing.has(p) || !matches(p)) continue;
      yield untagged(`LIST (${s.rev2 || cmd.extended ? '\\NonExistent' : '\\Noselect'} \\HasChildren) "/" `, mailboxName(p, opts));
    }
  }
  return undefined;
}
