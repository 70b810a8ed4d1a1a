// Variables (RFC 5229): "${name}" expansion, match variables ${0}..${9} and
// the modifiers of "set".
//
// Rules:
// - Names are case-insensitive; an unknown variable expands to "".
// - Every value is cut to a configured length, so a script cannot build huge
//   strings by doubling a variable in a loop of includes.

import { quoteWildcards } from './match.js';

export class Variables {
  private readonly values = new Map<string, string>();
  private matches: string[] = [];

  constructor(private readonly maxLength: number) {}

  set(name: string, value: string): void {
    this.values.set(name.toLowerCase(), this.cut(value));
  }

  get(name: string): string {
    if (/^[0-9]+$/.test(name)) return this.matches[Number(name)] ?? '';
    return this.values.get(name.toLowerCase()) ?? '';
  }

  setMatches(captures: string[]): void {
    this.matches = captures.map((c) => this.cut(c));
  }

  /** RFC 5229 3: expands every well-formed "${...}" reference. */
  expand(s: string): string {
    if (!s.includes('${')) return s;
    const out = s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|[0-9]+)\}/g, (_whole, name: string) => this.get(name));
    return this.cut(out);
  }

  private cut(s: string): string {
    return s.length > this.maxLength ? s.slice(0, this.maxLength) : s;
  }
}

/** RFC 5229 4.1: modifiers apply in precedence order :length last, :quotewildcard, case, first-letter case. */
export function applyModifiers(value: string, tags: Record<string, unknown>): string {
  let v = value;
  if (tags['lower'] === true) v = v.toLowerCase();
  if (tags['upper'] === true) v = v.toUpperCase();
  if (tags['lowerfirst'] === true) v = v.slice(0, 1).toLowerCase() + v.slice(1);
  if (tags['upperfirst'] === true) v = v.slice(0, 1).toUpperCase() + v.slice(1);
  if (tags['quotewildcard'] === true) v = quoteWildcards(v);
  if (tags['length'] === true) v = String([...v].length);
  return v;
}
