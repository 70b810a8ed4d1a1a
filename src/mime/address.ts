// Address lists (RFC 5322 3.4, with the obsolete forms of 4.4: routes, missing
// commas, phrases with dots). Parsing never fails: whatever cannot be read as an
// address is skipped. Display names stay raw here (quotes removed, encoded-words
// kept) because IMAP ENVELOPE sends them that way; decode with decodeMimeWords.
import { skipCfws, readQuoted } from './params.js';

export interface ParsedMailbox {
  /** Display name: the phrase with quotes removed, or a trailing comment when there is no phrase. */
  name: string | null;
  /** Obsolete source route (`@a,@b`), RFC 5322 4.4. */
  adl: string | null;
  mailbox: string | null;
  host: string | null;
}

export type ParsedAddress =
  | ({ kind: 'mailbox' } & ParsedMailbox)
  | { kind: 'group'; name: string; members: ParsedMailbox[] };

type Tok =
  | { t: 'word'; v: string; quoted: boolean }
  | { t: 'special'; v: string }
  | { t: 'comment'; v: string };

const SPECIALS = '<>@,;:.[]';

function tokenize(s: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
    } else if (c === '(') {
      const end = skipCfws(s, i);
      toks.push({ t: 'comment', v: s.slice(i + 1, Math.max(i + 1, end - 1)).trim() });
      i = Math.max(end, i + 1);
    } else if (c === '"') {
      const [v, next] = readQuoted(s, i);
      toks.push({ t: 'word', v, quoted: true });
      i = next;
    } else if (c === '[') {
      // Domain literal, kept with its brackets (RFC 5322 3.4.1).
      const close = s.indexOf(']', i);
      const end = close < 0 ? s.length : close + 1;
      toks.push({ t: 'word', v: s.slice(i, end), quoted: false });
      i = end;
    } else if (SPECIALS.includes(c) || c === ')' || c === '\\') {
      toks.push({ t: 'special', v: c });
      i++;
    } else {
      const start = i;
      while (i < s.length && !' \t\r\n()"<>@,;:.[]\\'.includes(s[i] as string)) i++;
      toks.push({ t: 'word', v: s.slice(start, i), quoted: false });
    }
  }
  return toks;
}

class Reader {
  pos = 0;
  constructor(readonly toks: Tok[]) {}
  peek(): Tok | undefined {
    return this.toks[this.pos];
  }
  isSpecial(v: string): boolean {
    const t = this.toks[this.pos];
    return t !== undefined && t.t === 'special' && t.v === v;
  }
}

/** Joins phrase words with single spaces; a '.' attaches to the word before it (obs-phrase). */
function joinPhrase(words: string[]): string {
  let out = '';
  for (const w of words) {
    if (w === '.') out += '.';
    else out += out === '' ? w : ' ' + w;
  }
  return out;
}

/** Reads an addr-spec (local-part@domain) up to one of the stop specials. */
function readAddrSpec(r: Reader, stops: string): { mailbox: string | null; host: string | null; comment: string | null } {
  let local = '';
  let host: string | null = null;
  let comment: string | null = null;
  let inHost = false;
  let lastWasWord = false;
  for (let t = r.peek(); t !== undefined; t = r.peek()) {
    if (t.t === 'special' && stops.includes(t.v)) break;
    // Two words in a row after '@' mean a missing comma: the second starts a new address.
    if (inHost && t.t === 'word' && lastWasWord) break;
    if (t.t !== 'comment') lastWasWord = t.t === 'word';
    r.pos++;
    if (t.t === 'comment') {
      comment = t.v;
    } else if (t.t === 'special' && t.v === '@' && !inHost) {
      inHost = true;
      host = '';
    } else if (inHost) {
      host += t.v;
    } else {
      local += t.v;
    }
  }
  return { mailbox: local === '' ? null : local, host: host === '' ? null : host, comment };
}

