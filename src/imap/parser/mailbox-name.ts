// Mailbox names (RFC 9051 5.1, RFC 3501 5.1.3 modified UTF-7, RFC 6855 3).
// Inside Steadymail a name is always UTF-8 with `/` as hierarchy delimiter and
// INBOX spelled `INBOX`; on the wire it is modified UTF-7 unless the client has
// enabled UTF8=ACCEPT (or IMAP4rev2).

import { ParseError, bad } from './errors.js';
import { decodeUtf8, isListChar, type Reader } from './reader.js';

export const HIERARCHY_DELIMITER = '/';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const B64_VALUE = new Map<string, number>([...B64].map((c, i) => [c, i]));

function invalid(): ParseError {
  return new ParseError('no', 'Mailbox name is not valid mUTF-7');
}

/** RFC 3501 5.1.3: printable US-ASCII except `&` stands for itself; everything else is base64 of UTF-16BE. */
export function encodeModifiedUtf7(name: string): string {
  let out = '';
  let pending: number[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const bytes: number[] = [];
    for (const u of pending) bytes.push(u >> 8, u & 0xff);
    let bits = 0;
    let acc = 0;
    let s = '&';
    for (const b of bytes) {
      acc = (acc << 8) | b;
      bits += 8;
      while (bits >= 6) {
        bits -= 6;
        s += B64[(acc >> bits) & 0x3f];
      }
      acc &= (1 << bits) - 1;
    }
    if (bits > 0) s += B64[(acc << (6 - bits)) & 0x3f];
    out += s + '-';
    pending = [];
  };
  for (let i = 0; i < name.length; i++) {
    const u = name.charCodeAt(i);
    if (u >= 0x20 && u <= 0x7e) {
      flush();
      out += u === 0x26 ? '&-' : name[i];
    } else {
      pending.push(u);
    }
  }
  flush();
  return out;
}

/**
 * Strict decoder, as Dovecot's: rejects 8-bit input, unterminated or empty
 * shifts (other than `&-`), non-zero padding bits, directly encodable characters
 * inside a shift, adjacent shifts, and broken surrogate pairs.
 */
export function decodeModifiedUtf7(wire: string): string {
  let out = '';
  let i = 0;
  let lastShiftEnd = -1;
  while (i < wire.length) {
    const c = wire.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw invalid();
    if (c !== 0x26) {
      out += wire[i];
      i++;
      continue;
    }
    const end = wire.indexOf('-', i + 1);
    if (end < 0) throw invalid();
    if (end === i + 1) {
      out += '&';
      i = end + 1;
      continue;
    }
    // RFC 3501 5.1.3: null shifts ("-&" while in BASE64) are not permitted.
    if (lastShiftEnd === i) throw invalid();
    let acc = 0;
    let bits = 0;
    const units: number[] = [];
    const bytes: number[] = [];
    for (let j = i + 1; j < end; j++) {
      const v = B64_VALUE.get(wire[j] ?? '');
      if (v === undefined) throw invalid();
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        bytes.push((acc >> bits) & 0xff);
        acc &= (1 << bits) - 1;
      }
    }
    if (acc !== 0 || bits >= 6 || bytes.length % 2 !== 0) throw invalid();
    for (let k = 0; k < bytes.length; k += 2) units.push(((bytes[k] ?? 0) << 8) | (bytes[k + 1] ?? 0));
    for (let k = 0; k < units.length; k++) {
      const u = units[k] ?? 0;
      if (u >= 0x20 && u <= 0x7e) throw invalid();
      if (u >= 0xd800 && u <= 0xdbff) {
        const lo = units[k + 1];
        if (lo === undefined || lo < 0xdc00 || lo > 0xdfff) throw invalid();
        k++;
      } else if (u >= 0xdc00 && u <= 0xdfff) {
        throw invalid();
      }
    }
    // In slices: a name can arrive as a multi-megabyte literal, too many for one call's arguments.
    for (let k = 0; k < units.length; k += 8192) out += String.fromCharCode(...units.slice(k, k + 8192));
    i = end + 1;
    lastShiftEnd = i;
  }
  return out;
}

/** RFC 9051 5.1: INBOX is case-insensitive; so is the INBOX part of its children. */
export function normalizeInbox(name: string): string {
  if (name.length < 5 || name.slice(0, 5).toUpperCase() !== 'INBOX') return name;
  if (name.length === 5) return 'INBOX';
  if (name[5] === HIERARCHY_DELIMITER) return 'INBOX' + name.slice(5);
  return name;
}

export interface MailboxNameOptions {
  /** RFC 6855 / RFC 9051: names on the wire are UTF-8, not modified UTF-7. */
  utf8: boolean;
}

/** Wire bytes of a name (or LIST pattern) to the internal UTF-8 form. */
export function decodeMailboxName(raw: Buffer, opts: MailboxNameOptions): string {
  let name: string;
  if (opts.utf8) {
    name = decodeUtf8(raw, 'mailbox name');
  } else {
    name = decodeModifiedUtf7(raw.toString('latin1'));
  }
  return normalizeInbox(name);
}

/** mailbox = "INBOX" / astring */
export function parseMailbox(r: Reader, opts: MailboxNameOptions): string {
  return decodeMailboxName(r.astring(), opts);
}

/** list-mailbox = 1*list-char / string (RFC 9051 9): like a mailbox but `%` and `*` are allowed bare. */
export function parseListMailbox(r: Reader, opts: MailboxNameOptions): string {
  let raw: Buffer;
  if (r.isChar('"') || r.isLiteral()) {
    raw = r.string();
  } else {
    const start = r.pos;
    r.takeWhile(isListChar);
    if (r.pos === start) throw bad(r.atEnd() ? 'Missing argument' : 'Invalid characters in mailbox pattern');
    raw = r.buf.subarray(start, r.pos);
  }
  return decodeMailboxName(raw, opts);
}
