// SEARCH criteria (RFC 9051 6.4.4, RFC 3501 6.4.4, RFC 4731 ESEARCH, RFC 5182
// SEARCHRES, RFC 7162 3.1.5 MODSEQ, RFC 5032 WITHIN, RFC 8514 SAVEDATE).

import { parseDate, type ImapDate } from './datetime.js';
import { ParseError, bad } from './errors.js';
import type { SystemFlag } from './flags.js';
import { decodeUtf8, isAtomChar, type Reader } from './reader.js';
import { parseSequenceSet, type SequenceSet } from './sequence-set.js';

export type SearchKey =
  | { key: 'ALL' }
  | { key: 'SEQ'; set: SequenceSet }
  | { key: 'UID'; set: SequenceSet }
  /** ANSWERED/UNANSWERED ... and RECENT/OLD; `set: false` means the flag is absent. */
  | { key: 'FLAG'; flag: SystemFlag | '\\Recent'; set: boolean }
  | { key: 'KEYWORD'; keyword: string; set: boolean }
  | { key: 'FROM' | 'TO' | 'CC' | 'BCC' | 'SUBJECT' | 'BODY' | 'TEXT'; value: string }
  | { key: 'HEADER'; field: string; value: string }
  /** INTERNAL: internal date; SENT: the Date header; SAVED: save date (RFC 8514 4). */
  | { key: 'DATE'; field: 'INTERNAL' | 'SENT' | 'SAVED'; cmp: 'BEFORE' | 'ON' | 'SINCE'; date: ImapDate }
  /** RFC 8514 4: messages that have a save date. */
  | { key: 'SAVEDATESUPPORTED' }
  | { key: 'SIZE'; cmp: 'LARGER' | 'SMALLER'; size: number }
  | { key: 'NOT'; inner: SearchKey }
  | { key: 'OR'; left: SearchKey; right: SearchKey }
  | { key: 'AND'; keys: SearchKey[] }
  | { key: 'MODSEQ'; modseq: number; entry: { name: string; type: 'priv' | 'shared' | 'all' } | null }
  | { key: 'OLDER' | 'YOUNGER'; seconds: number }
  /** RFC 8474 6: an objectid. */
  | { key: 'EMAILID' | 'THREADID'; id: string };

export type SearchReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE';
export type SearchReturn = SearchReturnOption[];

/** Charsets we search in; anything else gets NO [BADCHARSET (UTF-8 US-ASCII)] (RFC 9051 6.4.4). */
export const SEARCH_CHARSETS = ['UTF-8', 'US-ASCII'] as const;

// Nesting bound: keeps a hostile `NOT NOT NOT ...` or `((((...` from exhausting the stack.
const MAX_DEPTH = 64;

const FLAG_KEYS: ReadonlyMap<string, { flag: SystemFlag | '\\Recent'; set: boolean }> = new Map([
  ['ANSWERED', { flag: '\\Answered', set: true }],
  ['UNANSWERED', { flag: '\\Answered', set: false }],
  ['DELETED', { flag: '\\Deleted', set: true }],
  ['UNDELETED', { flag: '\\Deleted', set: false }],
  ['DRAFT', { flag: '\\Draft', set: true }],
  ['UNDRAFT', { flag: '\\Draft', set: false }],
  ['FLAGGED', { flag: '\\Flagged', set: true }],
  ['UNFLAGGED', { flag: '\\Flagged', set: false }],
  ['SEEN', { flag: '\\Seen', set: true }],
  ['UNSEEN', { flag: '\\Seen', set: false }],
  ['RECENT', { flag: '\\Recent', set: true }],
  ['OLD', { flag: '\\Recent', set: false }],
]);

const STRING_KEYS = new Set(['FROM', 'TO', 'CC', 'BCC', 'SUBJECT', 'BODY', 'TEXT']);

const DATE_KEYS: ReadonlyMap<string, { field: 'INTERNAL' | 'SENT' | 'SAVED'; cmp: 'BEFORE' | 'ON' | 'SINCE' }> = new Map([
  ['BEFORE', { field: 'INTERNAL', cmp: 'BEFORE' }],
  ['ON', { field: 'INTERNAL', cmp: 'ON' }],
  ['SINCE', { field: 'INTERNAL', cmp: 'SINCE' }],
  ['SENTBEFORE', { field: 'SENT', cmp: 'BEFORE' }],
  ['SENTON', { field: 'SENT', cmp: 'ON' }],
  ['SENTSINCE', { field: 'SENT', cmp: 'SINCE' }],
  ['SAVEDBEFORE', { field: 'SAVED', cmp: 'BEFORE' }],
  ['SAVEDON', { field: 'SAVED', cmp: 'ON' }],
  ['SAVEDSINCE', { field: 'SAVED', cmp: 'SINCE' }],
]);

function searchString(r: Reader): string {
  return decodeUtf8(r.astring(), 'search string');
}

function isSeqStart(c: number | undefined): boolean {
  return c !== undefined && (c === 0x2a || c === 0x24 || (c >= 0x30 && c <= 0x39));
}

