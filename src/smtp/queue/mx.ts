// Where mail for a domain goes (RFC 5321 5.1): the MX hosts in preference order, or the
// domain itself when it has no MX (the implicit MX), each with its addresses.
//
// Rules:
// - Domains are looked up as A-labels (RFC 5890): an IDN is converted to punycode.
// - A null MX (RFC 7505: one MX record, preference 0, exchange ".") means the domain
//   accepts no mail: a permanent failure with 5.1.10, no retry.
// - NXDOMAIN is permanent (5.1.2); SERVFAIL and timeouts are temporary (4.4.3).
// - Hosts of equal preference are tried in random order (RFC 5321 5.1).

import { Resolver } from 'node:dns/promises';
import { domainToASCII } from 'node:url';
import { DeliveryError, permanent, temporary } from './errors.js';

export interface MxHost {
  host: string;
  preference: number;
  addresses: string[];
}

export interface MxResolver {
  resolveMx(domain: string): Promise<Array<{ exchange: string; priority: number }>>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  /** TXT records, each as its character strings (MTA-STS, RFC 8461 3.1). */
  resolveTxt(name: string): Promise<string[][]>;
}

/** A resolver using `servers` ("ip" or "ip:port"), or the system's when empty. */
export function createResolver(servers: string[]): MxResolver {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  if (servers.length > 0) resolver.setServers(servers);
  return resolver;
}

function code(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

const NO_RECORDS = new Set(['ENODATA', 'ENOTFOUND']);

export function toAscii(domain: string): string {
  const ascii = domainToASCII(domain.replace(/\.$/, ''));
  if (ascii === '') throw permanent('5.1.2', `invalid domain ${JSON.stringify(domain)}`);
  return ascii.toLowerCase();
}

async function addresses(resolver: MxResolver, host: string): Promise<string[]> {
  const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
  const out = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  if (out.length > 0) return out;
  const errs = [v4, v6].map((r) => (r.status === 'rejected' ? code(r.reason) : undefined));
  if (errs.every((c) => c !== undefined && NO_RECORDS.has(c))) return [];
  throw temporary('4.4.3', `cannot resolve ${host}: ${errs.filter(Boolean).join(', ')}`);
}

function shuffle<T>(list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j] as T, list[i] as T];
  }
  return list;
}

export async function resolveMx(resolver: MxResolver, domain: string): Promise<MxHost[]> {
  const ascii = toAscii(domain);
  let records: Array<{ exchange: string; priority: number }>;
  try {
    records = await resolver.resolveMx(ascii);
  } catch (err) {
    const c = code(err);
    if (c === 'ENOTFOUND') throw permanent('5.1.2', `domain ${ascii} does not exist`, undefined, err);
    if (c !== 'ENODATA') throw temporary('4.4.3', `MX lookup for ${ascii} failed: ${c ?? String(err)}`, undefined, err);
    records = [];
  }
  // RFC 7505 3: a null MX is a single record with an empty (root) exchange.
  if (records.some((r) => r.exchange === '' || r.exchange === '.')) {
    throw permanent('5.1.10', `${ascii} accepts no mail (null MX, RFC 7505)`);
  }
  if (records.length === 0) {
    // RFC 5321 5.1: no MX — the domain itself is the implicit MX.
    const addrs = await addresses(resolver, ascii);
    if (addrs.length === 0) throw permanent('5.1.2', `${ascii} has no MX and no address records`);
    return [{ host: ascii, preference: 0, addresses: addrs }];
  }
  const byPref = new Map<number, string[]>();
  for (const r of records) byPref.set(r.priority, [...(byPref.get(r.priority) ?? []), r.exchange.toLowerCase().replace(/\.$/, '')]);
  const hosts: MxHost[] = [];
  let lastError: DeliveryError | undefined;
  for (const pref of [...byPref.keys()].sort((a, b) => a - b)) {
    for (const host of shuffle(byPref.get(pref) ?? [])) {
      try {
        const addrs = await addresses(resolver, host);
        if (addrs.length > 0) hosts.push({ host, preference: pref, addresses: addrs });
      } catch (err) {
        if (!(err instanceof DeliveryError)) throw err;
        lastError = err;
      }
    }
  }
  if (hosts.length === 0) {
    if (lastError) throw lastError;
    throw temporary('4.4.4', `no MX host of ${ascii} has an address`);
  }
  return hosts;
}
