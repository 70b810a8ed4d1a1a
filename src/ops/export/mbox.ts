// One mailbox as an mboxrd file (RFC 4155, with mboxrd quoting), streamed a line at a
// time. Each message starts with a From_ line: the envelope sender (the message's
// Return-Path, else MAILER-DAEMON) and its internal date in asctime form, UTC. Flags go
// where mutt and Dovecot keep them: `Status: R` (seen; `O`: no longer new), `X-Status`
// with A (answered), F (flagged), T (draft), D (deleted), and the keywords in
// `X-Keywords`. An empty line ends every message.

import type { BlobStore } from '../../store/blobs/blob-store.js';
import type { MessageMeta } from '../../store/types.js';
import { diskLines } from './lines.js';
import type { FileWriter } from './writer.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Sat Nov 28 10:00:00 2026` (asctime, UTC). */
export function asctime(d: Date): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** The Return-Path address of a message header, or MAILER-DAEMON (also for `<>`). */
export function envelopeSender(head: Buffer): string {
  const text = head.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const header = end === -1 ? text : text.slice(0, end);
  const m = /^Return-Path:[ \t]*<?([^<>\s]+)>?[ \t]*$/im.exec(header);
  const address = m?.[1];
  // eslint-disable-next-line no-control-regex -- a From_ line must stay one printable token
  return address !== undefined && /^[^\x00-\x20\x7f]{1,320}$/.test(address) ? address : 'MAILER-DAEMON';
}

/** The Status / X-Status / X-Keywords fields for a message's flags (LF line ends). */
export function mboxFlagHeader(flags: readonly string[], keywords: readonly string[]): string {
  const has = (f: string) => flags.includes(f);
  let out = `Status: ${has('\\Seen') ? 'R' : ''}O\n`;
  const x = `${has('\\Answered') ? 'A' : ''}${has('\\Flagged') ? 'F' : ''}${has('\\Draft') ? 'T' : ''}${has('\\Deleted') ? 'D' : ''}`;
  if (x !== '') out += `X-Status: ${x}\n`;
  if (keywords.length > 0) out += `X-Keywords: ${keywords.join(' ')}\n`;
  return out;
}

/** Appends one message (From_ line, header with flag fields, quoted body, empty line). */
export async function writeMboxMessage(out: FileWriter, blobs: BlobStore, message: Omit<MessageMeta, 'structure'>): Promise<void> {
  const head = message.size > 0 ? await blobs.getRange(message.blobId, { start: 0, end: Math.min(message.size, 16384) - 1 }) : Buffer.alloc(0);
  await out.write(Buffer.from(`From ${envelopeSender(head)} ${asctime(message.internalDate)}\n`, 'latin1'));
  const lines = diskLines(blobs.createReadStream(message.blobId) as AsyncIterable<Buffer>, {
    quoteFrom: true,
    hideMboxHeaders: true,
    extraHeader: mboxFlagHeader(message.flags, message.keywords),
  });
  for await (const piece of lines) await out.write(piece);
  if (out.lastByte !== 0x0a) await out.write(Buffer.from('\n'));
  await out.write(Buffer.from('\n'));
}
