// The webmail's filters as Sieve (RFC 5228 with fileinto, copy, imap4flags, reject,
// vacation, date and relational): MailFilters → script text, and back.
//
// Rules:
// - Pure: no store, no I/O. The routes (./filters.ts) validate the input against the
//   account (folders, limits) and compile the result with the real Sieve compiler.
// - Round trip: the script's first line is a comment holding the form as JSON. Reading
//   back regenerates the script from that JSON; when the text differs, another client
//   changed the script and the form is reported as modified elsewhere.
// - Every user string goes into a quoted string with `\` and `"` escaped; the
//   "variables" extension is never required, so `${…}` stays literal text.

import type { FilterAction, FilterCondition, FilterRule, ForwardingSettings, MailFilters, VacationSettings } from './types.js';

export const WEBMAIL_SCRIPT_NAME = 'webmail';
const MARKER = '# steadymail-webmail-filters v1 ';

export const EMPTY_VACATION: VacationSettings = { enabled: false, subject: '', body: '', days: 7, addresses: [], start: null, end: null };
export const EMPTY_FORWARDING: ForwardingSettings = { enabled: false, address: '', keepCopy: true };

/** RFC 5228 2.4.2: a quoted string; CR LF stays as it is (allowed inside quotes). */
export function sieveString(s: string): string {
  return `"${s.replace(/\r?\n/g, '\r\n').replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function condition(c: FilterCondition): string {
  if (c.field === 'size') return `size :${c.comparison} ${Math.round(c.kilobytes)}K`;
  const headers = c.field === 'from' ? '"from"' : c.field === 'to' ? '["to", "cc"]' : c.field === 'subject' ? '"subject"' : sieveString(c.header ?? '');
  return `header :${c.match} ${headers} ${sieveString(c.value)}`;
}

/** Flag actions first: imap4flags flags apply to the fileinto/keep that follow them. */
function orderActions(actions: FilterAction[]): FilterAction[] {
  const rank = (a: FilterAction): number => (a.kind === 'mark-read' || a.kind === 'flag' ? 0 : 1);
  return [...actions].sort((a, b) => rank(a) - rank(b));
}

function action(a: FilterAction): string {
  switch (a.kind) {
    case 'move':
      return `fileinto ${sieveString(a.folder)};`;
    case 'copy':
      return `fileinto :copy ${sieveString(a.folder)};`;
    case 'mark-read':
      return 'addflag "\\\\Seen";';
    case 'flag':
      return 'addflag "\\\\Flagged";';
    case 'forward':
      return a.keepCopy ? `redirect :copy ${sieveString(a.address)};` : `redirect ${sieveString(a.address)};`;
    case 'discard':
      return 'discard;';
    case 'reject':
      return `reject ${sieveString(a.reason)};`;
  }
}

function requirements(f: MailFilters): string[] {
  const need = new Set<string>();
  for (const r of f.rules) {
    if (!r.enabled) continue;
    if (r.conditions.some((c) => c.field !== 'size' && c.match === 'regex')) need.add('regex');
    for (const a of r.actions) {
      if (a.kind === 'move') need.add('fileinto');
      if (a.kind === 'copy') ['fileinto', 'copy'].forEach((c) => need.add(c));
      if (a.kind === 'mark-read' || a.kind === 'flag') need.add('imap4flags');
      if (a.kind === 'forward' && a.keepCopy) need.add('copy');
      if (a.kind === 'reject') need.add('reject');
    }
  }
  if (f.vacation.enabled) {
    need.add('vacation');
    if (f.vacation.start || f.vacation.end) ['date', 'relational'].forEach((c) => need.add(c));
  }
  if (f.forwarding.enabled && f.forwarding.keepCopy) need.add('copy');
  return [...need].sort();
}

function vacation(v: VacationSettings): string[] {
  const args = [`:days ${v.days}`];
  if (v.subject) args.push(`:subject ${sieveString(v.subject)}`);
  if (v.addresses.length > 0) args.push(`:addresses [${v.addresses.map(sieveString).join(', ')}]`);
  const command = `vacation ${args.join(' ')} ${sieveString(v.body)};`;
  const bounds: string[] = [];
  if (v.start) bounds.push(`currentdate :value "ge" "date" ${sieveString(v.start)}`);
  if (v.end) bounds.push(`currentdate :value "le" "date" ${sieveString(v.end)}`);
  if (bounds.length === 0) return [command];
  const test = bounds.length === 1 ? bounds[0]! : `allof (${bounds.join(', ')})`;
  return [`if ${test} {`, `  ${command}`, '}'];
}

function ruleTest(r: FilterRule): string {
  const tests = r.conditions.map(condition);
  return tests.length === 0 ? 'true' : tests.length === 1 ? tests[0]! : `${r.match === 'all' ? 'allof' : 'anyof'} (${tests.join(', ')})`;
}

function rule(r: FilterRule): string[] {
  const test = ruleTest(r);
  const body = orderActions(r.actions).map(action);
  if (r.stop) body.push('stop;');
  // The name goes into a comment: line breaks would end it, so they are replaced.
  return [`# rule: ${r.name.replace(/[\r\n]+/g, ' ')}`, `if ${test} {`, ...body.map((l) => `  ${l}`), '}'];
}

/**
 * The script for the form. Order: vacation (answers whatever the rules do), then
 * forwarding (applies to every message), then the rules in their order. Mail that a
 * discard or reject rule matches is neither answered nor forwarded: RFC 5429 2.1 makes
 * reject and vacation incompatible, and nobody wants discarded mail forwarded.
 */
export function generateScript(f: MailFilters): string {
  const lines = [MARKER + JSON.stringify(f), '# Generated by Steadymail Webmail (Settings → Filters): edit it there. A change made here is shown there as read-only until the next save replaces it.'];
  const req = requirements(f);
  if (req.length > 0) lines.push(`require [${req.map((r) => `"${r}"`).join(', ')}];`);
  const everyMessage: string[] = [];
  if (f.vacation.enabled) everyMessage.push('', '# vacation reply', ...vacation(f.vacation));
  if (f.forwarding.enabled) everyMessage.push('', '# forwarding', f.forwarding.keepCopy ? `redirect :copy ${sieveString(f.forwarding.address)};` : `redirect ${sieveString(f.forwarding.address)};`);
  const dropping = f.rules.filter((r) => r.enabled && r.actions.some((a) => a.kind === 'discard' || a.kind === 'reject')).map(ruleTest);
  if (everyMessage.length > 0 && dropping.length > 0) {
    lines.push('', '# not for mail a discard or reject rule below drops', `if not anyof (${dropping.join(', ')}) {`, ...everyMessage.filter((l) => l !== '').map((l) => `  ${l}`), '}');
  } else lines.push(...everyMessage);
  for (const r of f.rules) if (r.enabled) lines.push('', ...rule(r));
  return lines.join('\r\n') + '\r\n';
}

/**
 * The form a stored webmail script was generated from; `modified` when its text is not
 * what that form generates (another client edited it). null when it holds no form.
 */
export function readScript(content: string): { filters: MailFilters; modified: boolean } | null {
  const first = content.split(/\r?\n/, 1)[0] ?? '';
  if (!first.startsWith(MARKER)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(first.slice(MARKER.length));
  } catch {
    return null;
  }
  const filters = coerceFilters(parsed);
  if (!filters) return null;
  return { filters, modified: generateScript(filters) !== content };
}

/** A structurally valid MailFilters from stored JSON (the values are checked again on save). */
function coerceFilters(v: unknown): MailFilters | null {
  if (v === null || typeof v !== 'object') return null;
  const o = v as Partial<MailFilters>;
  if (!Array.isArray(o.rules) || typeof o.vacation !== 'object' || o.vacation === null || typeof o.forwarding !== 'object' || o.forwarding === null) return null;
  return { rules: o.rules, vacation: { ...EMPTY_VACATION, ...o.vacation }, forwarding: { ...EMPTY_FORWARDING, ...o.forwarding } };
}
