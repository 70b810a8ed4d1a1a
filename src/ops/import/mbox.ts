// mbox files, streamed: one message in memory at a time, however large the file.
//
// A message starts at a `From ` line at the start of the file or after an empty line
// (the From_ line; RFC 4155). Body lines that began with `From ` were quoted by the
// writer: in mboxrd every `>*From ` line got one more `>`, so one is removed from each;
// in mboxo only `From ` became `>From `, so only `>From ` loses its `>` (`>>From `
// stays as written: mboxo cannot tell). The empty line before a From_ line belongs to
// the file format, not to the message. Flags come from the Status / X-Status headers
// (mutt, Dovecot's mbox), X-Keywords, and X-Mozilla-Status (Thunderbird). The fields
// an mbox program keeps about a message (Status, X-Status, X-Keywords, X-UID, X-IMAP,
// X-IMAPbase, Content-Length) are removed, as Dovecot hides them; the other bytes are
// kept as written, with line ends made CRLF. So a message exported by `steadymail
// export mbox` comes back byte for byte.

import { createReadStream } from 'node:fs';
import { MBOX_OWN_HEADERS } from '../export/lines.js';
import { toCrlf } from './target.js';

export type MboxFormat = 'mboxrd' | 'mboxo';

export type MboxItem =
  | { kind: 'message'; raw: Buffer; internalDate: Date | undefined; flags: string[]; origin: string; offset: number }
  | { kind: 'too-large'; origin: string; offset: number };

export class MboxFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MboxFormatError';
  }
}

