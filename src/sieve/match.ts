// Comparators (RFC 4790 via RFC 5228 2.7.3), match types (:is :contains
// :matches, RFC 5228 2.7.1), relational :value/:count (RFC 5231) and :regex
// (draft-ietf-sieve-regex, POSIX extended expressions).
//
// Rules:
// - :matches is a linear-backtracking glob matcher (no regular expression), so
//   no pattern can make it take exponential time; its wildcards capture the
//   shortest text, left to right (RFC 5229 3.2).
// - :regex patterns with a quantified group that itself repeats or alternates
//   are refused (they can backtrack exponentially); the text a regex sees is
//   capped.

import type { Relation } from './grammar.js';

export type MatchType = 'is' | 'contains' | 'matches' | 'regex' | 'value' | 'count';

export interface Matcher {
  type: MatchType;
  comparator: string;
  relation: Relation;
}

export interface MatchResult {
  matched: boolean;
  /** ${0}..${9} for :matches and :regex. */
  captures?: string[];
}

export const MAX_REGEX_INPUT = 64 * 1024;

const foldAscii = (s: string): string => s.replace(/[A-Z]+/g, (c) => c.toLowerCase());

function fold(comparator: string, s: string): string {
  return comparator === 'i;ascii-casemap' ? foldAscii(s) : s;
}

/** RFC 4790 9.1: the leading digits as a number; no digits is "positive infinity". */
function numericValue(s: string): number {
  const m = /^[0-9]+/.exec(s);
  return m ? Number(m[0]) : Infinity;
}

function compare(comparator: string, a: string, b: string): number {
  if (comparator === 'i;ascii-numeric') {
    const x = numericValue(a);
    const y = numericValue(b);
    return x === y ? 0 : x < y ? -1 : 1;
  }
  const x = fold(comparator, a);
  const y = fold(comparator, b);
  return x === y ? 0 : x < y ? -1 : 1;
}

export function relationHolds(relation: Relation, order: number): boolean {
  switch (relation) {
    case 'gt':
      return order > 0;
    case 'ge':
      return order >= 0;
    case 'lt':
      return order < 0;
    case 'le':
      return order <= 0;
    case 'eq':
      return order === 0;
    case 'ne':
      return order !== 0;
  }
}

/** Does `value` match `key`? (:count is handled by the caller, over all values.) */
export function matchOne(m: Matcher, value: string, key: string): MatchResult {
  switch (m.type) {
    case 'is':
      return { matched: compare(m.comparator, value, key) === 0 };
    case 'contains':
      return { matched: fold(m.comparator, value).includes(fold(m.comparator, key)) };
    case 'value':
      return { matched: relationHolds(m.relation, compare(m.comparator, value, key)) };
    case 'count':
      return { matched: false };
    case 'matches': {
      const captures = glob(key, value, m.comparator === 'i;ascii-casemap');
      return captures ? { matched: true, captures } : { matched: false };
    }
    case 'regex': {
      const re = compileRegex(key, m.comparator === 'i;ascii-casemap');
      const r = re.exec(value.length > MAX_REGEX_INPUT ? value.slice(0, MAX_REGEX_INPUT) : value);
      if (!r) return { matched: false };
      return { matched: true, captures: r.slice(0, 10).map((c) => c ?? '') };
    }
  }
}

/** :count — the number of values, compared with the key as i;ascii-numeric (RFC 5231 4.2). */
export function matchCount(m: Matcher, count: number, keys: string[]): boolean {
  return keys.some((k) => relationHolds(m.relation, compare('i;ascii-numeric', String(count), k)));
}

type GlobElem = { kind: 'lit'; c: string } | { kind: 'star' } | { kind: 'one' };

