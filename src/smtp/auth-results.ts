// SPF (RFC 7208), DKIM (RFC 6376), DMARC (RFC 7489) and ARC (RFC 8617) verification
// of inbound mail through mailauth, producing the Authentication-Results (RFC 8601)
// and Received-SPF (RFC 7208 9.1) headers. mailauth is CommonJS without typings: this
// file is its only boundary, and narrows what it returns to the few fields we read.

import { createRequire } from 'node:module';
import { Resolver } from 'node:dns/promises';

export interface VerifyInput {
  raw: Buffer;
  ip: string;
  helo: string;
  /** MAIL FROM; '' for the null sender. */
  sender: string;
  /** Our authserv-id (RFC 8601 2.5): the MX host name. */
  mta: string;
}

export interface Verification {
  /** Header lines (CRLF-terminated) to prepend to the message. */
  headers: string;
  spf: string;
  dkim: string[];
  /** pct: the share of failing mail the policy applies to (RFC 7489 6.3), 100 when absent. */
  dmarc: { result: string; policy: string | null; domain: string | null; pct: number } | null;
}

type DnsLookup = (name: string, rrtype: string) => Promise<unknown>;

interface MailauthResult {
  headers?: unknown;
  spf?: { status?: { result?: unknown } } | false;
  dkim?: { results?: Array<{ status?: { result?: unknown } }> };
  dmarc?: { status?: { result?: unknown }; policy?: unknown; domain?: unknown; pct?: unknown } | false;
}

type Authenticate = (input: Buffer, opts: Record<string, unknown>) => Promise<unknown>;

const require = createRequire(import.meta.url);
const mailauth = require('mailauth') as { authenticate: Authenticate };

/** A DNS lookup function over the configured servers ("ip" or "ip:port"), or the system's. */
export function dnsLookup(servers: string[]): DnsLookup {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  // "ip" or "ip:port" ("[v6]:port"), as dns.setServers takes them.
  if (servers.length > 0) resolver.setServers(servers);
  return (name, rrtype) => resolver.resolve(name, rrtype);
}

export async function verifyInbound(input: VerifyInput, lookup: DnsLookup): Promise<Verification> {
  const res = (await mailauth.authenticate(input.raw, {
    ip: input.ip,
    helo: input.helo,
    sender: input.sender,
    mta: input.mta,
    resolver: lookup,
    disableBimi: true,
  })) as MailauthResult;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const headers = typeof res.headers === 'string' ? res.headers : '';
  return {
    headers: headers.endsWith('\r\n') ? headers : `${headers}\r\n`,
    spf: (res.spf && str(res.spf.status?.result)) || 'none',
    dkim: (res.dkim?.results ?? []).map((r) => str(r.status?.result) ?? 'none'),
    dmarc: res.dmarc
      ? {
          result: str(res.dmarc.status?.result) ?? 'none',
          policy: str(res.dmarc.policy),
          domain: str(res.dmarc.domain),
          pct: typeof res.dmarc.pct === 'number' ? res.dmarc.pct : 100,
        }
      : null,
  };
}
