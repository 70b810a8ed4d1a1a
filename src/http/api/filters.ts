// Settings → Filters: rules, vacation reply and forwarding, kept as the account's Sieve
// script named "webmail" (./filters-sieve.ts) beside the scripts of ManageSieve clients.
//
// Rules:
// - The generated script is compiled by the same compiler as ManageSieve's PUTSCRIPT
//   before it is stored; a refusal is a 400 with its line and column.
// - A script of another client is never changed or removed here. When one is active, the
//   webmail's script is saved inactive unless the user asks to switch (activate: true).
// - Limits are Sieve's own: sieve.max_script_bytes, sieve.max_scripts, sieve.max_actions,
//   sieve.max_redirects, sieve.vacation_min_days / vacation_max_days.

import type { FastifyInstance } from 'fastify';
import { SieveError } from '../../sieve/errors.js';
import { compileScript } from '../../sieve/validator.js';
import { ApiFailure, body, invalid, type ApiContext } from './common.js';
import { parseRecipient } from './compose.js';
import { EMPTY_FORWARDING, EMPTY_VACATION, WEBMAIL_SCRIPT_NAME, generateScript, readScript } from './filters-sieve.js';
import { auth } from './session.js';
import type { FilterAction, FilterCondition, FilterRule, FiltersState, ForwardingSettings, MailFilters, SieveErrorResponse, VacationSettings } from './types.js';

const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
/** RFC 5322 field name. */
const FIELD_NAME = /^[!-9;-~]{1,76}$/;
const MAX_TEXT = 1000;

/** A form value that is not acceptable; its message is a sentence for the user. */
export class FilterInvalid extends Error {}

/** The script cannot be stored: too large (413) or one script too many (400). */
export class FilterRefused extends Error {
  constructor(
    readonly status: 400 | 413,
    readonly code: 'too-large' | 'invalid-request',
    message: string,
  ) {
    super(message);
    this.name = 'FilterRefused';
  }
}

const fail = (message: string): never => {
  throw new FilterInvalid(message);
};

function str(v: unknown, what: string, max = MAX_TEXT): string {
  if (typeof v !== 'string' || v.length > max) fail(`${what} must be a string of at most ${max} characters`);
  return v as string;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') fail(`${what} must be true or false`);
  return v as boolean;
}

function address(v: unknown, what: string): string {
  try {
    return parseRecipient(str(v, what, 500).trim(), what).address;
  } catch {
    return fail(`${what}: not one e-mail address`);
  }
}

export interface FilterLimits {
  folders: ReadonlySet<string>;
  maxActions: number;
  maxRedirects: number;
  vacationMinDays: number;
  vacationMaxDays: number;
}

function conditionOf(v: unknown, what: string): FilterCondition {
  if (v === null || typeof v !== 'object') return fail(`${what} must be an object`);
  const c = v as Record<string, unknown>;
  if (c['field'] === 'size') {
    const kb = c['kilobytes'];
    if (c['comparison'] !== 'over' && c['comparison'] !== 'under') fail(`${what}: comparison must be over or under`);
    if (typeof kb !== 'number' || !Number.isInteger(kb) || kb < 0 || kb > 4_000_000) fail(`${what}: kilobytes must be a whole number from 0 to 4000000`);
    return { field: 'size', comparison: c['comparison'] as 'over' | 'under', kilobytes: kb as number };
  }
  const field = c['field'];
  if (field !== 'from' && field !== 'to' && field !== 'subject' && field !== 'header') return fail(`${what}: field must be from, to, subject, header or size`);
  const match = c['match'];
  if (match !== 'contains' && match !== 'is' && match !== 'matches' && match !== 'regex') return fail(`${what}: match must be contains, is, matches or regex`);
  const value = str(c['value'], `${what}: value`);
  if (field === 'header') {
    const header = str(c['header'], `${what}: header`, 76).trim();
    if (!FIELD_NAME.test(header)) fail(`${what}: "${header}" is not a header field name`);
    return { field, header, match, value };
  }
  return { field, match, value };
}

