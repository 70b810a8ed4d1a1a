// Byte-level tokenizer for one framed command (RFC 9051 9, formal syntax).
// Every method either consumes a token or throws ParseError('bad'); nothing else
// is thrown, so callers never need a catch-all.

import { IncompleteInput, bad } from './errors.js';

const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** RFC 9051 9: ATOM-CHAR = any CHAR except atom-specials. */
export function isAtomChar(c: number): boolean {
  if (c <= 0x1f || c >= 0x7f) return false;
  switch (c) {
    case 0x28: // (
    case 0x29: // )
    case 0x7b: // {
    case SP:
    case 0x25: // % list-wildcards
    case 0x2a: // *
    case DQUOTE:
    case BACKSLASH:
    case 0x5d: // ] resp-specials
      return false;
    default:
      return true;
  }
}

/** ASTRING-CHAR = ATOM-CHAR / resp-specials. */
export function isAstringChar(c: number): boolean {
  return isAtomChar(c) || c === 0x5d;
}

/** list-char = ATOM-CHAR / list-wildcards / resp-specials (RFC 9051 9). */
export function isListChar(c: number): boolean {
  return isAstringChar(c) || c === 0x25 || c === 0x2a;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8 decode; invalid bytes are a syntax error rather than U+FFFD. */
export function decodeUtf8(bytes: Buffer, what = 'string'): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw bad(`Invalid UTF-8 in ${what}`);
  }
}

export interface LiteralToken {
  data: Buffer;
  /** `~{n}` literal8 (RFC 3516). */
  binary: boolean;
}

export class Reader {
  readonly buf: Buffer;
  pos: number;

  constructor(buf: Buffer, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }

  atEnd(): boolean {
    return this.pos >= this.buf.length;
  }

  peek(offset = 0): number | undefined {
    return this.buf[this.pos + offset];
  }

  /** Case-insensitive look-ahead for an ASCII word (not consumed). */
  peekWord(word: string): boolean {
    if (this.pos + word.length > this.buf.length) return false;
    return this.buf.toString('latin1', this.pos, this.pos + word.length).toUpperCase() === word;
  }

  isChar(ch: string): boolean {
    return this.buf[this.pos] === ch.charCodeAt(0);
  }

  tryChar(ch: string): boolean {
    if (!this.isChar(ch)) return false;
    this.pos++;
    return true;
  }

  expect(ch: string): void {
    if (!this.tryChar(ch)) throw bad(this.atEnd() ? `Missing '${ch}'` : `Expected '${ch}'`);
  }

  /**
   * SP between arguments. RFC 9051 9 says exactly one; like Dovecot we accept a
   * run of them (and trailing ones, see trySp/end): extra blanks never change
   * what a command means, and rejecting them only breaks sloppy clients.
   */
  sp(): void {
    if (this.buf[this.pos] !== SP) throw bad(this.atEnd() ? 'Missing argument' : 'Expected space');
    this.skipSpaces();
  }

  /** Skips blanks; returns how many there were. */
  skipSpaces(): number {
    const start = this.pos;
    while (this.buf[this.pos] === SP) this.pos++;
    return this.pos - start;
  }

  /** Skips blanks and tells whether another argument follows them (blanks at the very end are ignored). */
  trySp(): boolean {
    if (this.buf[this.pos] !== SP) return false;
    this.skipSpaces();
    return !this.atEnd();
  }

  end(): void {
    this.skipSpaces();
    if (!this.atEnd()) throw bad('Unexpected extra arguments');
  }

  takeWhile(pred: (c: number) => boolean): string {
    const start = this.pos;
    while (this.pos < this.buf.length && pred(this.buf[this.pos] as number)) this.pos++;
    return this.buf.toString('latin1', start, this.pos);
  }

  atom(what = 'atom'): string {
    const s = this.takeWhile(isAtomChar);
    if (s.length === 0) throw bad(this.atEnd() ? 'Missing argument' : `Invalid characters in ${what}`);
    return s;
  }

  /** An atom compared case-insensitively: returned upper-cased. */
  keyword(what = 'keyword'): string {
    return this.atom(what).toUpperCase();
  }

  /** number = 1*DIGIT, at most 2^32-1 (RFC 9051 9). */
  number(): number {
    const s = this.takeWhile((c) => c >= 0x30 && c <= 0x39);
    if (s.length === 0) throw bad('Expected a number');
    const n = Number(s);
    if (s.length > 10 || n > 0xffffffff) throw bad('Number out of range');
    return n;
  }

