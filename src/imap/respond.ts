// Response formatting (RFC 9051 7, 9): exact wire bytes for the session to write.
// Nothing here touches a socket. Human-readable text is sanitised (no CR/LF can
// escape into the stream); strings go out quoted when they can and as literals
// when they must.

import { MONTHS } from './parser/datetime.js';
import type { ParseError } from './parser/errors.js';
import { encodeModifiedUtf7 } from './parser/mailbox-name.js';
import { isAtomChar } from './parser/reader.js';

export type TaggedStatus = 'OK' | 'NO' | 'BAD';
export type UntaggedStatus = TaggedStatus | 'BYE' | 'PREAUTH';

const CRLF = '\r\n';

/** resp-text is TEXT-CHAR only (RFC 9051 9): control characters, CR and LF included, become spaces. */
function cleanText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, ' ');
}

function statusLine(prefix: string, status: string, text: string, code?: string): Buffer {
  const c = code ? `[${cleanText(code)}] ` : '';
  return Buffer.from(`${prefix} ${status} ${c}${cleanText(text)}${CRLF}`, 'utf8');
}

/** `tag OK [code] text` */
export function tagged(tag: string, status: TaggedStatus, text: string, code?: string): Buffer {
  return statusLine(tag, status, text, code);
}

/** `* OK [code] text` and friends. */
export function untaggedStatus(status: UntaggedStatus, text: string, code?: string): Buffer {
  return statusLine('*', status, text, code);
}

/** `* <data>` where the data may hold literals (pass them as Buffers from imapString()). */
export function untagged(...parts: Array<string | Buffer>): Buffer {
  return Buffer.concat([Buffer.from('* '), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)), Buffer.from(CRLF)]);
}

/** `+ text` (RFC 9051 7.5). */
export function continuation(text = 'Ready for literal data'): Buffer {
  return Buffer.from(`+ ${cleanText(text)}${CRLF}`, 'utf8');
}

/** A SASL challenge: `+ base64` (RFC 9051 6.2.2); an empty challenge is `+ `. */
export function saslChallenge(data: Buffer): Buffer {
  return Buffer.from(`+ ${data.toString('base64')}${CRLF}`);
}

/** The reply to a ParseError: tagged when the tag was read, untagged `* BAD` otherwise. */
export function parseErrorResponse(err: ParseError): Buffer {
  const status = err.kind === 'no' ? 'NO' : 'BAD';
  if (err.tag === undefined) return untaggedStatus('BAD', err.message, err.code);
  return tagged(err.tag, status, err.message, err.code);
}

export interface StringOptions {
  /** UTF8=ACCEPT is enabled: quoted strings may carry UTF-8 (RFC 6855 3). */
  utf8?: boolean;
}

function validUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Can these bytes be sent as a quoted string (RFC 9051 9: QUOTED-CHAR)? */
export function canQuote(bytes: Buffer, opts: StringOptions = {}): boolean {
  let eightBit = false;
  for (const c of bytes) {
    if (c === 0x00 || c === 0x0d || c === 0x0a) return false;
    if (c >= 0x80) eightBit = true;
  }
  return !eightBit || (opts.utf8 === true && validUtf8(bytes));
}

/** `"..."` with `"` and `\` escaped. Throws TypeError for text that needs a literal: use imapString(). */
export function quoted(value: string, opts: StringOptions = {}): string {
  if (!canQuote(Buffer.from(value, 'utf8'), opts)) throw new TypeError('value cannot be sent as a quoted string');
  return `"${value.replace(/[\\"]/g, (c) => '\\' + c)}"`;
}

/** `{n}` CRLF bytes, or `~{n}` for literal8 (RFC 3516 4.2). */
export function literal(bytes: Buffer, binary = false): Buffer {
  return Buffer.concat([Buffer.from(`${binary ? '~' : ''}{${bytes.length}}${CRLF}`), bytes]);
}

/** nstring: NIL for null, quoted when possible, else a literal. */
export function imapString(value: string | Buffer | null, opts: StringOptions = {}): Buffer {
  if (value === null) return Buffer.from('NIL');
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (canQuote(bytes, opts)) {
    return Buffer.concat([Buffer.from('"'), Buffer.from(bytes.toString('latin1').replace(/[\\"]/g, (c) => '\\' + c), 'latin1'), Buffer.from('"')]);
  }
  return literal(bytes);
}

/**
 * astring: a bare atom when it can be one (and would not read as NIL), else a
 * string. `]` is allowed in an astring but some clients stumble over it, so a
 * name containing one is quoted.
 */
export function astring(value: string, opts: StringOptions = {}): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > 0 && value.toUpperCase() !== 'NIL' && bytes.every(isAtomChar)) return bytes;
  return imapString(bytes, opts);
}

/** A mailbox name as LIST/STATUS/... responses send it: modified UTF-7 unless UTF8=ACCEPT. */
export function mailboxName(name: string, opts: StringOptions = {}): Buffer {
  return astring(opts.utf8 ? name : encodeModifiedUtf7(name), opts);
}

/** flag-list: `(\Seen $Forwarded)`. */
export function flagList(flags: Iterable<string>): string {
  return `(${[...flags].join(' ')})`;
}

/**
 * A compact sequence-set: `1:3,5,9:10`. Sorted and de-duplicated by default;
 * with `sort: false` the order is kept and only ascending runs are joined, for
 * COPYUID whose source and destination sets must pair up in order (RFC 4315 3).
 */
export function formatSequenceSet(nums: Iterable<number>, opts: { sort?: boolean } = {}): string {
  let list = [...nums];
  if (opts.sort !== false) list = [...new Set(list)].sort((a, b) => a - b);
  const out: string[] = [];
  let i = 0;
  while (i < list.length) {
    const start = list[i] as number;
    let end = start;
    while (i + 1 < list.length && list[i + 1] === end + 1) {
      end++;
      i++;
    }
    out.push(start === end ? String(start) : `${start}:${end}`);
    i++;
  }
  return out.join(',');
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * date-time as INTERNALDATE sends it: `"17-Jul-1996 02:44:25 -0700"`, the day
 * space-padded (RFC 9051 9, date-day-fixed). `offsetMinutes` is the zone to show
 * (east of UTC positive); the instant is the same whatever zone is chosen.
 */
export function formatInternalDate(date: Date, offsetMinutes = 0): string {
  const local = new Date(date.getTime() + offsetMinutes * 60_000);
  const day = local.getUTCDate();
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const zone = `${sign}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
  const dd = day < 10 ? ` ${day}` : String(day);
  const mon = MONTHS[local.getUTCMonth()] ?? 'Jan';
  const year = String(local.getUTCFullYear()).padStart(4, '0');
  return `"${dd}-${mon}-${year} ${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())} ${zone}"`;
}
