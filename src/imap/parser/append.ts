// APPEND arguments (RFC 9051 6.3.12, RFC 3502 MULTIAPPEND, RFC 3516 literal8,
// RFC 6855 4 UTF8 (literal8)).

import { parseDateTime } from './datetime.js';
import { bad } from './errors.js';
import { parseFlagList, type FlagSet } from './flags.js';
import { parseMailbox, type MailboxNameOptions } from './mailbox-name.js';
import type { Reader } from './reader.js';

export interface AppendMessage {
  flags: FlagSet;
  /** Absent: the server uses the current time (RFC 9051 6.3.12). */
  internalDate: Date | null;
  message: Buffer;
  /** Sent as literal8 `~{n}`: may contain NUL and raw 8-bit (RFC 3516 4.4). */
  binary: boolean;
  /** Wrapped in `UTF8 (...)` (RFC 6855 4): headers may carry raw UTF-8. */
  utf8: boolean;
}

function parseMessage(r: Reader, opts: MailboxNameOptions): AppendMessage {
  let flags: FlagSet = { system: [], keywords: [] };
  let internalDate: Date | null = null;
  if (r.isChar('(')) {
    flags = parseFlagList(r);
    r.sp();
  }
  if (r.isChar('"')) {
    internalDate = parseDateTime(r);
    r.sp();
  }
  if (r.peekWord('UTF8 (')) {
    // RFC 6855 4: append-data =/ "UTF8" SP "(" literal8 ")"
    if (!opts.utf8) throw bad('UTF8 APPEND needs UTF8=ACCEPT enabled');
    r.pos += 6;
    const lit = r.literal(true, true);
    r.expect(')');
    return { flags, internalDate, message: lit.data, binary: lit.binary, utf8: true };
  }
  if (!r.isLiteral()) throw bad(r.atEnd() ? 'Missing message literal' : 'Expected a message literal');
  const lit = r.literal(true, true);
  return { flags, internalDate, message: lit.data, binary: lit.binary, utf8: false };
}

/** APPEND SP mailbox 1*(SP [flag-list SP] [date-time SP] literal) */
export function parseAppendArgs(r: Reader, opts: MailboxNameOptions): { mailbox: string; messages: AppendMessage[] } {
  r.sp();
  const mailbox = parseMailbox(r, opts);
  r.sp();
  const messages = [parseMessage(r, opts)];
  // RFC 3502 MULTIAPPEND: more messages follow, each with its own flags and date.
  while (r.trySp()) messages.push(parseMessage(r, opts));
  return { mailbox, messages };
}