  nzNumber(): number {
    const n = this.number();
    if (n === 0) throw bad('Zero is not allowed here');
    return n;
  }

  /**
   * number64 / mod-sequence-value (RFC 9051 9, RFC 7162 7): up to 2^63-1.
   * Values above 2^53-1 are clamped to Number.MAX_SAFE_INTEGER: the store never
   * issues modseqs (or sizes) that large, so every comparison the session makes
   * against its own values comes out the same as with the exact number.
   */
  number64(): number {
    const s = this.takeWhile((c) => c >= 0x30 && c <= 0x39);
    if (s.length === 0) throw bad('Expected a number');
    if (s.length > 19 || BigInt(s) > 0x7fffffffffffffffn) throw bad('Number out of range');
    return Math.min(Number(s), Number.MAX_SAFE_INTEGER);
  }

  /** quoted = DQUOTE *QUOTED-CHAR DQUOTE; 8-bit UTF-8 is accepted (RFC 9051 9). */
  quoted(): Buffer {
    this.expect('"');
    const out: number[] = [];
    while (true) {
      const c = this.buf[this.pos];
      if (c === undefined) throw bad('Missing closing quote');
      this.pos++;
      if (c === DQUOTE) return Buffer.from(out);
      if (c === BACKSLASH) {
        const e = this.buf[this.pos];
        if (e !== DQUOTE && e !== BACKSLASH) throw bad('Invalid escape in quoted string');
        out.push(e);
        this.pos++;
        continue;
      }
      if (c === 0x00 || c === 0x0d || c === 0x0a) throw bad('Invalid character in quoted string');
      out.push(c);
    }
  }

  isLiteral(): boolean {
    return this.isChar('{') || (this.isChar('~') && this.peek(1) === 0x7b);
  }

  /** literal / literal8: `[~]{n[+]}` CRLF n bytes (RFC 9051 9, RFC 7888, RFC 3516). */
  literal(allowBinary = false, allowNul = false): LiteralToken {
    const binary = this.tryChar('~');
    if (binary && !allowBinary) throw bad('literal8 is not allowed here');
    this.expect('{');
    const size = this.number();
    this.tryChar('+');
    this.expect('}');
    if (this.buf[this.pos] !== 0x0d || this.buf[this.pos + 1] !== 0x0a) throw bad('Missing CRLF after literal size');
    this.pos += 2;
    if (this.pos + size > this.buf.length) throw new IncompleteInput();
    const data = this.buf.subarray(this.pos, this.pos + size);
    this.pos += size;
    // RFC 9051 4.3: a literal is CHAR8 (no NUL); only literal8 may carry NUL. APPEND
    // is lenient (allowNul) because broken mail with NULs exists and must be storable.
    if (!binary && !allowNul && data.includes(0)) throw bad('NUL in literal');
    return { data, binary };
  }

  string(): Buffer {
    if (this.isChar('"')) return this.quoted();
    if (this.isLiteral()) return this.literal().data;
    throw bad(this.atEnd() ? 'Missing argument' : 'Expected a string');
  }

  /** astring = 1*ASTRING-CHAR / string */
  astring(): Buffer {
    if (this.isChar('"') || this.isLiteral()) return this.string();
    const start = this.pos;
    this.takeWhile(isAstringChar);
    if (this.pos === start) throw bad(this.atEnd() ? 'Missing argument' : 'Invalid characters in argument');
    return this.buf.subarray(start, this.pos);
  }

  astringText(what = 'argument'): string {
    return decodeUtf8(this.astring(), what);
  }

  /** nstring = string / "NIL" */
  nstring(): Buffer | null {
    if (this.peekWord('NIL') && !isAtomChar(this.peek(3) ?? SP)) {
      this.pos += 3;
      return null;
    }
    return this.string();
  }

  /**
   * A parenthesised, space-separated list: `(` item *(SP item) `)`.
   * `allowEmpty` permits `()`.
   */
  list<T>(item: () => T, allowEmpty = false): T[] {
    this.expect('(');
    this.skipSpaces();
    const out: T[] = [];
    if (this.tryChar(')')) {
      if (!allowEmpty) throw bad('Empty list');
      return out;
    }
    while (true) {
      out.push(item());
      const spaced = this.skipSpaces() > 0;
      if (this.tryChar(')')) return out;
      if (!spaced) throw bad(this.atEnd() ? "Missing ')'" : 'Expected space');
    }
  }
}