function actionOf(v: unknown, what: string, limits: FilterLimits): FilterAction {
  if (v === null || typeof v !== 'object') return fail(`${what} must be an object`);
  const a = v as Record<string, unknown>;
  switch (a['kind']) {
    case 'move':
    case 'copy': {
      const folder = str(a['folder'], `${what}: folder`, 1000);
      if (!limits.folders.has(folder)) fail(`${what}: there is no folder "${folder}"`);
      return { kind: a['kind'], folder };
    }
    case 'mark-read':
    case 'flag':
    case 'discard':
      return { kind: a['kind'] };
    case 'forward':
      return { kind: 'forward', address: address(a['address'], `${what}: address`), keepCopy: bool(a['keepCopy'], `${what}: keepCopy`) };
    case 'reject':
      return { kind: 'reject', reason: str(a['reason'], `${what}: reason`).trim() || 'This message was refused.' };
    default:
      return fail(`${what}: kind must be move, copy, mark-read, flag, forward, discard or reject`);
  }
}

function ruleOf(v: unknown, i: number, limits: FilterLimits, forwarding: number): FilterRule {
  const what = `rule ${i + 1}`;
  if (v === null || typeof v !== 'object') return fail(`${what} must be an object`);
  const r = v as Record<string, unknown>;
  const match = r['match'];
  if (match !== 'all' && match !== 'any') return fail(`${what}: match must be all or any`);
  if (!Array.isArray(r['conditions']) || !Array.isArray(r['actions'])) return fail(`${what}: conditions and actions must be arrays`);
  const conditions = r['conditions'].map((c, j) => conditionOf(c, `${what}, condition ${j + 1}`));
  const actions = r['actions'].map((a, j) => actionOf(a, `${what}, action ${j + 1}`, limits));
  if (actions.length === 0) fail(`${what}: needs at least one action`);
  if (actions.length > limits.maxActions) fail(`${what}: at most ${limits.maxActions} actions (sieve.max_actions)`);
  const forwards = actions.filter((a) => a.kind === 'forward').length;
  if (forwards + forwarding > limits.maxRedirects) fail(`${what}: at most ${limits.maxRedirects} forwards per message, forwarding included (sieve.max_redirects)`);
  const ends = actions.filter((a) => a.kind === 'discard' || a.kind === 'reject');
  if (ends.length > 0 && actions.length > ends.length + actions.filter((a) => a.kind === 'mark-read' || a.kind === 'flag').length) {
    fail(`${what}: discard and reject cannot be combined with filing or forwarding`);
  }
  if (actions.some((a) => a.kind === 'reject') && actions.length > 1) fail(`${what}: reject stands alone`);
  return { name: str(r['name'] ?? '', `${what}: name`, 200).trim(), enabled: bool(r['enabled'], `${what}: enabled`), match, conditions, actions, stop: bool(r['stop'], `${what}: stop`) };
}

function vacationOf(v: unknown, limits: FilterLimits): VacationSettings {
  if (v === undefined) return EMPTY_VACATION;
  if (v === null || typeof v !== 'object') return fail('vacation must be an object');
  const o = v as Record<string, unknown>;
  const enabled = bool(o['enabled'], 'vacation.enabled');
  const days = o['days'];
  if (typeof days !== 'number' || !Number.isInteger(days) || days < limits.vacationMinDays || days > limits.vacationMaxDays) {
    fail(`vacation.days must be a whole number from ${limits.vacationMinDays} to ${limits.vacationMaxDays}`);
  }
  const date = (k: 'start' | 'end'): string | null => {
    const d = o[k];
    if (d === null || d === undefined || d === '') return null;
    if (typeof d !== 'string' || !DATE.test(d)) return fail(`vacation.${k} must be a date YYYY-MM-DD`);
    return d;
  };
  const start = date('start');
  const end = date('end');
  if (start && end && end < start) fail('vacation.end is before vacation.start');
  // eslint-disable-next-line no-control-regex
  const subject = str(o['subject'] ?? '', 'vacation.subject', 200).replace(/[\x00-\x1f\x7f]/g, ' ');
  const text = str(o['body'] ?? '', 'vacation.body', 10_000).replace(/\r\n?/g, '\n');
  if (enabled && text.trim() === '') fail('vacation.body: the reply needs a text');
  const addresses = Array.isArray(o['addresses']) ? o['addresses'] : o['addresses'] === undefined ? [] : fail('vacation.addresses must be an array');
  if (addresses.length > 20) fail('vacation.addresses: at most 20');
  return { enabled, subject, body: text, days: days as number, addresses: addresses.map((a, i) => address(a, `vacation.addresses ${i + 1}`)), start, end };
}

