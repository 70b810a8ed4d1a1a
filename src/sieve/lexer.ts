// Sieve lexical structure (RFC 5228 2.2-2.4, 8.1): identifiers, tags, numbers
// with K/M/G quantifiers, quoted strings, multi-line "text:" strings, comments.
//
// Rules:
// - Every token carries the line and column (both 1-based) where it starts, so
//   that every error points at the place in the script.
// - Lexing never throws anything but SieveError.

import { SieveError, type Position } from './errors.js';

export type Token =
  | { kind: 'identifier'; value: string; pos: Position }
  | { kind: 'tag'; value: string; pos: Position }
  | { kind: 'number'; value: number; pos: Position }
  | { kind: 'string'; value: string; pos: Position }
  | { kind: 'punct'; value: '[' | ']' | '(' | ')' | '{' | '}' | ',' | ';'; pos: Position }
  | { kind: 'eof'; pos: Position };

const QUANTIFIER: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const MAX_NUMBER = 2 ** 31 - 1;

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const pos = (at = i): Position => ({ line, column: at - lineStart + 1 });
  const newline = (at: number): void => {
    line++;
    lineStart = at + 1;
  };

  while (i < source.length) {
    const c = source[i]!;
    if (c === '\n') {
      newline(i);
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && source[i + 1] === '*') {
      const start = pos();
      const end = source.indexOf('*/', i + 2);
      if (end < 0) throw new SieveError(start, 'unterminated comment: "/*" without "*/"');
      for (let j = i; j < end; j++) if (source[j] === '\n') newline(j);
      i = end + 2;
      continue;
    }
    if ('[](){},;'.includes(c)) {
      tokens.push({ kind: 'punct', value: c as '[', pos: pos() });
      i++;
      continue;
    }
    if (c === '"') {
      const start = pos();
      let out = '';
      i++;
      for (;;) {
        if (i >= source.length) throw new SieveError(start, 'unterminated string: missing closing \'"\'');
        const ch = source[i]!;
        if (ch === '"') break;
        if (ch === '\\') {
          // RFC 5228 2.4.2: only \" and \\ are escapes; any other "\x" is "x".
          i++;
          if (i >= source.length) continue;
          if (source[i] === '\n') newline(i);
          out += source[i]!;
          i++;
          continue;
        }
        if (ch === '\n') newline(i);
        out += ch;
        i++;
      }
      i++;
      tokens.push({ kind: 'string', value: normalizeLineBreaks(out), pos: start });
      continue;
    }
    if (c === ':') {
      const start = pos();
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i + 1, i + 130));
      if (!m) throw new SieveError(start, 'expected a tag name after ":"');
      tokens.push({ kind: 'tag', value: m[0].toLowerCase(), pos: start });
      i += 1 + m[0].length;
      continue;
    }
    if (c >= '0' && c <= '9') {
      const start = pos();
      const m = /^([0-9]+)([KkMmGg]?)/.exec(source.slice(i, i + 40))!;
      let value = Number(m[1]) * (m[2] ? QUANTIFIER[m[2].toLowerCase()]! : 1);
      if (!Number.isSafeInteger(value) || value > MAX_NUMBER) value = MAX_NUMBER;
      tokens.push({ kind: 'number', value, pos: start });
      i += m[0].length;
      if (/[A-Za-z_]/.test(source[i] ?? '')) throw new SieveError(pos(), `unexpected character "${source[i]}" after a number`);
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const start = pos();
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i, i + 130))!;
      const word = m[0];
      if (word.toLowerCase() === 'text' && source[i + 4] === ':') {
        i += 5;
        const { value, end } = multiLine(source, i, start);
        for (let j = i; j < end; j++) if (source[j] === '\n') newline(j);
        i = end;
        tokens.push({ kind: 'string', value, pos: start });
        continue;
      }
      tokens.push({ kind: 'identifier', value: word.toLowerCase(), pos: start });
      i += word.length;
      continue;
    }
    throw new SieveError(pos(), `unexpected character ${JSON.stringify(c)}`);
  }
  tokens.push({ kind: 'eof', pos: pos() });
  return tokens;
}

/**
 * RFC 5228 2.4.2: "text:" [whitespace] [comment] CRLF, then lines up to a line
 * holding only "."; a leading ".." stands for ".". Returns the text with CRLF
 * line ends and the index after the terminating line.
 */
function multiLine(source: string, from: number, start: Position): { value: string; end: number } {
  let i = from;
  while (source[i] === ' ' || source[i] === '\t') i++;
  if (source[i] === '#') while (i < source.length && source[i] !== '\n') i++;
  if (source[i] === '\r') i++;
  if (source[i] !== '\n') throw new SieveError(start, 'a "text:" string must be followed by a line break');
  i++;
  const lines: string[] = [];
  for (;;) {
    if (i >= source.length) throw new SieveError(start, 'unterminated "text:" string: missing a line with only "."');
    let end = source.indexOf('\n', i);
    if (end < 0) end = source.length;
    let text = source.slice(i, end);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    i = end + 1;
    if (text === '.') break;
    lines.push(text.startsWith('..') ? text.slice(1) : text);
  }
  return { value: lines.map((l) => l + '\r\n').join(''), end: Math.min(i, source.length) };
}

function normalizeLineBreaks(s: string): string {
  return s.includes('\n') ? s.replace(/\r?\n/g, '\r\n') : s;
}
