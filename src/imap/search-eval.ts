// Evaluates SEARCH criteria (RFC 9051 6.4.4) against one message. This is a
// full scan: the caller loads only what the criteria need (flags, the stored
// index, the decoded text from the blob). Strings match case-insensitively as
// substrings; dates compare calendar days in UTC, ignoring time (6.4.4).

import type { ImapDate, SearchKey } from './parser/index.js';
import { resolveSequenceSet } from './parser/index.js';
import type { MessageMeta } from '../store/types.js';
import type { DecodedAddress, ExtractedText, MessageIndex } from '../mime/index.js';
import { emailObjectId, threadObjectId } from './object-id.js';

export interface SearchTarget {
  meta: MessageMeta;
  msn: number;
  index: MessageIndex | null;
  text: ExtractedText | null;
}

export interface SearchScope {
  count: number;
  highestUid: number;
  saved: readonly number[] | null;
  now: number;
  /** The messages \Recent in this session (none for IMAP4rev2). */
  recent: ReadonlySet<number>;
}

export interface SearchNeeds {
  index: boolean;
  text: boolean;
}

/** What the criteria read: the stored index (headers) and/or the blob's text. */
export function searchNeeds(keys: readonly SearchKey[]): SearchNeeds {
  const needs: SearchNeeds = { index: false, text: false };
  const visit = (k: SearchKey): void => {
    switch (k.key) {
      case 'FROM':
      case 'TO':
      case 'CC':
      case 'BCC':
      case 'SUBJECT':
        needs.index = true;
        break;
      case 'DATE':
        if (k.field === 'SENT') needs.index = true;
        break;
      case 'THREADID':
        needs.index = true;
        break;
      case 'BODY':
      case 'TEXT':
      case 'HEADER':
        needs.index = true;
        needs.text = true;
        break;
      case 'NOT':
        visit(k.inner);
        break;
      case 'OR':
        visit(k.left);
        visit(k.right);
        break;
      case 'AND':
        k.keys.forEach(visit);
        break;
      default:
        break;
    }
  };
  keys.forEach(visit);
  return needs;
}

/** The highest MODSEQ criterion value, if any (RFC 7162 3.1.5 needs it for the response). */
export function usesModseq(keys: readonly SearchKey[]): boolean {
  return keys.some((k) => k.key === 'MODSEQ' || (k.key === 'NOT' && usesModseq([k.inner])) || (k.key === 'OR' && usesModseq([k.left, k.right])) || (k.key === 'AND' && usesModseq(k.keys)));
}

function contains(haystack: string | null | undefined, needle: string): boolean {
  if (haystack === null || haystack === undefined) return false;
  return haystack.toLowerCase().includes(needle.toLowerCase());
}

function addresses(list: readonly DecodedAddress[]): string {
  return list.map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(', ');
}

function dayOf(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

function compareDay(ms: number | null, cmp: 'BEFORE' | 'ON' | 'SINCE', date: ImapDate): boolean {
  if (ms === null) return false;
  const day = dayOf(ms);
  const want = Date.UTC(date.year, date.month - 1, date.day);
  return cmp === 'BEFORE' ? day < want : cmp === 'ON' ? day === want : day >= want;
}

function inSpans(n: number, spans: Array<[number, number]>): boolean {
  return spans.some(([a, b]) => n >= a && n <= b);
}

function headerMatches(text: ExtractedText | null, field: string, value: string): boolean {
  if (!text) return false;
  const name = field.toLowerCase() + ':';
  for (const line of text.headers.split('\n')) {
    if (!line.toLowerCase().startsWith(name)) continue;
    // RFC 9051 6.4.4: an empty string matches every message that has the field.
    if (value === '' || contains(line.slice(name.length), value)) return true;
  }
  return false;
}

export function matches(key: SearchKey, t: SearchTarget, scope: SearchScope): boolean {
  const m = t.meta;
  switch (key.key) {
    case 'ALL':
      return true;
    case 'SEQ':
      if (key.set.kind === 'saved') return (scope.saved ?? []).includes(m.uid);
      return inSpans(t.msn, resolveSequenceSet(key.set.ranges, scope.count));
    case 'UID':
      if (key.set.kind === 'saved') return (scope.saved ?? []).includes(m.uid);
      return inSpans(m.uid, resolveSequenceSet(key.set.ranges, scope.highestUid, false));
    case 'FLAG':
      if (key.flag === '\\Recent') return scope.recent.has(m.uid) === key.set;
      return m.flags.includes(key.flag) === key.set;
    case 'KEYWORD': {
      const up = key.keyword.toUpperCase();
      return m.keywords.some((k) => k.toUpperCase() === up) === key.set;
    }
    case 'FROM':
      return contains(addresses(t.index?.decoded.from ?? []), key.value);
    case 'TO':
      return contains(addresses(t.index?.decoded.to ?? []), key.value);
    case 'CC':
      return contains(addresses(t.index?.decoded.cc ?? []), key.value);
    case 'BCC':
      return contains(addresses(t.index?.decoded.bcc ?? []), key.value);
    case 'SUBJECT':
      return contains(t.index?.decoded.subject, key.value);
    case 'BODY':
      return contains(t.text?.body, key.value);
    case 'TEXT':
      return contains(t.text?.headers, key.value) || contains(t.text?.body, key.value);
    case 'HEADER':
      return headerMatches(t.text, key.field, key.value);
    case 'DATE':
      if (key.field === 'SENT') return compareDay(t.index?.decoded.date ?? null, key.cmp, key.date);
      // No separate save date is kept: RFC 8514 4 lets it fall back to the internal date.
      return compareDay(m.internalDate.getTime(), key.cmp, key.date);
    case 'SAVEDATESUPPORTED':
      return false;
    case 'SIZE':
      return key.cmp === 'LARGER' ? m.size > key.size : m.size < key.size;
    case 'NOT':
      return !matches(key.inner, t, scope);
    case 'OR':
      return matches(key.left, t, scope) || matches(key.right, t, scope);
    case 'AND':
      return key.keys.every((k) => matches(k, t, scope));
    case 'MODSEQ':
      return m.modseq >= key.modseq;
    case 'OLDER':
      return scope.now - m.internalDate.getTime() >= key.seconds * 1000;
    case 'YOUNGER':
      return scope.now - m.internalDate.getTime() <= key.seconds * 1000;
    case 'EMAILID':
      return emailObjectId(m) === key.id;
    case 'THREADID':
      return threadObjectId(m, t.index) === key.id;
  }
}