function forwardingOf(v: unknown): ForwardingSettings {
  if (v === undefined) return EMPTY_FORWARDING;
  if (v === null || typeof v !== 'object') return fail('forwarding must be an object');
  const o = v as Record<string, unknown>;
  const enabled = bool(o['enabled'], 'forwarding.enabled');
  const keepCopy = bool(o['keepCopy'], 'forwarding.keepCopy');
  const raw = str(o['address'] ?? '', 'forwarding.address', 500).trim();
  if (!enabled && raw === '') return { enabled, address: '', keepCopy };
  return { enabled, address: address(raw, 'forwarding.address'), keepCopy };
}

/** Checks and normalises the form; throws FilterInvalid with a sentence for the user. */
export function filtersOf(input: Record<string, unknown>, limits: FilterLimits): MailFilters {
  const forwarding = forwardingOf(input['forwarding']);
  const vacation = vacationOf(input['vacation'], limits);
  if (!Array.isArray(input['rules'])) return fail('rules must be an array');
  const globalForwards = forwarding.enabled ? 1 : 0;
  if (globalForwards > limits.maxRedirects) fail('forwarding is not allowed on this server (sieve.max_redirects is 0)');
  const rules = input['rules'].map((r, i) => ruleOf(r, i, limits, globalForwards));
  return { rules, vacation, forwarding };
}

/** What reading and saving the webmail's script needs (the webmail API and the console both have it). */
export type FilterDeps = Pick<ApiContext, 'store' | 'config'>;

export async function filterLimits({ store, config }: FilterDeps, accountId: number): Promise<FilterLimits> {
  return {
    folders: new Set((await store.listMailboxes(accountId)).map((b) => b.name)),
    maxActions: config.sieve.maxActions,
    maxRedirects: config.sieve.maxRedirects,
    vacationMinDays: config.sieve.vacationMinDays,
    vacationMaxDays: config.sieve.vacationMaxDays,
  };
}

/** The form as the account's "webmail" script holds it, and the state of its scripts. */
export async function filtersState(deps: FilterDeps, accountId: number): Promise<FiltersState> {
  const { store, config } = deps;
  const own = await store.getSieveScript(accountId, WEBMAIL_SCRIPT_NAME);
  const active = await store.getActiveSieveScript(accountId);
  let read: { filters: MailFilters; modified: boolean } | null = null;
  if (own) {
    try {
      const back = readScript(own.content);
      // What the script claims is checked like input: a hand-made marker line cannot feed the form garbage.
      if (back) read = { filters: filtersOf({ ...back.filters }, { ...(await filterLimits(deps, accountId)), folders: new Set(back.filters.rules.flatMap((r) => r.actions.flatMap((a) => ('folder' in a ? [a.folder] : [])))) }), modified: back.modified };
    } catch (err) {
      if (!(err instanceof FilterInvalid)) throw err;
    }
  }
  return {
    rules: read?.filters.rules ?? [],
    vacation: read?.filters.vacation ?? { ...EMPTY_VACATION, days: config.sieve.vacationDefaultDays },
    forwarding: read?.filters.forwarding ?? EMPTY_FORWARDING,
    scriptName: WEBMAIL_SCRIPT_NAME,
    script: own?.content ?? '',
    active: own?.active ?? false,
    otherActive: active && active.name !== WEBMAIL_SCRIPT_NAME ? { name: active.name, content: active.content } : null,
    modifiedElsewhere: own !== undefined && (read === null || read.modified),
    limits: { vacationMinDays: config.sieve.vacationMinDays, vacationMaxDays: config.sieve.vacationMaxDays, maxRedirects: config.sieve.maxRedirects },
  };
}

