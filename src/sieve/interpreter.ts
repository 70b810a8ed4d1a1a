// Runs a validated script against one message for one recipient and returns
// the actions to take (RFC 5228 2.10). It has no side effects: the delivery
// hook carries the actions out.
//
// Rules:
// - Bounded: a time budget checked at every command and test, a maximum number
//   of actions and of redirects, include depth and loops. Going over is a
//   SieveRuntimeError, and the caller falls back to implicit keep.
// - Implicit keep is cancelled by keep, fileinto, redirect and discard, and by
//   reject; never by :copy (RFC 3894).
// - imap4flags: one internal flag variable; keep/fileinto without :flags and the
//   implicit keep take its value at that moment (RFC 5232 3, 5).

import { createHash } from 'node:crypto';
import { SieveRuntimeError } from './errors.js';
import type { DatePart, Relation } from './grammar.js';
import { matchCount, matchOne, type Matcher, type MatchType } from './match.js';
import { MessageView, parseEnvelopeAddress, subaddress, type SieveAddress } from './message.js';
import type { Node, Script } from './validator.js';
import { Variables, applyModifiers } from './variables.js';
import { datePart, parseHeaderDate, parseZone, type ZonedDate } from './dates.js';
import { normalizeFlags } from './flags.js';

export interface VacationAction {
  kind: 'vacation';
  reason: string;
  /** true: `reason` is a MIME entity (headers and body), RFC 5230 4.8. */
  mime: boolean;
  subject: string | null;
  from: string | null;
  addresses: string[];
  days: number | null;
  handle: string;
}

export type Action =
  | { kind: 'keep'; flags: string[] }
  | { kind: 'fileinto'; mailbox: string; flags: string[]; create: boolean; copy: boolean }
  | { kind: 'redirect'; address: string; copy: boolean }
  | { kind: 'discard' }
  | { kind: 'reject'; reason: string; extended: boolean }
  | VacationAction;

export interface SieveLimits {
  maxActions: number;
  maxRedirects: number;
  /** Wall-clock budget for one execution, includes and all. */
  maxTimeMs: number;
  maxIncludeDepth: number;
  maxVariableLength: number;
}

export const DEFAULT_SIEVE_LIMITS: SieveLimits = { maxActions: 32, maxRedirects: 4, maxTimeMs: 500, maxIncludeDepth: 5, maxVariableLength: 4096 };

export interface SieveEnvironment {
  message: MessageView;
  /** RFC 5321 MAIL FROM ('' for the null sender) and this recipient's RCPT TO. */
  envelope: { from: string; to: string };
  mailboxExists(name: string): boolean;
  /** A personal script by name (RFC 6609 include :personal), compiled; undefined if missing. */
  loadScript(name: string): Promise<Script | undefined>;
  limits: SieveLimits;
  now: Date;
}

export interface SieveOutcome {
  actions: Action[];
  /** Whether the message is also kept in INBOX (implicit keep), with these flags. */
  implicitKeep: boolean;
  implicitKeepFlags: string[];
}

type Flow = 'next' | 'stop' | 'return';

export async function runScript(script: Script, env: SieveEnvironment, name = 'main'): Promise<SieveOutcome> {
  const run = new Run(env);
  await run.script(script, [name]);
  return { actions: run.actions, implicitKeep: run.implicitKeep, implicitKeepFlags: [...run.flags] };
}

class Run {
  readonly actions: Action[] = [];
  implicitKeep = true;
  flags: string[] = [];
  private readonly deadline: number;
  private readonly included = new Set<string>();
  private redirects = 0;
  private vars: Variables;

  constructor(private readonly env: SieveEnvironment) {
    this.deadline = Date.now() + env.limits.maxTimeMs;
    this.vars = new Variables(env.limits.maxVariableLength);
  }

  private variablesOn = false;

  async script(script: Script, chain: string[]): Promise<Flow> {
    const outer = this.variablesOn;
    const outerVars = this.vars;
    this.variablesOn = script.requires.has('variables');
    // Each script has its own variables (no "global" support).
    this.vars = new Variables(this.env.limits.maxVariableLength);
    try {
      return await this.block(script.commands, chain);
    } finally {
      this.variablesOn = outer;
      this.vars = outerVars;
    }
  }