/** RFC 5228 2.7.1 :matches with captures: [whole, wildcard1, wildcard2, ...], or null. */
export function glob(pattern: string, text: string, caseFold: boolean): string[] | null {
  const elems: GlobElem[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) elems.push({ kind: 'lit', c: pattern[++i]! });
    else if (c === '*') elems.push({ kind: 'star' });
    else if (c === '?') elems.push({ kind: 'one' });
    else elems.push({ kind: 'lit', c });
  }
  const t = caseFold ? foldAscii(text) : text;
  const lit = (c: string): string => (caseFold ? foldAscii(c) : c);
  const capIndex: number[] = [];
  let n = 0;
  for (const e of elems) capIndex.push(e.kind === 'lit' ? -1 : n++);
  const caps: Array<[number, number]> = Array.from({ length: n }, () => [0, 0]);
  let p = 0;
  let i = 0;
  let star = -1;
  let starFrom = 0;
  while (i < t.length) {
    const e = elems[p];
    if (e?.kind === 'one') {
      caps[capIndex[p]!] = [i, i + 1];
      p++;
      i++;
    } else if (e?.kind === 'lit' && lit(e.c) === t[i]) {
      p++;
      i++;
    } else if (e?.kind === 'star') {
      star = p;
      starFrom = i;
      caps[capIndex[p]!] = [i, i];
      p++;
    } else if (star >= 0) {
      p = star + 1;
      starFrom++;
      caps[capIndex[star]!] = [caps[capIndex[star]!]![0], starFrom];
      i = starFrom;
    } else {
      return null;
    }
  }
  while (elems[p]?.kind === 'star') {
    caps[capIndex[p]!] = [i, i];
    p++;
  }
  if (p !== elems.length) return null;
  return [text, ...caps.map(([a, b]) => text.slice(a, b))];
}

/** :quotewildcard (RFC 5229 4.1). */
export function quoteWildcards(s: string): string {
  return s.replace(/[*?\\]/g, (c) => '\\' + c);
}

const POSIX_CLASSES: Record<string, string> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: 'A-Za-z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\r\\n\\v\\f',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  cntrl: '\\x00-\\x1f\\x7f',
  print: '\\x20-\\x7e',
  graph: '\\x21-\\x7e',
};

const regexCache = new Map<string, RegExp>();

/** A POSIX extended expression as a JavaScript RegExp; throws on a bad or unsafe one. */
export function compileRegex(pattern: string, caseFold: boolean): RegExp {
  const key = (caseFold ? 'i:' : 's:') + pattern;
  const cached = regexCache.get(key);
  if (cached) return cached;
  const problem = checkRegexSafety(pattern);
  if (problem) throw new Error(`regular expression "${pattern}": ${problem}`);
  const source = pattern.replace(/\[:([a-z]+):\]/g, (whole, name: string) => POSIX_CLASSES[name] ?? whole);
  const re = new RegExp(source, caseFold ? 'i' : '');
  if (regexCache.size > 500) regexCache.clear();
  regexCache.set(key, re);
  return re;
}

/** Why a pattern is refused, or null: syntax errors, back-references, nested repetition. */
export function checkRegexSafety(pattern: string): string | null {
  if (pattern.length > 1024) return 'longer than 1024 characters';
  if (/\\[1-9]/.test(pattern)) return 'back-references are not supported';
  try {
    new RegExp(pattern.replace(/\[:([a-z]+):\]/g, (whole, name: string) => POSIX_CLASSES[name] ?? whole));
  } catch (err) {
    return (err as Error).message.replace(/^Invalid regular expression: /, '');
  }
  // Track, per open group, whether it repeats or alternates inside.
  const stack: Array<{ risky: boolean }> = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (pattern[i + 1] === ']') i++;
      else if (pattern[i + 1] === '^' && pattern[i + 2] === ']') i += 2;
      continue;
    }
    const top = stack[stack.length - 1];
    if (c === '(') stack.push({ risky: false });
    else if (c === '|' && top) top.risky = true;
    else if ('*+?{'.includes(c) && top) top.risky = true;
    else if (c === ')') {
      const g = stack.pop();
      const next = pattern[i + 1];
      const repeated = next === '*' || next === '+' || next === '{';
      if (g?.risky && repeated) return 'a repeated group that itself repeats or alternates can take exponential time';
      if (g?.risky && stack.length > 0) stack[stack.length - 1]!.risky = true;
    }
  }
  return null;
}