/**
 * Generates the "webmail" script from checked filters, compiles it and stores it; it is
 * activated when asked or when no script is active. Returns the compiler's refusal (or
 * null when stored); throws FilterRefused for the size and count limits.
 */
export async function saveFilters({ store, config }: FilterDeps, accountId: number, filters: MailFilters, activate: boolean): Promise<SieveErrorResponse | null> {
  const script = generateScript(filters);
  try {
    compileScript(script);
  } catch (err) {
    if (!(err instanceof SieveError)) throw err;
    return { error: 'invalid-script', message: err.message, line: err.pos.line, column: err.pos.column, script };
  }
  const size = Buffer.byteLength(script, 'utf8');
  if (size > config.sieve.maxScriptBytes) throw new FilterRefused(413, 'too-large', `the filters make a script of ${size} bytes; the limit is ${config.sieve.maxScriptBytes} (sieve.max_script_bytes)`);
  const scripts = await store.listSieveScripts(accountId);
  if (!scripts.some((s) => s.name === WEBMAIL_SCRIPT_NAME) && scripts.length >= config.sieve.maxScripts) {
    throw new FilterRefused(400, 'invalid-request', `at most ${config.sieve.maxScripts} Sieve scripts per account (sieve.max_scripts); delete one with a Sieve client first`);
  }
  await store.putSieveScript(accountId, WEBMAIL_SCRIPT_NAME, script);
  const active = scripts.find((s) => s.active);
  if (activate || !active) await store.activateSieveScript(accountId, WEBMAIL_SCRIPT_NAME);
  return null;
}

export function filterRoutes(api: FastifyInstance, ctx: ApiContext): void {
  const { store } = ctx;
  const state = (accountId: number): Promise<FiltersState> => filtersState(ctx, accountId);

  api.get('/filters', async (request): Promise<FiltersState> => state(auth(request).account.id));

  api.put('/filters', async (request, reply): Promise<FiltersState | SieveErrorResponse> => {
    const { account } = auth(request);
    const b = body(request);
    let filters: MailFilters;
    try {
      filters = filtersOf(b, await filterLimits(ctx, account.id));
    } catch (err) {
      if (err instanceof FilterInvalid) throw invalid(err.message);
      throw err;
    }
    let refused: SieveErrorResponse | null;
    try {
      refused = await saveFilters(ctx, account.id, filters, b['activate'] === true);
    } catch (err) {
      if (err instanceof FilterRefused) throw err.status === 413 ? new ApiFailure(413, 'too-large', err.message) : invalid(err.message);
      throw err;
    }
    if (refused) return reply.code(400).send(refused);
    ctx.logger.info({ account: account.address, rules: filters.rules.length, vacation: filters.vacation.enabled, forwarding: filters.forwarding.enabled }, 'webmail filters saved');
    return state(account.id);
  });

  api.post('/filters/activate', async (request): Promise<FiltersState> => {
    const { account } = auth(request);
    if (!(await store.getSieveScript(account.id, WEBMAIL_SCRIPT_NAME))) throw new ApiFailure(404, 'not-found', 'save the filters first');
    await store.activateSieveScript(account.id, WEBMAIL_SCRIPT_NAME);
    ctx.logger.info({ account: account.address }, 'webmail filters activated');
    return state(account.id);
  });
}
