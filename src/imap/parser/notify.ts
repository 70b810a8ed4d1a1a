// RFC 5465 NOTIFY arguments. The grammar only: which events the server can
// deliver, and for which mailboxes, is the handler's business (NO [BADEVENT]).
//
// notify          = "NOTIFY" SP (notify-set / notify-none)
// notify-set      = "SET" [SP "STATUS"] SP event-group *(SP event-group)
// event-group     = "(" filter-mailboxes SP events ")"
// filter-mailboxes = "selected" / "selected-delayed" / "inboxes" / "personal" /
//                    "subscribed" / ("subtree" SP one-or-more-mailbox) /
//                    ("mailboxes" SP one-or-more-mailbox)
// events          = ("(" event *(SP event) ")") / "NONE"
// event           = "MessageNew" [SP "(" fetch-att *(SP fetch-att) ")"] / other names

import { bad } from './errors.js';
import { parseFetchItem, type FetchItem } from './fetch.js';
import { parseMailbox, type MailboxNameOptions } from './mailbox-name.js';
import type { Reader } from './reader.js';

export type NotifyFilter =
  | { kind: 'selected' | 'selected-delayed' | 'inboxes' | 'personal' | 'subscribed' }
  | { kind: 'subtree' | 'mailboxes'; mailboxes: string[] };

/** An event as the client named it (upper-cased); MessageNew may carry fetch attributes. */
export interface NotifyEvent {
  name: string;
  fetch?: FetchItem[];
}

export interface NotifyGroup {
  filter: NotifyFilter;
  /** Empty for NONE: no events for these mailboxes. */
  events: NotifyEvent[];
}

export type NotifyArgs = { set: false } | { set: true; status: boolean; groups: NotifyGroup[] };

function filter(r: Reader, opts: MailboxNameOptions): NotifyFilter {
  const name = r.atom('mailbox filter').toLowerCase();
  switch (name) {
    case 'selected':
    case 'selected-delayed':
    case 'inboxes':
    case 'personal':
    case 'subscribed':
      return { kind: name };
    case 'subtree':
    case 'mailboxes': {
      r.sp();
      // (How many mailboxes and groups fit is bounded by the command size limit.)
      const mailboxes = r.isChar('(') ? r.list(() => parseMailbox(r, opts)) : [parseMailbox(r, opts)];
      return { kind: name, mailboxes };
    }
    default:
      throw bad(`Unknown mailbox filter ${name}`);
  }
}

function event(r: Reader): NotifyEvent {
  const name = r.atom('event').toUpperCase();
  if (name === 'MESSAGENEW' && r.peek() === 0x20 && r.peek(1) === 0x28) {
    r.sp();
    return { name, fetch: r.list(() => parseFetchItem(r)) };
  }
  return { name };
}

function group(r: Reader, opts: MailboxNameOptions): NotifyGroup {
  r.expect('(');
  const f = filter(r, opts);
  r.sp();
  let events: NotifyEvent[];
  if (r.isChar('(')) events = r.list(() => event(r));
  else if (r.keyword('events') === 'NONE') events = [];
  else throw bad('Expected an event list or NONE');
  r.skipSpaces();
  r.expect(')');
  return { filter: f, events };
}

/** NOTIFY SP (SET [SP STATUS] SP event-groups / NONE) (RFC 5465 8) */
export function parseNotifyArgs(r: Reader, opts: MailboxNameOptions): NotifyArgs {
  r.sp();
  const verb = r.keyword('NOTIFY verb');
  if (verb === 'NONE') return { set: false };
  if (verb !== 'SET') throw bad('NOTIFY takes SET or NONE');
  r.sp();
  let status = false;
  if (r.peekWord('STATUS')) {
    r.keyword();
    status = true;
    r.sp();
  }
  const groups: NotifyGroup[] = [group(r, opts)];
  while (r.trySp()) groups.push(group(r, opts));
  return { set: true, status, groups };
}
