// What each Sieve command and test takes: its tags, positional arguments, tests
// and block, and the capability ("require") it needs. The validator checks
// scripts against this table; the interpreter relies on what it checked.

export type ArgKind = 'string' | 'strings' | 'number';

export interface TagSpec {
  /** The value that follows the tag, if any. */
  value?: ArgKind;
  /** Capability the tag needs beyond the command's own. */
  requires?: string;
  /** Tags of one group exclude each other (match type, address part, ...). */
  group?: string;
}

export interface Spec {
  kind: 'command' | 'test';
  requires?: string;
  tags: Record<string, TagSpec>;
  /** Accepted positional argument lists (one of them must fit). */
  positional: ArgKind[][];
  tests: 'none' | 'one' | 'list';
  block: boolean;
}

/** Every capability this implementation supports (ManageSieve's SIEVE line). */
export const CAPABILITIES = [
  'fileinto',
  'reject',
  'ereject',
  'envelope',
  'imap4flags',
  'copy',
  'body',
  'variables',
  'vacation',
  'relational',
  'subaddress',
  'date',
  'index',
  'regex',
  'mailbox',
  'include',
  'comparator-i;ascii-numeric',
] as const;

export const COMPARATORS: Record<string, string | undefined> = {
  'i;octet': undefined,
  'i;ascii-casemap': undefined,
  'i;ascii-numeric': 'comparator-i;ascii-numeric',
};

export const RELATIONS = ['gt', 'ge', 'lt', 'le', 'eq', 'ne'] as const;
export type Relation = (typeof RELATIONS)[number];

export const DATE_PARTS = ['year', 'month', 'day', 'date', 'julian', 'hour', 'minute', 'second', 'time', 'iso8601', 'std11', 'zone', 'weekday'] as const;
export type DatePart = (typeof DATE_PARTS)[number];

/** Comparator and match type (RFC 5228 2.7), relational (RFC 5231), regex. */
const MATCH: Record<string, TagSpec> = {
  comparator: { value: 'string', group: 'comparator' },
  is: { group: 'match' },
  contains: { group: 'match' },
  matches: { group: 'match' },
  regex: { group: 'match', requires: 'regex' },
  value: { group: 'match', value: 'string', requires: 'relational' },
  count: { group: 'match', value: 'string', requires: 'relational' },
};

/** RFC 5228 2.7.4 and RFC 5233 (subaddress). */
const ADDRESS_PART: Record<string, TagSpec> = {
  all: { group: 'address-part' },
  localpart: { group: 'address-part' },
  domain: { group: 'address-part' },
  user: { group: 'address-part', requires: 'subaddress' },
  detail: { group: 'address-part', requires: 'subaddress' },
};

/** RFC 5260 6: :index n [:last]. */
const INDEX: Record<string, TagSpec> = {
  index: { value: 'number', requires: 'index' },
  last: { requires: 'index' },
};

const ZONE: Record<string, TagSpec> = {
  zone: { value: 'string', group: 'zone' },
  originalzone: { group: 'zone' },
};

const cmd = (s: Partial<Spec>): Spec => ({ kind: 'command', tags: {}, positional: [[]], tests: 'none', block: false, ...s });
const test = (s: Partial<Spec>): Spec => ({ kind: 'test', tags: {}, positional: [[]], tests: 'none', block: false, ...s });

const FLAGS_TAG: Record<string, TagSpec> = { flags: { value: 'strings', requires: 'imap4flags' } };

export const SPECS: Record<string, Spec> = {
  // RFC 5228 3 (control) and 4 (actions)
  require: cmd({ positional: [['strings']] }),
  if: cmd({ tests: 'one', block: true }),
  elsif: cmd({ tests: 'one', block: true }),
  else: cmd({ block: true }),
  stop: cmd({}),
  keep: cmd({ tags: { ...FLAGS_TAG } }),
  discard: cmd({}),
  redirect: cmd({ positional: [['string']], tags: { copy: { requires: 'copy' } } }),
  fileinto: cmd({
    requires: 'fileinto',
    positional: [['string']],
    tags: { copy: { requires: 'copy' }, create: { requires: 'mailbox' }, ...FLAGS_TAG },
  }),
  // RFC 5429
  reject: cmd({ requires: 'reject', positional: [['string']] }),
  ereject: cmd({ requires: 'ereject', positional: [['string']] }),
  // RFC 5230
  vacation: cmd({
    requires: 'vacation',
    positional: [['string']],
    tags: {
      days: { value: 'number' },
      subject: { value: 'string' },
      from: { value: 'string' },
      addresses: { value: 'strings' },
      mime: {},
      handle: { value: 'string' },
    },
  }),
  // RFC 5232
  setflag: cmd({ requires: 'imap4flags', positional: [['strings'], ['string', 'strings']] }),
  addflag: cmd({ requires: 'imap4flags', positional: [['strings'], ['string', 'strings']] }),
  removeflag: cmd({ requires: 'imap4flags', positional: [['strings'], ['string', 'strings']] }),
  // RFC 5229
  set: cmd({
    requires: 'variables',
    positional: [['string', 'string']],
    tags: {
      lower: { group: 'case' },
      upper: { group: 'case' },
      lowerfirst: { group: 'first' },
      upperfirst: { group: 'first' },
      quotewildcard: {},
      length: {},
    },
  }),
  // RFC 6609
  include: cmd({
    requires: 'include',
    positional: [['string']],
    tags: { personal: { group: 'location' }, global: { group: 'location' }, once: {}, optional: {} },
  }),
  return: cmd({ requires: 'include' }),

  // Tests: RFC 5228 5
  address: test({ positional: [['strings', 'strings']], tags: { ...MATCH, ...ADDRESS_PART, ...INDEX } }),
  envelope: test({ requires: 'envelope', positional: [['strings', 'strings']], tags: { ...MATCH, ...ADDRESS_PART } }),
  header: test({ positional: [['strings', 'strings']], tags: { ...MATCH, ...INDEX } }),
  exists: test({ positional: [['strings']] }),
  size: test({ positional: [['number']], tags: { over: { group: 'size' }, under: { group: 'size' } } }),
  not: test({ tests: 'one' }),
  anyof: test({ tests: 'list' }),
  allof: test({ tests: 'list' }),
  true: test({}),
  false: test({}),
  // RFC 5173
  body: test({
    requires: 'body',
    positional: [['strings']],
    tags: { ...MATCH, raw: { group: 'transform' }, content: { group: 'transform', value: 'strings' }, text: { group: 'transform' } },
  }),
  // RFC 5232
  hasflag: test({ requires: 'imap4flags', positional: [['strings'], ['strings', 'strings']], tags: { ...MATCH } }),
  // RFC 5229
  string: test({ requires: 'variables', positional: [['strings', 'strings']], tags: { ...MATCH } }),
  // RFC 5260
  date: test({ requires: 'date', positional: [['string', 'string', 'strings']], tags: { ...MATCH, ...ZONE, ...INDEX } }),
  currentdate: test({ requires: 'date', positional: [['string', 'strings']], tags: { ...MATCH, zone: { value: 'string' } } }),
  // RFC 5490
  mailboxexists: test({ requires: 'mailbox', positional: [['strings']] }),
};