const FROM = Buffer.from('From ');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The date of a From_ line: `From sender Sat Nov 28 10:00:00 2026` (asctime, optionally with a zone). */
export function fromLineDate(line: string): Date | undefined {
  const m = /\s(?:\w{3},?\s+)?(\w{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s+([+-]\d{4}|[A-Z]{1,5}))?\s+(\d{4})(?:\s+([+-]\d{4}))?\s*$/.exec(line);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[1]!);
  if (month < 0) return undefined;
  const zone = m[8] ?? (m[6]?.startsWith('+') === true || m[6]?.startsWith('-') === true ? m[6] : undefined);
  let offset = 0;
  if (zone !== undefined) offset = (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  const t = Date.UTC(Number(m[7]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5] ?? 0)) - offset * 60_000;
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** Flags recorded in an mbox message's header by the program that kept it. */
export function mboxFlags(raw: Buffer): string[] {
  let end = raw.indexOf('\n\n');
  const crlf = raw.indexOf('\r\n\r\n');
  if (crlf !== -1 && (end === -1 || crlf < end)) end = crlf;
  const header = raw.subarray(0, end === -1 ? Math.min(raw.length, 65536) : end).toString('latin1').replace(/\r?\n[ \t]+/g, ' ');
  const flags = new Set<string>();
  const field = (name: string): string | undefined => new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(header)?.[1]?.trim();
  const status = `${field('Status') ?? ''}${field('X-Status') ?? ''}`;
  if (status.includes('R')) flags.add('\\Seen');
  if (status.includes('A')) flags.add('\\Answered');
  if (status.includes('F')) flags.add('\\Flagged');
  if (status.includes('T')) flags.add('\\Draft');
  if (status.includes('D')) flags.add('\\Deleted');
  const mozilla = field('X-Mozilla-Status');
  if (mozilla !== undefined && /^[0-9a-f]{1,4}$/i.test(mozilla)) {
    const bits = parseInt(mozilla, 16);
    if (bits & 0x1) flags.add('\\Seen');
    if (bits & 0x2) flags.add('\\Answered');
    if (bits & 0x4) flags.add('\\Flagged');
    if (bits & 0x8) flags.add('\\Deleted');
  }
  for (const kw of (field('X-Keywords') ?? '').split(/[\s,]+/)) if (kw !== '') flags.add(kw);
  return [...flags];
}

/** The message without the header fields that belong to the mbox file (CRLF input). */
export function withoutMboxHeaders(raw: Buffer): Buffer {
  const end = raw.indexOf('\r\n\r\n');
  const headerEnd = end === -1 ? raw.length : end + 2;
  const kept: Buffer[] = [];
  let hiding = false;
  let removed = false;
  for (let start = 0; start < headerEnd; ) {
    const nl = raw.indexOf('\r\n', start);
    const stop = nl === -1 || nl + 2 > headerEnd ? headerEnd : nl + 2;
    const line = raw.subarray(start, stop);
    if (line[0] !== 0x20 && line[0] !== 0x09) {
      const colon = line.indexOf(0x3a);
      hiding = colon > 0 && MBOX_OWN_HEADERS.includes(line.subarray(0, colon).toString('latin1').trim().toLowerCase());
    }
    if (hiding) removed = true;
    else kept.push(line);
    start = stop;
  }
  if (!removed) return raw;
  kept.push(raw.subarray(headerEnd));
  return Buffer.concat(kept);
}

function isBlank(line: Buffer): boolean {
  return line.length === 1 ? line[0] === 0x0a : line.length === 2 && line[0] === 0x0d && line[1] === 0x0a;
}

/** The quoting `>` to remove from a body line, per format. */
function unquote(line: Buffer, format: MboxFormat): Buffer {
  if (line[0] !== 0x3e) return line;
  let i = 0;
  while (line[i] === 0x3e) i++;
  if (format === 'mboxo' && i !== 1) return line;
  return line.subarray(i, i + 5).equals(FROM) ? line.subarray(1) : line;
}

export async function* readMbox(path: string, options: { format: MboxFormat; maxMessageBytes: number; label?: string }): AsyncGenerator<MboxItem> {
  const label = options.label ?? path;
  let parts: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  let heldBlank: Buffer | undefined;
  let fromLine: string | undefined;
  let started = false;
  let previousBlank = true;
  let count = 0;
  let position = 0;
  let messageOffset = 0;

  const finish = (): MboxItem | undefined => {
    if (fromLine === undefined) return undefined;
    count++;
    const origin = `${label} message ${count}`;
    const item: MboxItem = tooLarge
      ? { kind: 'too-large', origin, offset: messageOffset }
      : (() => {
          const raw = toCrlf(Buffer.concat(parts, size));
          return { kind: 'message', raw: withoutMboxHeaders(raw), internalDate: fromLineDate(fromLine ?? ''), flags: mboxFlags(raw), origin, offset: messageOffset } as const;
        })();
    parts = [];
    size = 0;
    tooLarge = false;
    heldBlank = undefined;
    return item;
  };
  const append = (line: Buffer): void => {
    if (tooLarge) return;
    if (size + line.length > options.maxMessageBytes) {
      tooLarge = true;
      parts = [];
      size = 0;
      return;
    }
    parts.push(line);
    size += line.length;
  };
  const onLine = (line: Buffer, at: number): MboxItem | undefined => {
    const blank = isBlank(line);
    if (previousBlank && line.subarray(0, 5).equals(FROM)) {
      const done = finish();
      fromLine = line.toString('latin1').replace(/\r?\n$/, '');
      messageOffset = at;
      started = true;
      previousBlank = false;
      return done;
    }
    previousBlank = blank;
    if (!started) {
      if (blank) return undefined;
      throw new MboxFormatError(`${label} is not an mbox file: it does not start with a "From " line`);
    }
    if (heldBlank) {
      append(heldBlank);
      heldBlank = undefined;
    }
    if (blank) heldBlank = line;
    else append(unquote(line, options.format));
    return undefined;
  };

  let pending: Buffer | undefined;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    let buf = chunk as Buffer;
    const base = position - (pending?.length ?? 0);
    if (pending) {
      buf = Buffer.concat([pending, buf]);
      pending = undefined;
    }
    position += (chunk as Buffer).length;
    let start = 0;
    for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a, start)) {
      const item = onLine(buf.subarray(start, nl + 1), base + start);
      if (item) yield item;
      start = nl + 1;
    }
    // Keep a partial line; a line longer than a message may be is not kept whole.
    const rest = buf.subarray(start);
    if (rest.length > options.maxMessageBytes + 5) {
      const item = onLine(rest, base + start);
      if (item) yield item;
      previousBlank = false;
    } else if (rest.length > 0) pending = Buffer.from(rest);
  }
  if (pending) {
    const item = onLine(pending, position - pending.length);
    if (item) yield item;
  }
  const last = finish();
  if (last) yield last;
}
