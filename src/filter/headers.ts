// The message's own header, as the filter reads and changes it: the fields the
// heuristics look at, the removal of X-Spam-* fields a sender wrote itself (they
// would otherwise pass for ours), and rspamd's rewritten Subject.

import { decodeMimeWords, parseAddressList, parseHeaderBlock, type HeaderField } from '../mime/index.js';

/** Header bytes read for heuristics; the rest of a larger header is ignored. */
const MAX_HEADER_BYTES = 256 * 1024;

const WANTED = new Set(['from', 'to', 'cc', 'subject', 'date', 'message-id', 'reply-to', 'mime-version', 'content-type']);

/** Header fields Steadymail writes and so never keeps from the sender. */
const OURS = /^x-spam-(?:status|score|flag|level|tests)$/i;

export function headerFields(message: Buffer): HeaderField[] {
  return parseHeaderBlock(message, 0, message.length, MAX_HEADER_BYTES, WANTED).fields;
}

/** The domain of the first From address, lower case, or null. */
export function fromDomain(fields: HeaderField[]): string | null {
  const from = fields.find((f) => f.name === 'from');
  if (!from) return null;
  const first = parseAddressList(from.value).find((a) => a.kind === 'mailbox');
  return first?.kind === 'mailbox' && first.host ? first.host.toLowerCase() : null;
}

/** The first From address, lower case, or null. */
export function fromAddress(fields: HeaderField[]): string | null {
  const from = fields.find((f) => f.name === 'from');
  if (!from) return null;
  const first = parseAddressList(from.value).find((a) => a.kind === 'mailbox');
  return first?.kind === 'mailbox' && first.mailbox && first.host ? `${first.mailbox}@${first.host}`.toLowerCase() : null;
}

export interface HeuristicHit {
  name: string;
  score: number;
}

/** Small, cheap signs of bulk or forged mail, each with a modest weight. */
export function headerHeuristics(fields: HeaderField[]): HeuristicHit[] {
  const hits: HeuristicHit[] = [];
  const has = (n: string) => fields.some((f) => f.name === n);
  const value = (n: string) => fields.find((f) => f.name === n)?.value ?? '';
  if (!has('from')) hits.push({ name: 'MISSING_FROM', score: 2 });
  if (!has('date')) hits.push({ name: 'MISSING_DATE', score: 1 });
  if (!has('message-id')) hits.push({ name: 'MISSING_MID', score: 1 });
  else if (!/^<[^<>@\s]+@[^<>@\s]+>$/.test(value('message-id'))) hits.push({ name: 'INVALID_MID', score: 0.5 });
  if (!has('subject') || value('subject').trim() === '') hits.push({ name: 'EMPTY_SUBJECT', score: 0.5 });
  const subject = decodeMimeWords(value('subject'));
  const letters = subject.replace(/[^A-Za-z]/g, '');
  if (letters.length >= 10 && letters === letters.toUpperCase()) hits.push({ name: 'SUBJ_ALL_CAPS', score: 1 });
  // A display name that is itself an address of another domain ("paypal.com" <x@elsewhere>).
  const from = parseAddressList(value('from')).find((a) => a.kind === 'mailbox');
  if (from?.kind === 'mailbox' && from.name && from.host) {
    const shown = /[\w.+-]+@([\w-]+(?:\.[\w-]+)+)/.exec(from.name);
    if (shown?.[1] && shown[1].toLowerCase() !== from.host.toLowerCase()) hits.push({ name: 'FROM_NAME_HAS_OTHER_ADDR', score: 2 });
  }
  const rcpts = [value('to'), value('cc')].join(',').split(',').filter((s) => s.includes('@')).length;
  if (rcpts > 50) hits.push({ name: 'MANY_RECIPIENTS', score: 1 });
  if (!has('mime-version') && /^multipart\//i.test(value('content-type'))) hits.push({ name: 'MISSING_MIME_VERSION', score: 0.5 });
  return hits;
}

/**
 * The message without X-Spam-* fields of its own and, when `subject` is given, with
 * that Subject instead of its own. Returns the same buffer when nothing changes.
 */
export function rewriteHeader(message: Buffer, subject: string | null): Buffer {
  let end = message.indexOf('\r\n\r\n');
  end = end < 0 ? message.length : end + 2;
  const header = message.toString('latin1', 0, end);
  if (subject === null && !/(?:^|\n)x-spam-/i.test(header)) return message;
  const fields = header.split(/\r\n(?![ \t])/).filter((f) => f !== '');
  let replaced = false;
  const kept: string[] = [];
  for (const f of fields) {
    const name = /^([^:\s]+)[ \t]*:/.exec(f)?.[1] ?? '';
    if (OURS.test(name)) continue;
    if (subject !== null && name.toLowerCase() === 'subject') {
      if (replaced) continue;
      replaced = true;
      kept.push(`Subject: ${encodeSubject(subject)}`);
      continue;
    }
    kept.push(f);
  }
  if (subject !== null && !replaced) kept.push(`Subject: ${encodeSubject(subject)}`);
  return Buffer.concat([Buffer.from(kept.join('\r\n') + '\r\n', 'latin1'), message.subarray(end)]);
}

/** RFC 2047 encoded-word for a non-ASCII subject; ASCII as it is, without line breaks. */
function encodeSubject(subject: string): string {
  const clean = subject.replace(/[\r\n]+/g, ' ').slice(0, 900);
  if (/^[\x20-\x7e]*$/.test(clean)) return clean;
  // RFC 2047 2: encoded words of at most 75 characters, folded onto their own lines.
  const words: string[] = [];
  let chunk = '';
  for (const ch of clean) {
    if (Buffer.byteLength(chunk + ch, 'utf8') > 39) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk !== '') words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}
