// Checks a parsed script against the grammar table (grammar.ts) and the rules of
// RFC 5228 and its extensions, and turns it into the form the interpreter runs.
//
// Rules:
// - "require" comes first and names only capabilities we support (RFC 5228 3.2);
//   an extension's command, test or tag is an error without it.
// - Literal values that can be checked now (comparators, relations, date parts,
//   regular expressions, variable names) are checked on upload, not at delivery.
// - Every error carries line:column.

import { SieveError, type Position } from './errors.js';
import { parseScript, type Argument, type CommandNode, type TestNode } from './parser.js';
import { CAPABILITIES, COMPARATORS, DATE_PARTS, RELATIONS, SPECS, type ArgKind, type Spec } from './grammar.js';
import { checkRegexSafety } from './match.js';

export type TagValue = true | string | string[] | number;
export type ArgValue = string | string[] | number;

export interface Node {
  name: string;
  pos: Position;
  tags: Record<string, TagValue>;
  args: ArgValue[];
  tests: Node[];
  block: Node[] | null;
}

export interface Script {
  commands: Node[];
  requires: ReadonlySet<string>;
}

const SUPPORTED = new Set<string>(CAPABILITIES);

/** Parses and validates; throws SieveError (with line:column) on the first problem. */
export function compileScript(source: string): Script {
  const tree = parseScript(source);
  const requires = new Set<string>();
  let seenOther = false;
  for (const c of tree) {
    if (c.name !== 'require') {
      seenOther = true;
      continue;
    }
    if (seenOther) throw new SieveError(c.pos, '"require" must come before any other command');
    const arg = c.args[0];
    if (c.args.length !== 1 || arg?.kind !== 'strings' || c.tests.length > 0 || c.block) throw new SieveError(c.pos, '"require" takes one string or string list');
    for (const cap of arg.values) {
      if (!SUPPORTED.has(cap)) throw new SieveError(arg.pos, `unsupported extension "${cap}"`);
      requires.add(cap);
    }
  }
  const v = new Validator(requires);
  return { commands: v.commands(tree.filter((c) => c.name !== 'require'), 'top'), requires };
}

class Validator {
  constructor(private readonly requires: Set<string>) {}

  private needs(capability: string | undefined, pos: Position, what: string): void {
    if (capability !== undefined && !this.requires.has(capability)) throw new SieveError(pos, `${what} needs require "${capability}"`);
  }

  commands(nodes: CommandNode[], where: 'top' | 'block'): Node[] {
    const out: Node[] = [];
    let previous: string | undefined;
    for (const c of nodes) {
      if (c.name === 'require') throw new SieveError(c.pos, '"require" must come before any other command');
      if ((c.name === 'elsif' || c.name === 'else') && previous !== 'if' && previous !== 'elsif') {
        throw new SieveError(c.pos, `"${c.name}" must follow "if" or "elsif"`);
      }
      const spec = SPECS[c.name];
      if (!spec) throw new SieveError(c.pos, `unknown command "${c.name}"`);
      if (spec.kind !== 'command') throw new SieveError(c.pos, `"${c.name}" is a test, not a command`);
      const node = this.node(c, spec, c.tests);
      if (spec.block) {
        if (!c.block) throw new SieveError(c.pos, `"${c.name}" needs a block "{ ... }"`);
        node.block = this.commands(c.block, 'block');
      } else if (c.block) {
        throw new SieveError(c.pos, `"${c.name}" takes no block; expected ";"`);
      }
      this.specific(node);
      out.push(node);
      previous = c.name;
    }
    void where;
    return out;
  }

  private test(t: TestNode): Node {
    const spec = SPECS[t.name];
    if (!spec) throw new SieveError(t.pos, `unknown test "${t.name}"`);
    if (spec.kind !== 'test') throw new SieveError(t.pos, `"${t.name}" is a command, not a test`);
    const node = this.node(t, spec, t.tests);
    this.specific(node);
    return node;
  }

  private node(n: CommandNode | TestNode, spec: Spec, tests: TestNode[]): Node {
    this.needs(spec.requires, n.pos, `"${n.name}"`);
    const tags: Record<string, TagValue> = {};
    const groups = new Map<string, string>();
    const positional: Argument[] = [];
    for (let i = 0; i < n.args.length; i++) {
      const a = n.args[i]!;
      if (a.kind !== 'tag') {
        positional.push(a);
        continue;
      }
      if (positional.length > 0) throw new SieveError(a.pos, `tag ":${a.name}" must come before the other arguments of "${n.name}"`);
      const tag = spec.tags[a.name];
      if (!tag) throw new SieveError(a.pos, `"${n.name}" has no tag ":${a.name}"`);
      this.needs(tag.requires, a.pos, `":${a.name}"`);
      if (a.name in tags) throw new SieveError(a.pos, `tag ":${a.name}" given twice`);
      if (tag.group) {
        const other = groups.get(tag.group);
        if (other) throw new SieveError(a.pos, `":${a.name}" cannot be combined with ":${other}"`);
        groups.set(tag.group, a.name);
      }
      if (tag.value) {
        const v = n.args[i + 1];
        if (!v || v.kind === 'tag') throw new SieveError(a.pos, `":${a.name}" needs ${kindName(tag.value)}`);
        tags[a.name] = this.value(v, tag.value, `":${a.name}"`);
        i++;
      } else {
        tags[a.name] = true;
      }
    }
    const variant = spec.positional.find((p) => p.length === positional.length && p.every((k, i) => fits(positional[i]!, k)));
    if (!variant) {
      const expected = spec.positional.map((p) => (p.length === 0 ? 'no arguments' : p.map(kindName).join(', '))).join(' or ');
      throw new SieveError(positional[0]?.pos ?? n.pos, `"${n.name}" takes ${expected}`);
    }
    const args = positional.map((a, i) => this.value(a, variant[i]!, `"${n.name}"`));
    if (spec.tests === 'none' && tests.length > 0) {
      const t = tests[0]!;
      const hint = SPECS[t.name]?.kind === 'command' ? ` (is a ";" missing before "${t.name}"?)` : '';
      throw new SieveError(t.pos, `"${n.name}" takes no test${hint}`);
    }
    if (spec.tests === 'one' && tests.length !== 1) throw new SieveError(n.pos, `"${n.name}" takes exactly one test`);
    if (spec.tests === 'list' && tests.length === 0) throw new SieveError(n.pos, `"${n.name}" takes a list of tests`);
    return { name: n.name, pos: n.pos, tags, args, tests: tests.map((t) => this.test(t)), block: null };
  }

