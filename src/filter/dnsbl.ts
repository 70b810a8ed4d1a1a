// DNS block lists: DNSBL of the client IP (RFC 5782 2.1, reversed octets / nibbles)
// and RHSBL of domains (RFC 5782 2.2), queried through the [dns] resolvers.
//
// Rules:
// - Listed means an A record in 127.0.0.0/8 (RFC 5782 2.3), except 127.255.255.0/24,
//   which lists such as Spamhaus use for "you may not query" errors: not a listing.
// - A timeout or a server failure is "not listed": a broken list never blocks mail.

import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface WeightedZone {
  zone: string;
  weight: number;
}

export interface ListHit {
  zone: string;
  /** What was looked up: an IP or a domain. */
  subject: string;
  weight: number;
  /** The A record(s) returned, e.g. 127.0.0.2. */
  codes: string[];
}

export type LookupA = (name: string) => Promise<string[]>;

/** A resolver over "ip" / "ip:port" servers (the system's when empty) with a timeout. */
export function resolverA(servers: string[], timeoutMs: number): LookupA {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  if (servers.length > 0) resolver.setServers(servers);
  return (name) => resolver.resolve4(name);
}

/** The DNSBL query label for an IP: 2.0.0.192 for 192.0.2.0, 32 nibbles for IPv6. */
export function reverseIp(ip: string): string | null {
  const a = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  if (isIP(a) === 4) return a.split('.').reverse().join('.');
  if (isIP(a) !== 6) return null;
  return expandIpv6(a).split('').reverse().join('.');
}

/** The 32 hex digits of an IPv6 address. */
export function expandIpv6(ip: string): string {
  let text = ip;
  // An embedded IPv4 tail (::ffff:1.2.3.4 style) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const o = v4[1].split('.').map(Number);
    text = text.slice(0, -v4[1].length) + `${(((o[0] ?? 0) << 8) | (o[1] ?? 0)).toString(16)}:${(((o[2] ?? 0) << 8) | (o[3] ?? 0)).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join('');
}

function isListing(code: string): boolean {
  return code.startsWith('127.') && !code.startsWith('127.255.255.');
}

async function query(lookup: LookupA, name: string): Promise<string[]> {
  try {
    return (await lookup(name)).filter(isListing);
  } catch {
    return [];
  }
}

/** Looks the IP up in every DNSBL and the domains in every RHSBL, all at once. */
export async function checkLists(lookup: LookupA, ip: string, domains: string[], ipLists: WeightedZone[], domainLists: WeightedZone[]): Promise<ListHit[]> {
  const jobs: Array<Promise<ListHit | null>> = [];
  const rev = reverseIp(ip);
  if (rev !== null) {
    for (const l of ipLists) jobs.push(query(lookup, `${rev}.${l.zone}`).then((codes) => (codes.length > 0 ? { zone: l.zone, subject: ip, weight: l.weight, codes } : null)));
  }
  const names = [...new Set(domains.map((d) => d.toLowerCase().replace(/\.$/, '')).filter((d) => /^[a-z0-9.-]+\.[a-z0-9-]+$/.test(d)))];
  for (const d of names) {
    for (const l of domainLists) jobs.push(query(lookup, `${d}.${l.zone}`).then((codes) => (codes.length > 0 ? { zone: l.zone, subject: d, weight: l.weight, codes } : null)));
  }
  return (await Promise.all(jobs)).filter((h): h is ListHit => h !== null);
}