export function parseSearchKey(r: Reader, depth = 0): SearchKey {
  if (depth > MAX_DEPTH) throw bad('Search program nested too deeply');
  if (r.isChar('(')) {
    const keys = r.list(() => parseSearchKey(r, depth + 1));
    return keys.length === 1 && keys[0] ? keys[0] : { key: 'AND', keys };
  }
  if (isSeqStart(r.peek())) return { key: 'SEQ', set: parseSequenceSet(r) };
  const word = r.keyword('search key');
  const flag = FLAG_KEYS.get(word);
  if (flag) return { key: 'FLAG', ...flag };
  const date = DATE_KEYS.get(word);
  if (date) {
    r.sp();
    return { key: 'DATE', ...date, date: parseDate(r) };
  }
  if (STRING_KEYS.has(word)) {
    r.sp();
    return { key: word as 'FROM', value: searchString(r) };
  }
  switch (word) {
    case 'ALL':
      return { key: 'ALL' };
    case 'SAVEDATESUPPORTED':
      return { key: 'SAVEDATESUPPORTED' };
    case 'EMAILID':
    case 'THREADID': {
      r.sp();
      const id = r.atom('objectid');
      if (!/^[A-Za-z0-9_-]{1,255}$/.test(id)) throw bad('Invalid objectid');
      return { key: word, id };
    }
    case 'NEW':
      // RFC 9051 6.4.4 (3501): NEW = RECENT UNSEEN.
      return {
        key: 'AND',
        keys: [
          { key: 'FLAG', flag: '\\Recent', set: true },
          { key: 'FLAG', flag: '\\Seen', set: false },
        ],
      };
    case 'KEYWORD':
    case 'UNKEYWORD':
      r.sp();
      return { key: 'KEYWORD', keyword: r.atom('keyword'), set: word === 'KEYWORD' };
    case 'HEADER': {
      r.sp();
      const field = r.astring().toString('latin1');
      if (!/^[\x21-\x39\x3b-\x7e]+$/.test(field)) throw bad('Invalid header field name');
      r.sp();
      return { key: 'HEADER', field, value: searchString(r) };
    }
    case 'LARGER':
    case 'SMALLER':
      r.sp();
      return { key: 'SIZE', cmp: word, size: r.number64() };
    case 'UID':
      r.sp();
      return { key: 'UID', set: parseSequenceSet(r) };
    case 'NOT':
      r.sp();
      return { key: 'NOT', inner: parseSearchKey(r, depth + 1) };
    case 'OR': {
      r.sp();
      const left = parseSearchKey(r, depth + 1);
      r.sp();
      return { key: 'OR', left, right: parseSearchKey(r, depth + 1) };
    }
    case 'OLDER':
    case 'YOUNGER':
      r.sp();
      return { key: word, seconds: r.nzNumber() };
    case 'MODSEQ':
      return parseModseqKey(r);
    default:
      throw bad(`Unknown search key ${word}`);
  }
}

/** RFC 7162 3.1.5: MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-valzer */
function parseModseqKey(r: Reader): SearchKey {
  r.sp();
  let entry: { name: string; type: 'priv' | 'shared' | 'all' } | null = null;
  if (r.isChar('"')) {
    const name = r.quoted().toString('latin1');
    r.sp();
    const type = r.keyword('entry type').toLowerCase();
    if (type !== 'priv' && type !== 'shared' && type !== 'all') throw bad('Invalid MODSEQ entry type');
    entry = { name, type };
    r.sp();
  }
  return { key: 'MODSEQ', modseq: r.number64(), entry };
}

/** search-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")" (RFC 4731 3) */
export function parseSearchReturn(r: Reader): SearchReturn | null {
  if (!r.peekWord('RETURN ')) return null;
  r.pos += 6;
  r.sp();
  const opts = r.list(() => {
    const o = r.keyword('return option');
    if (o !== 'MIN' && o !== 'MAX' && o !== 'ALL' && o !== 'COUNT' && o !== 'SAVE') throw bad(`Unknown RETURN option ${o}`);
    return o;
  }, true);
  // RFC 4731 3.1: RETURN () means RETURN (ALL).
  return opts.length === 0 ? ['ALL'] : [...new Set(opts)];
}

export function checkCharset(raw: string): string {
  const cs = raw.toUpperCase();
  if (!(SEARCH_CHARSETS as readonly string[]).includes(cs)) {
    throw new ParseError('no', `Unsupported charset ${raw}`, { code: `BADCHARSET (${SEARCH_CHARSETS.join(' ')})` });
  }
  return cs;
}

/** 1*(search-key) separated by SP, up to the end of the command. */
export function parseSearchKeys(r: Reader): SearchKey[] {
  const keys = [parseSearchKey(r)];
  while (r.trySp()) keys.push(parseSearchKey(r));
  return keys;
}

/** SEARCH [search-return-opts] SP ["CHARSET" SP charset SP] search-key *(SP search-key) */
export function parseSearchArgs(r: Reader): { return: SearchReturn | null; charset: string | null; criteria: SearchKey[] } {
  r.sp();
  const ret = parseSearchReturn(r);
  if (ret) r.sp();
  let charset: string | null = null;
  if (r.peekWord('CHARSET') && !isAtomChar(r.peek(7) ?? 0x5d)) {
    r.pos += 7;
    r.sp();
    charset = checkCharset(r.astring().toString('latin1'));
    r.sp();
  }
  return { return: ret, charset, criteria: parseSearchKeys(r) };
}
