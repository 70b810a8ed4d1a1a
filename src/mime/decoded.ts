// Decoded header values for SEARCH, SORT and display: RFC 2047 applied, dates
// parsed, message ids normalised. Everything here is derived from the raw header
// block, so it can be recomputed if the rules change (bump the index version).
import { parseAddressList, type ParsedMailbox } from './address.js';
import { parseDate } from './date.js';
import { decodeMimeWords } from './encoded-words.js';
import { headerValue, type HeaderField } from './headers.js';
import { baseSubject } from './subject.js';
import type { DecodedAddress, DecodedHeaders, SortKeys } from './types.js';

function decodeMailbox(m: ParsedMailbox, group?: string): DecodedAddress {
  const address = m.host === null ? (m.mailbox ?? '') : `${m.mailbox ?? ''}@${m.host}`;
  const out: DecodedAddress = { name: m.name === null ? '' : decodeMimeWords(m.name).trim(), address };
  if (group !== undefined) out.group = decodeMimeWords(group);
  return out;
}

/** Decoded addresses of a header, group members flattened with their group's name. */
export function decodeAddresses(value: string | null): DecodedAddress[] {
  if (value === null) return [];
  const out: DecodedAddress[] = [];
  for (const a of parseAddressList(value)) {
    if (a.kind === 'mailbox') out.push(decodeMailbox(a));
    else for (const m of a.members) out.push(decodeMailbox(m, a.name));
  }
  return out;
}

/** msg-id tokens (RFC 5322 3.6.4) with whitespace and comments dropped. */
export function messageIds(value: string | null): string[] {
  if (value === null) return [];
  const ids = value.replace(/\([^()]*\)/g, ' ').match(/<[^<>]*>/g);
  if (ids !== null) return ids.map((id) => id.replace(/\s+/g, ''));
  // Some senders omit the brackets; accept a bare token that looks like an id.
  return value.split(/\s+/).filter((t) => t.includes('@')).map((t) => `<${t}>`);
}

export function buildDecoded(fields: readonly HeaderField[]): DecodedHeaders {
  const subject = headerValue(fields, 'subject');
  const date = headerValue(fields, 'date');
  const from = decodeAddresses(headerValue(fields, 'from'));
  const sender = decodeAddresses(headerValue(fields, 'sender'));
  const replyTo = decodeAddresses(headerValue(fields, 'reply-to'));
  return {
    subject: subject === null ? null : decodeMimeWords(subject),
    from,
    sender: sender.length > 0 ? sender : from,
    replyTo: replyTo.length > 0 ? replyTo : from,
    to: decodeAddresses(headerValue(fields, 'to')),
    cc: decodeAddresses(headerValue(fields, 'cc')),
    bcc: decodeAddresses(headerValue(fields, 'bcc')),
    date: date === null ? null : parseDate(date),
    messageId: messageIds(headerValue(fields, 'message-id'))[0] ?? null,
    inReplyTo: messageIds(headerValue(fields, 'in-reply-to'))[0] ?? null,
    references: messageIds(headerValue(fields, 'references')),
  };
}

function firstMailbox(value: string | null): ParsedMailbox | null {
  if (value === null) return null;
  for (const a of parseAddressList(value)) {
    if (a.kind === 'mailbox') return a;
    if (a.members[0] !== undefined) return a.members[0];
  }
  return null;
}

function display(m: ParsedMailbox | null): string {
  if (m === null) return '';
  const name = m.name === null ? '' : decodeMimeWords(m.name).trim();
  if (name !== '') return name;
  return m.host === null ? (m.mailbox ?? '') : `${m.mailbox ?? ''}@${m.host}`;
}

/** RFC 5256 3 SORT keys and RFC 5957 DISPLAYFROM/DISPLAYTO. */
export function buildSortKeys(fields: readonly HeaderField[]): SortKeys {
  const base = baseSubject(headerValue(fields, 'subject') ?? '');
  const from = firstMailbox(headerValue(fields, 'from'));
  const to = firstMailbox(headerValue(fields, 'to'));
  const cc = firstMailbox(headerValue(fields, 'cc'));
  return {
    subject: base.subject,
    subjectIsReplyOrForward: base.isReplyOrForward,
    from: from?.mailbox ?? '',
    to: to?.mailbox ?? '',
    cc: cc?.mailbox ?? '',
    displayFrom: display(from),
    displayTo: display(to),
  };
}
