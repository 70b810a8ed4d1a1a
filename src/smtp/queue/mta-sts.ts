// MTA-STS (RFC 8461): a recipient domain's published promise that its MX hosts speak
// TLS with valid certificates, and which MX hosts those are.
//
// Rules:
// - RFC 8461 3.1: the TXT record `_mta-sts.<domain>` ("v=STSv1; id=…") says a policy
//   exists and which version; more than one such record means none.
// - RFC 8461 3.3: the policy is fetched from https://mta-sts.<domain>/.well-known/mta-sts.txt
//   with a verified certificate, no redirects, a time limit and a size limit; anything
//   else than 200 is a failed fetch.
// - RFC 8461 5.1: a cached policy that has not reached its max_age applies when the TXT
//   record is gone, or a refresh fails; it is refetched only when the TXT id changes.
//   The cache is in the store, so every process and node applies the same policy.
// - RFC 8461 4.1: an mx pattern "*.example.net" matches exactly one leftmost label.
// - Policy host names are resolved with the queue's resolver ([dns] servers).

import { request } from 'node:https';
import type { LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { Store } from '../../store/store.js';
import type { MtaStsPolicy } from '../../store/types.js';
import type { MxResolver } from './mx.js';

/** RFC 8461 3.2: max_age is at most 31557600 seconds (one year). */
const MAX_MAX_AGE = 31_557_600;

export class MtaStsFetchError extends Error {}

export interface MtaStsOptions {
  store: Pick<Store, 'getMtaStsPolicy' | 'putMtaStsPolicy'>;
  resolver: MxResolver;
  /** Port of the policy host (443; another for tests or a proxy in front). */
  port: number;
  timeoutMs: number;
  maxBytes: number;
  /** Extra trusted CA certificates (PEM), beside the system's. */
  extraCa?: string;
}

export interface PolicyLookup {
  policy?: MtaStsPolicy;
  /** Why a policy could not be found or refreshed (a cached one may still apply). */
  failure?: string;
}

/** The id of the single STSv1 TXT record (RFC 8461 3.1), or undefined when there is none or several. */
export function parseStsRecord(records: string[][]): string | undefined {
  const sts = records.map((chunks) => chunks.join('')).filter((r) => /^v=STSv1\s*(;|$)/.test(r));
  if (sts.length !== 1) return undefined;
  for (const field of sts[0]!.split(';')) {
    const m = /^\s*id=([A-Za-z0-9]{1,32})\s*$/.exec(field);
    if (m?.[1]) return m[1];
  }
  return undefined;
}

/** The policy body (RFC 8461 3.2); throws MtaStsFetchError when it is not a valid STSv1 policy. */
export function parsePolicy(text: string): { mode: MtaStsPolicy['mode']; mx: string[]; maxAge: number } {
  const fields = new Map<string, string[]>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Za-z0-9_]+):\s*(.*?)\s*$/.exec(line);
    if (m?.[1] && m[2] !== undefined) fields.set(m[1], [...(fields.get(m[1]) ?? []), m[2]]);
  }
  if (fields.get('version')?.[0] !== 'STSv1') throw new MtaStsFetchError('policy has no "version: STSv1"');
  const mode = fields.get('mode')?.[0];
  if (mode !== 'enforce' && mode !== 'testing' && mode !== 'none') throw new MtaStsFetchError(`policy mode ${JSON.stringify(mode ?? '')} is not enforce, testing or none`);
  const maxAge = Number(fields.get('max_age')?.[0]);
  if (!Number.isInteger(maxAge) || maxAge < 0) throw new MtaStsFetchError('policy max_age is not a number of seconds');
  const mx = (fields.get('mx') ?? []).map((p) => p.toLowerCase().replace(/\.$/, ''));
  if (mode !== 'none' && mx.length === 0) throw new MtaStsFetchError('policy lists no mx');
  return { mode, mx, maxAge: Math.min(maxAge, MAX_MAX_AGE) };
}

