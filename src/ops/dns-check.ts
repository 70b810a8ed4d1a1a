// What DNS says now about a domain's expected records (./dns-records.ts), asked of the
// configured [dns] servers (the system's when none). Every record is looked up on its
// own; one failing lookup is that record's 'error', never the whole check's.

import { Resolver } from 'node:dns/promises';
import type { ListenAddress } from '../config/index.js';
import { formatAddress } from '../config/index.js';
import type { ExpectedRecord } from './dns-records.js';

export type RecordState = 'ok' | 'missing' | 'different' | 'error';

export interface CheckedRecord extends ExpectedRecord {
  state: RecordState;
  /** What DNS holds for the name and type (normalised like `value`). */
  found: string[];
  error?: string;
}

const ABSENT = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN']);

function lower(s: string): string {
  return s.toLowerCase().replace(/\.$/, '');
}

async function lookup(resolver: Resolver, r: ExpectedRecord): Promise<string[]> {
  switch (r.type) {
    case 'MX':
      return (await resolver.resolveMx(r.name)).map((m) => `${m.priority} ${lower(m.exchange)}`);
    case 'TXT':
      return (await resolver.resolveTxt(r.name)).map((parts) => parts.join(''));
    case 'SRV':
      return (await resolver.resolveSrv(r.name)).map((s) => `${s.priority} ${s.weight} ${s.port} ${s.name === '' || s.name === '.' ? '.' : lower(s.name)}`);
    case 'CNAME':
      return (await resolver.resolveCname(r.name)).map(lower);
  }
}

function judge(r: ExpectedRecord, found: string[]): RecordState {
  if (found.length === 0) return 'missing';
  if (r.check.kind === 'prefix') {
    const match = r.check.match.toLowerCase();
    const relevant = found.filter((f) => f.toLowerCase().startsWith(match));
    if (relevant.length === 0) return 'missing';
    return relevant.some((f) => f === r.value) || relevant.length === 1 ? 'ok' : 'different';
  }
  if (r.type === 'MX') {
    // Another preference for this host is fine; what matters is that the host is listed.
    const host = r.value.split(' ')[1] ?? '';
    return found.some((f) => f.split(' ')[1] === host) ? 'ok' : 'different';
  }
  return found.includes(r.type === 'CNAME' ? lower(r.value) : r.value) ? 'ok' : 'different';
}

export async function checkRecords(records: ExpectedRecord[], options: { servers: ListenAddress[]; timeoutMs: number }): Promise<CheckedRecord[]> {
  const resolver = new Resolver({ timeout: options.timeoutMs, tries: 1 });
  if (options.servers.length > 0) resolver.setServers(options.servers.map(formatAddress));
  return Promise.all(
    records.map(async (r): Promise<CheckedRecord> => {
      try {
        const found = await lookup(resolver, r);
        return { ...r, state: judge(r, found), found };
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && ABSENT.has(code)) return { ...r, state: 'missing', found: [] };
        return { ...r, state: 'error', found: [], error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
}