  private tick(node: Node): void {
    if (Date.now() > this.deadline) throw new SieveRuntimeError(`execution took longer than ${this.env.limits.maxTimeMs} ms`, node.pos);
  }

  private str(s: string): string {
    return this.variablesOn ? this.vars.expand(s) : s;
  }

  private strs(v: unknown): string[] {
    return (v as string[]).map((s) => this.str(s));
  }

  private add(action: Action, node: Node): void {
    if (this.actions.length >= this.env.limits.maxActions) throw new SieveRuntimeError(`more than ${this.env.limits.maxActions} actions`, node.pos);
    this.actions.push(action);
  }

  private async block(commands: Node[], chain: string[]): Promise<Flow> {
    let branchTaken = false;
    for (const c of commands) {
      this.tick(c);
      if (c.name === 'if' || c.name === 'elsif' || c.name === 'else') {
        if (c.name === 'if') branchTaken = false;
        if (branchTaken) continue;
        if (c.name === 'else' || this.test(c.tests[0]!)) {
          branchTaken = true;
          const flow = await this.block(c.block ?? [], chain);
          if (flow !== 'next') return flow;
        }
        continue;
      }
      const flow = await this.command(c, chain);
      if (flow !== 'next') return flow;
    }
    return 'next';
  }

  private async command(c: Node, chain: string[]): Promise<Flow> {
    const t = c.tags;
    switch (c.name) {
      case 'stop':
        return 'stop';
      case 'return':
        return 'return';
      case 'keep':
        this.add({ kind: 'keep', flags: t['flags'] ? normalizeFlags(this.strs(t['flags'])) : [...this.flags] }, c);
        this.implicitKeep = false;
        return 'next';
      case 'discard':
        this.add({ kind: 'discard' }, c);
        this.implicitKeep = false;
        return 'next';
      case 'fileinto': {
        const copy = t['copy'] === true;
        const flags = t['flags'] ? normalizeFlags(this.strs(t['flags'])) : [...this.flags];
        this.add({ kind: 'fileinto', mailbox: this.str(c.args[0] as string), flags, create: t['create'] === true, copy }, c);
        if (!copy) this.implicitKeep = false;
        return 'next';
      }
      case 'redirect': {
        const address = this.str(c.args[0] as string).trim();
        if (!/^[^\s@<>]+@[^\s@<>]+$/.test(address)) throw new SieveRuntimeError(`redirect to "${address}": not a mail address`, c.pos);
        if (++this.redirects > this.env.limits.maxRedirects) throw new SieveRuntimeError(`more than ${this.env.limits.maxRedirects} redirects`, c.pos);
        const copy = t['copy'] === true;
        this.add({ kind: 'redirect', address, copy }, c);
        if (!copy) this.implicitKeep = false;
        return 'next';
      }
      case 'reject':
      case 'ereject':
        if (this.actions.some((a) => a.kind === 'reject')) throw new SieveRuntimeError('more than one reject', c.pos);
        this.add({ kind: 'reject', reason: this.str(c.args[0] as string), extended: c.name === 'ereject' }, c);
        this.implicitKeep = false;
        return 'next';
      case 'vacation':
        if (this.actions.some((a) => a.kind === 'vacation')) throw new SieveRuntimeError('more than one vacation', c.pos);
        this.add(this.vacation(c), c);
        return 'next';
      case 'setflag':
      case 'addflag':
      case 'removeflag': {
        const named = c.args.length === 2;
        const list = normalizeFlags(this.strs(c.args[named ? 1 : 0]));
        const current = named ? normalizeFlags([this.vars.get(c.args[0] as string)]) : this.flags;
        let next: string[];
        if (c.name === 'setflag') next = list;
        else if (c.name === 'addflag') next = normalizeFlags([...current, ...list]);
        else next = current.filter((f) => !list.some((x) => x.toLowerCase() === f.toLowerCase()));
        if (named) this.vars.set(c.args[0] as string, next.join(' '));
        else this.flags = next;
        return 'next';
      }
      case 'set':
        this.vars.set(c.args[0] as string, applyModifiers(this.str(c.args[1] as string), t));
        return 'next';
      case 'include':
        return this.include(c, chain);
      default:
        throw new SieveRuntimeError(`command "${c.name}" cannot run here`, c.pos);
    }
  }