/** RFC 8461 4.1: does the MX host name match one of the policy's patterns? */
export function mxMatches(patterns: string[], host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return patterns.some((p) => {
    if (!p.startsWith('*.')) return p === name;
    const dot = name.indexOf('.');
    return dot > 0 && name.slice(dot + 1) === p.slice(2);
  });
}

function resolverLookup(resolver: MxResolver): LookupFunction {
  return (hostname, options, callback) => {
    void (async () => {
      const v4 = await resolver.resolve4(hostname).catch(() => [] as string[]);
      const v6 = v4.length > 0 ? [] : await resolver.resolve6(hostname).catch(() => [] as string[]);
      const all = [...v4.map((address) => ({ address, family: 4 })), ...v6.map((address) => ({ address, family: 6 }))];
      if (all.length === 0) {
        callback(Object.assign(new Error(`cannot resolve ${hostname}`), { code: 'ENOTFOUND' }), '', 4);
      } else if (options.all) {
        callback(null, all);
      } else {
        callback(null, all[0]!.address, all[0]!.family);
      }
    })();
  };
}

export class MtaStsPolicies {
  private readonly ca: string[] | undefined;

  constructor(private readonly o: MtaStsOptions) {
    this.ca = o.extraCa ? [...rootCertificates, o.extraCa] : undefined;
  }

  /** The policy that applies to `domain` (an A-label) now, if any. */
  async lookup(domain: string): Promise<PolicyLookup> {
    const cached = await this.o.store.getMtaStsPolicy(domain);
    const valid = cached && cached.expiresAt.getTime() > Date.now() ? cached : undefined;
    let id: string | undefined;
    try {
      id = parseStsRecord(await this.o.resolver.resolveTxt(`_mta-sts.${domain}`));
    } catch {
      id = undefined;
    }
    if (id === undefined) return valid ? { policy: valid } : {};
    if (valid && valid.id === id) return { policy: valid };
    try {
      const body = await this.fetchPolicy(domain);
      const parsed = parsePolicy(body);
      const fetchedAt = new Date();
      const policy: MtaStsPolicy = { domain, id, ...parsed, fetchedAt, expiresAt: new Date(fetchedAt.getTime() + parsed.maxAge * 1000) };
      await this.o.store.putMtaStsPolicy(policy);
      return { policy };
    } catch (err) {
      const failure = `MTA-STS policy of ${domain} could not be fetched: ${err instanceof Error ? err.message : String(err)}`;
      return valid ? { policy: valid, failure } : { failure };
    }
  }

  private fetchPolicy(domain: string): Promise<string> {
    const host = `mta-sts.${domain}`;
    return new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host,
          servername: host,
          port: this.o.port,
          path: '/.well-known/mta-sts.txt',
          method: 'GET',
          headers: { accept: 'text/plain' },
          lookup: resolverLookup(this.o.resolver),
          rejectUnauthorized: true,
          ...(this.ca ? { ca: this.ca } : {}),
          timeout: this.o.timeoutMs,
          agent: false,
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            return reject(new MtaStsFetchError(`HTTP ${res.statusCode ?? '?'} from ${host}`));
          }
          const type = res.headers['content-type'] ?? '';
          if (!/^text\/plain\b/i.test(type)) {
            res.resume();
            return reject(new MtaStsFetchError(`${host} served ${JSON.stringify(type)}, not text/plain`));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > this.o.maxBytes) {
              req.destroy(new MtaStsFetchError(`policy larger than ${this.o.maxBytes} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
        },
      );
      // One deadline for the whole fetch, not only for socket inactivity.
      const deadline = setTimeout(() => req.destroy(new MtaStsFetchError(`no policy from ${host} within ${this.o.timeoutMs} ms`)), this.o.timeoutMs);
      req.on('timeout', () => req.destroy(new MtaStsFetchError(`no policy from ${host} within ${this.o.timeoutMs} ms`)));
      req.on('error', reject);
      req.on('close', () => clearTimeout(deadline));
      req.end();
    });
  }
}
