// The Sieve grammar (RFC 5228 8.2) into a generic syntax tree: commands with
// arguments, tests and blocks. What the commands mean is the validator's work.
//
// Rules:
// - Nesting is limited (blocks and test lists), so a hostile script cannot
//   exhaust the stack; every error names line:column.

import { SieveError, type Position } from './errors.js';
import { tokenize, type Token } from './lexer.js';

export type Argument =
  | { kind: 'strings'; values: string[]; list: boolean; pos: Position }
  | { kind: 'number'; value: number; pos: Position }
  | { kind: 'tag'; name: string; pos: Position };

export interface TestNode {
  name: string;
  pos: Position;
  args: Argument[];
  tests: TestNode[];
}

export interface CommandNode {
  name: string;
  pos: Position;
  args: Argument[];
  tests: TestNode[];
  /** Present for commands followed by `{ ... }`. */
  block: CommandNode[] | null;
}

export const MAX_NESTING = 32;

export function parseScript(source: string): CommandNode[] {
  return new Parser(tokenize(source)).script();
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    const t = this.tokens[this.i]!;
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private isPunct(value: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.value === value;
  }

  script(): CommandNode[] {
    const commands = this.commands(0);
    const t = this.peek();
    if (t.kind !== 'eof') throw new SieveError(t.pos, `unexpected ${describe(t)}`);
    return commands;
  }

  private commands(depth: number): CommandNode[] {
    const out: CommandNode[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof' || (t.kind === 'punct' && t.value === '}')) return out;
      out.push(this.command(depth));
    }
  }

  private command(depth: number): CommandNode {
    const t = this.next();
    if (t.kind !== 'identifier') throw new SieveError(t.pos, `expected a command, found ${describe(t)}`);
    const args = this.arguments();
    const tests = this.testsAfterArguments(depth);
    const end = this.next();
    if (end.kind === 'punct' && end.value === ';') return { name: t.value, pos: t.pos, args, tests, block: null };
    if (end.kind === 'punct' && end.value === '{') {
      if (depth >= MAX_NESTING) throw new SieveError(end.pos, `blocks nested deeper than ${MAX_NESTING} levels`);
      const block = this.commands(depth + 1);
      const close = this.next();
      if (!(close.kind === 'punct' && close.value === '}')) throw new SieveError(close.pos, `expected "}" to close the block of "${t.value}" (line ${end.pos.line}), found ${describe(close)}`);
      return { name: t.value, pos: t.pos, args, tests, block };
    }
    throw new SieveError(end.pos, `expected ";" or "{" after "${t.value}", found ${describe(end)}`);
  }

  private arguments(): Argument[] {
    const out: Argument[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'tag') {
        this.next();
        out.push({ kind: 'tag', name: t.value, pos: t.pos });
      } else if (t.kind === 'number') {
        this.next();
        out.push({ kind: 'number', value: t.value, pos: t.pos });
      } else if (t.kind === 'string') {
        this.next();
        out.push({ kind: 'strings', values: [t.value], list: false, pos: t.pos });
      } else if (t.kind === 'punct' && t.value === '[') {
        out.push(this.stringList());
      } else {
        return out;
      }
    }
  }

  private stringList(): Argument {
    const open = this.next();
    const values: string[] = [];
    for (;;) {
      const s = this.next();
      if (s.kind !== 'string') throw new SieveError(s.pos, `expected a string in the list, found ${describe(s)}`);
      values.push(s.value);
      const sep = this.next();
      if (sep.kind === 'punct' && sep.value === ']') break;
      if (!(sep.kind === 'punct' && sep.value === ',')) throw new SieveError(sep.pos, `expected "," or "]" in the string list, found ${describe(sep)}`);
    }
    return { kind: 'strings', values, list: true, pos: open.pos };
  }

  private testsAfterArguments(depth: number): TestNode[] {
    const t = this.peek();
    if (t.kind === 'identifier') return [this.test(depth)];
    if (t.kind === 'punct' && t.value === '(') return this.testList(depth);
    return [];
  }

  private testList(depth: number): TestNode[] {
    const open = this.next();
    if (depth >= MAX_NESTING) throw new SieveError(open.pos, `tests nested deeper than ${MAX_NESTING} levels`);
    const out: TestNode[] = [];
    for (;;) {
      out.push(this.test(depth + 1));
      const sep = this.next();
      if (sep.kind === 'punct' && sep.value === ')') return out;
      if (!(sep.kind === 'punct' && sep.value === ',')) throw new SieveError(sep.pos, `expected "," or ")" in the test list, found ${describe(sep)}`);
    }
  }

  private test(depth: number): TestNode {
    const t = this.next();
    if (t.kind !== 'identifier') throw new SieveError(t.pos, `expected a test, found ${describe(t)}`);
    if (depth >= MAX_NESTING) throw new SieveError(t.pos, `tests nested deeper than ${MAX_NESTING} levels`);
    const args = this.arguments();
    const tests = this.testsAfterArguments(depth + 1);
    return { name: t.value, pos: t.pos, args, tests };
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'the end of the script';
    case 'identifier':
      return `"${t.value}"`;
    case 'tag':
      return `":${t.value}"`;
    case 'number':
      return `the number ${t.value}`;
    case 'string':
      return 'a string';
    case 'punct':
      return `"${t.value}"`;
  }
}
