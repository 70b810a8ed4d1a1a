// LIST (RFC 9051 6.3.9, RFC 5258 LIST-EXTENDED, RFC 6154 SPECIAL-USE,
// RFC 5819 LIST-STATUS) and the STATUS items shared with STATUS (RFC 9051 6.3.11).

import { bad } from './errors.js';
import { parseListMailbox, parseMailbox, type MailboxNameOptions } from './mailbox-name.js';
import type { Reader } from './reader.js';

export type StatusItem =
  | 'MESSAGES'
  | 'RECENT'
  | 'UIDNEXT'
  | 'UIDVALIDITY'
  | 'UNSEEN'
  | 'DELETED'
  | 'SIZE'
  | 'HIGHESTMODSEQ'
  | 'APPENDLIMIT'
  | 'MAILBOXID';

const STATUS_ITEMS = new Set<string>([
  'MESSAGES',
  'RECENT',
  'UIDNEXT',
  'UIDVALIDITY',
  'UNSEEN',
  'DELETED',
  'SIZE',
  'HIGHESTMODSEQ',
  'APPENDLIMIT',
  'MAILBOXID',
]);

/** "(" status-att *(SP status-att) ")"; duplicates are folded. */
export function parseStatusItems(r: Reader): StatusItem[] {
  const items = r.list(() => {
    const item = r.keyword('status item');
    if (!STATUS_ITEMS.has(item)) throw bad(`Unknown STATUS item ${item}`);
    return item as StatusItem;
  });
  return [...new Set(items)];
}

export interface ListSelection {
  subscribed: boolean;
  remote: boolean;
  recursiveMatch: boolean;
  specialUse: boolean;
}

export interface ListReturn {
  subscribed: boolean;
  children: boolean;
  specialUse: boolean;
  /** RFC 5819: STATUS data to send with each listed mailbox; null when not asked. */
  status: StatusItem[] | null;
}

export interface ListCommand {
  tag: string;
  name: 'LIST';
  reference: string;
  /** One or more patterns; `%` and `*` are wildcards (RFC 9051 6.3.9). */
  patterns: string[];
  selection: ListSelection;
  return: ListReturn;
  /** RFC 5258 3: any extended syntax used, so responses follow the extended rules. */
  extended: boolean;
}

function parseSelection(r: Reader): ListSelection {
  const sel: ListSelection = { subscribed: false, remote: false, recursiveMatch: false, specialUse: false };
  r.list(() => {
    const opt = r.keyword('selection option');
    if (opt === 'SUBSCRIBED') sel.subscribed = true;
    else if (opt === 'REMOTE') sel.remote = true;
    else if (opt === 'RECURSIVEMATCH') sel.recursiveMatch = true;
    else if (opt === 'SPECIAL-USE') sel.specialUse = true;
    // RFC 5258 3: unrecognised selection options are an error.
    else throw bad(`Unknown LIST selection option ${opt}`);
  }, true);
  // RFC 5258 3.1: RECURSIVEMATCH needs another option that is not only REMOTE.
  if (sel.recursiveMatch && !sel.subscribed && !sel.specialUse) {
    throw bad('RECURSIVEMATCH needs another selection option');
  }
  return sel;
}

function parseReturn(r: Reader): ListReturn {
  const ret: ListReturn = { subscribed: false, children: false, specialUse: false, status: null };
  r.list(() => {
    const opt = r.keyword('return option');
    if (opt === 'SUBSCRIBED') ret.subscribed = true;
    else if (opt === 'CHILDREN') ret.children = true;
    else if (opt === 'SPECIAL-USE') ret.specialUse = true;
    else if (opt === 'STATUS') {
      if (ret.status) throw bad('Duplicate STATUS return option');
      r.sp();
      ret.status = parseStatusItems(r);
    } else throw bad(`Unknown LIST return option ${opt}`);
  }, true);
  return ret;
}

/** LIST [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts] */
export function parseListArgs(r: Reader, tag: string, opts: MailboxNameOptions): ListCommand {
  r.sp();
  let extended = false;
  let selection: ListSelection = { subscribed: false, remote: false, recursiveMatch: false, specialUse: false };
  if (r.isChar('(')) {
    selection = parseSelection(r);
    extended = true;
    r.sp();
  }
  const reference = parseMailbox(r, opts);
  r.sp();
  let patterns: string[];
  if (r.isChar('(')) {
    patterns = r.list(() => parseListMailbox(r, opts));
    extended = true;
  } else {
    patterns = [parseListMailbox(r, opts)];
  }
  let ret: ListReturn = { subscribed: false, children: false, specialUse: false, status: null };
  if (r.trySp()) {
    if (!r.peekWord('RETURN ')) throw bad('Expected RETURN');
    r.pos += 6;
    r.sp();
    ret = parseReturn(r);
    extended = true;
  }
  return { tag, name: 'LIST', reference, patterns, selection, return: ret, extended };
}