  private value(a: Argument, kind: ArgKind, what: string): ArgValue {
    if (kind === 'number') {
      if (a.kind !== 'number') throw new SieveError(a.pos, `${what} needs a number`);
      return a.value;
    }
    if (a.kind !== 'strings') throw new SieveError(a.pos, `${what} needs ${kindName(kind)}`);
    if (kind === 'string') {
      if (a.list) throw new SieveError(a.pos, `${what} needs a single string, not a list`);
      return a.values[0]!;
    }
    return a.values;
  }

  /** Literal values that can be checked now. */
  private specific(n: Node): void {
    const variables = this.requires.has('variables');
    const literal = (s: string): boolean => !(variables && s.includes('${'));
    const cmp = n.tags['comparator'];
    if (typeof cmp === 'string' && literal(cmp)) {
      if (!(cmp in COMPARATORS)) throw new SieveError(n.pos, `unknown comparator "${cmp}"`);
      this.needs(COMPARATORS[cmp], n.pos, `comparator "${cmp}"`);
    }
    for (const rel of ['value', 'count'] as const) {
      const r = n.tags[rel];
      if (typeof r === 'string' && literal(r) && !(RELATIONS as readonly string[]).includes(r.toLowerCase())) {
        throw new SieveError(n.pos, `":${rel}" needs one of ${RELATIONS.map((x) => `"${x}"`).join(', ')}, not "${r}"`);
      }
    }
    if (n.tags['regex'] === true) {
      const keys = n.args[n.args.length - 1];
      for (const k of Array.isArray(keys) ? keys : []) {
        if (!literal(k)) continue;
        const problem = checkRegexSafety(k);
        if (problem) throw new SieveError(n.pos, `regular expression "${k}": ${problem}`);
      }
    }
    if (typeof n.tags['index'] === 'number' && n.tags['index'] < 1) throw new SieveError(n.pos, '":index" counts from 1');
    if (n.tags['last'] === true && n.tags['index'] === undefined) throw new SieveError(n.pos, '":last" needs ":index"');
    switch (n.name) {
      case 'size':
        if (n.tags['over'] === undefined && n.tags['under'] === undefined) throw new SieveError(n.pos, '"size" needs ":over" or ":under"');
        break;
      case 'envelope':
        for (const part of n.args[0] as string[]) {
          if (literal(part) && !['from', 'to'].includes(part.toLowerCase())) throw new SieveError(n.pos, `envelope part "${part}" is not supported (use "from" or "to")`);
        }
        break;
      case 'date':
      case 'currentdate': {
        const part = n.args[n.name === 'date' ? 1 : 0] as string;
        if (literal(part) && !(DATE_PARTS as readonly string[]).includes(part.toLowerCase())) throw new SieveError(n.pos, `unknown date part "${part}"`);
        const zone = n.tags['zone'];
        if (typeof zone === 'string' && literal(zone) && !/^[+-]\d{4}$/.test(zone)) throw new SieveError(n.pos, `":zone" needs "+hhmm" or "-hhmm", not "${zone}"`);
        break;
      }
      case 'set': {
        const name = n.args[0] as string;
        if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(name)) throw new SieveError(n.pos, `"${name}" is not a valid variable name`);
        break;
      }
      case 'setflag':
      case 'addflag':
      case 'removeflag':
      case 'hasflag':
        if (n.args.length === 2) this.needs('variables', n.pos, `a variable name in "${n.name}"`);
        break;
      case 'include': {
        if (n.tags['global'] === true) throw new SieveError(n.pos, 'global scripts are not supported; use ":personal"');
        const name = n.args[0] as string;
        if (!validScriptName(name)) throw new SieveError(n.pos, `"${name}" is not a valid script name`);
        break;
      }
      case 'fileinto':
        if ((n.args[0] as string) === '') throw new SieveError(n.pos, '"fileinto" needs a mailbox name');
        break;
      case 'redirect': {
        const to = n.args[0] as string;
        if (literal(to) && !/^[^\s@<>]+@[^\s@<>]+$/.test(to.trim())) throw new SieveError(n.pos, `"${to}" is not a mail address`);
        break;
      }
      case 'vacation': {
        const days = n.tags['days'];
        if (typeof days === 'number' && days < 1) throw new SieveError(n.pos, '":days" must be at least 1');
        break;
      }
    }
  }
}

function fits(a: Argument, kind: ArgKind): boolean {
  if (kind === 'number') return a.kind === 'number';
  if (a.kind !== 'strings') return false;
  return kind === 'strings' || !a.list;
}

function kindName(kind: ArgKind): string {
  return kind === 'number' ? 'a number' : kind === 'string' ? 'a string' : 'a string list';
}

/** RFC 5804 1.6: script names are non-empty UTF-8 without control characters; we also refuse "/". */
export function validScriptName(name: string): boolean {
  // eslint-disable-next-line no-control-regex
  return name.length > 0 && name.length <= 128 && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029/]/.test(name);
}