/** Reads one mailbox (name-addr or addr-spec), stopping before ',' ';' or end. */
function readMailbox(r: Reader, stops: string): ParsedMailbox | null {
  const start = r.pos;
  const phrase: string[] = [];
  let comment: string | null = null;
  // Look ahead for '<' before the next stop: then what precedes it is a display name.
  let angle = -1;
  for (let i = r.pos; i < r.toks.length; i++) {
    const t = r.toks[i] as Tok;
    if (t.t === 'special' && stops.includes(t.v)) break;
    if (t.t === 'special' && t.v === '<') {
      angle = i;
      break;
    }
  }
  if (angle < 0) {
    const spec = readAddrSpec(r, stops);
    if (r.pos === start || (spec.mailbox === null && spec.host === null)) return null;
    return { name: spec.comment, adl: null, mailbox: spec.mailbox, host: spec.host };
  }
  for (; r.pos < angle; r.pos++) {
    const t = r.toks[r.pos] as Tok;
    if (t.t === 'comment') comment ??= t.v;
    else phrase.push(t.v);
  }
  r.pos = angle + 1;
  // obs-route: "@a,@b:" before the addr-spec (RFC 5322 4.4).
  let adl: string | null = null;
  if (r.isSpecial('@')) {
    const routeStart = r.pos;
    const colon = r.toks.findIndex((t, i) => i >= routeStart && t.t === 'special' && (t.v === ':' || t.v === '>'));
    if (colon >= 0 && (r.toks[colon] as Tok).v === ':') {
      adl = r.toks
        .slice(routeStart, colon)
        .filter((t) => t.t !== 'comment')
        .map((t) => t.v)
        .join('');
      r.pos = colon + 1;
    }
  }
  const spec = readAddrSpec(r, '>' + stops);
  if (r.isSpecial('>')) r.pos++;
  // Anything after '>' up to the next separator is junk; a comment there may name the mailbox.
  for (let t = r.peek(); t !== undefined && !(t.t === 'special' && stops.includes(t.v)); t = r.peek()) {
    if (t.t === 'comment') comment ??= t.v;
    r.pos++;
  }
  const name = phrase.length > 0 ? joinPhrase(phrase) : comment;
  if ((name === null || name === '') && spec.mailbox === null && spec.host === null) return null;
  return { name: name === '' ? null : name, adl, mailbox: spec.mailbox, host: spec.host };
}

/** Parses an address-list header value (From, To, Cc, …); never throws. */
export function parseAddressList(s: string): ParsedAddress[] {
  const r = new Reader(tokenize(s));
  const out: ParsedAddress[] = [];
  while (r.pos < r.toks.length) {
    if (r.isSpecial(',') || r.isSpecial(';') || r.isSpecial('>')) {
      r.pos++;
      continue;
    }
    // A group is "phrase:" — find ':' before any '<' '@' ',' to tell it from a mailbox.
    let colon = -1;
    for (let i = r.pos; i < r.toks.length; i++) {
      const t = r.toks[i] as Tok;
      if (t.t !== 'special') continue;
      if (t.v === ':') colon = i;
      break;
    }
    if (colon >= 0) {
      const name = joinPhrase(
        r.toks
          .slice(r.pos, colon)
          .filter((t) => t.t === 'word' || (t.t === 'special' && t.v === '.'))
          .map((t) => t.v),
      );
      r.pos = colon + 1;
      const members: ParsedMailbox[] = [];
      while (r.pos < r.toks.length && !r.isSpecial(';')) {
        if (r.isSpecial(',') || r.isSpecial(':')) {
          r.pos++;
          continue;
        }
        const before = r.pos;
        const m = readMailbox(r, ',;');
        if (m !== null) members.push(m);
        if (r.pos === before) r.pos++;
      }
      if (r.isSpecial(';')) r.pos++;
      out.push({ kind: 'group', name, members });
      continue;
    }
    const before = r.pos;
    const m = readMailbox(r, ',;');
    if (m !== null) out.push({ kind: 'mailbox', ...m });
    if (r.pos === before) r.pos++;
  }
  return out;
}