  private async include(c: Node, chain: string[]): Promise<Flow> {
    const name = this.str(c.args[0] as string);
    if (c.tags['once'] === true && this.included.has(name)) return 'next';
    if (chain.includes(name)) throw new SieveRuntimeError(`include loop: ${[...chain, name].join(' -> ')}`, c.pos);
    if (chain.length > this.env.limits.maxIncludeDepth) throw new SieveRuntimeError(`includes nested deeper than ${this.env.limits.maxIncludeDepth}`, c.pos);
    const script = await this.env.loadScript(name);
    if (!script) {
      if (c.tags['optional'] === true) return 'next';
      throw new SieveRuntimeError(`included script "${name}" does not exist`, c.pos);
    }
    this.included.add(name);
    const flow = await this.script(script, [...chain, name]);
    // RFC 6609 3.2: "return" ends the included script only; "stop" ends everything.
    return flow === 'stop' ? 'stop' : 'next';
  }

  private vacation(c: Node): Action {
    const t = c.tags;
    const reason = this.str(c.args[0] as string);
    const subject = typeof t['subject'] === 'string' ? this.str(t['subject']) : null;
    const from = typeof t['from'] === 'string' ? this.str(t['from']) : null;
    const mime = t['mime'] === true;
    // RFC 5230 4.2: without :handle, the same reason, subject, from and :mime count as one.
    const handle =
      typeof t['handle'] === 'string'
        ? this.str(t['handle'])
        : createHash('sha256').update(JSON.stringify([reason, subject, from, mime])).digest('hex').slice(0, 32);
    return {
      kind: 'vacation',
      reason,
      mime,
      subject,
      from,
      addresses: t['addresses'] ? this.strs(t['addresses']) : [],
      days: typeof t['days'] === 'number' ? t['days'] : null,
      handle,
    };
  }

  // Tests

  private test(n: Node): boolean {
    this.tick(n);
    const msg = this.env.message;
    switch (n.name) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'not':
        return !this.test(n.tests[0]!);
      case 'anyof':
        return n.tests.some((t) => this.test(t));
      case 'allof':
        return n.tests.every((t) => this.test(t));
      case 'size': {
        const limit = n.args[0] as number;
        return n.tags['over'] === true ? msg.size > limit : msg.size < limit;
      }
      case 'exists':
        return this.strs(n.args[0]).every((h) => msg.exists(h));
      case 'header': {
        const values = this.strs(n.args[0]).flatMap((h) => this.indexed(n, msg.headers(h)));
        return this.match(n, values, this.strs(n.args[1]));
      }
      case 'address': {
        const values = this.strs(n.args[0]).flatMap((h) => this.indexed(n, msg.addresses(h)).flat());
        return this.match(n, this.addressParts(n, values), this.strs(n.args[1]));
      }
      case 'envelope': {
        const env = this.env.envelope;
        const values = this.strs(n.args[0]).map((part) => parseEnvelopeAddress(part.toLowerCase() === 'from' ? env.from : env.to));
        return this.match(n, this.addressParts(n, values), this.strs(n.args[1]));
      }
      case 'body': {
        const t = n.tags;
        const values = t['raw'] === true ? [msg.rawBody()] : t['content'] ? msg.content(this.strs(t['content'])) : [msg.text()];
        return this.match(n, values, this.strs(n.args[0]));
      }
      case 'string': {
        const values = this.strs(n.args[0]);
        // RFC 5229 5: for :count, empty strings are not counted.
        return this.match(n, n.tags['count'] ? values.filter((v) => v !== '') : values, this.strs(n.args[1]));
      }
      case 'hasflag': {
        const named = n.args.length === 2;
        const flags = named ? normalizeFlags(this.strs(n.args[0]).map((v) => this.vars.get(v))) : this.flags;
        return this.match(n, flags, this.strs(n.args[named ? 1 : 0]));
      }
      case 'mailboxexists':
        return this.strs(n.args[0]).every((m) => this.env.mailboxExists(m));
      case 'date': {
        const dates = this.indexed(n, msg.headers(this.str(n.args[0] as string)))
          .map(parseHeaderDate)
          .filter((d): d is ZonedDate => d !== null);
        const part = this.str(n.args[1] as string).toLowerCase() as DatePart;
        const values = dates.map((d) => datePart(this.zoned(n, d), part));
        return this.match(n, values, this.strs(n.args[2]));
      }
      case 'currentdate': {
        const now: ZonedDate = { time: this.env.now.getTime(), offset: -this.env.now.getTimezoneOffset() };
        const part = this.str(n.args[0] as string).toLowerCase() as DatePart;
        return this.match(n, [datePart(this.zoned(n, now), part)], this.strs(n.args[1]));
      }
      default:
        throw new SieveRuntimeError(`test "${n.name}" cannot run here`, n.pos);
    }
  }

  private zoned(n: Node, d: ZonedDate): ZonedDate {
    const zone = n.tags['zone'];
    if (typeof zone === 'string') {
      const offset = parseZone(this.str(zone));
      if (offset === null) throw new SieveRuntimeError(`":zone" "${zone}" is not +hhmm/-hhmm`, n.pos);
      return { time: d.time, offset };
    }
    if (n.tags['originalzone'] === true || n.name === 'currentdate') return d;
    // RFC 5260 4: without :zone or :originalzone, the local time zone.
    return { time: d.time, offset: -new Date(d.time).getTimezoneOffset() };
  }

  /** RFC 5260 6: :index n [:last] picks one occurrence of a header field. */
  private indexed<T>(n: Node, values: T[]): T[] {
    const index = n.tags['index'];
    if (typeof index !== 'number') return values;
    const i = n.tags['last'] === true ? values.length - index : index - 1;
    const v = values[i];
    return v === undefined ? [] : [v];
  }

  private addressParts(n: Node, addresses: SieveAddress[]): string[] {
    const t = n.tags;
    const out: string[] = [];
    for (const a of addresses) {
      if (t['localpart'] === true) out.push(a.localpart);
      else if (t['domain'] === true) out.push(a.domain);
      else if (t['user'] === true) out.push(subaddress(a.localpart).user);
      else if (t['detail'] === true) {
        // RFC 5233 4: an address without a detail part does not match :detail.
        const d = subaddress(a.localpart).detail;
        if (d !== null) out.push(d);
      } else out.push(a.all);
    }
    return out;
  }

  private match(n: Node, values: string[], keys: string[]): boolean {
    const t = n.tags;
    const type: MatchType = t['regex'] === true ? 'regex' : t['matches'] === true ? 'matches' : t['contains'] === true ? 'contains' : typeof t['value'] === 'string' ? 'value' : typeof t['count'] === 'string' ? 'count' : 'is';
    const rel = typeof t['value'] === 'string' ? t['value'] : typeof t['count'] === 'string' ? t['count'] : 'eq';
    const relation = this.str(rel).toLowerCase() as Relation;
    const comparator = typeof t['comparator'] === 'string' ? this.str(t['comparator']) : 'i;ascii-casemap';
    const m: Matcher = { type, comparator, relation };
    if (type === 'count') return matchCount(m, values.length, keys);
    for (const v of values) {
      for (const k of keys) {
        let r;
        try {
          r = matchOne(m, v, k);
        } catch (err) {
          throw new SieveRuntimeError((err as Error).message, n.pos);
        }
        if (r.matched) {
          if (r.captures && this.variablesOn) this.vars.setMatches(r.captures);
          return true;
        }
      }
    }
    return false;
  }
}
