// The MTA-STS policy cache (RFC 8461 3.3, 5.1): one row per recipient domain, replaced
// whenever a newer policy is fetched.

import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { MtaStsPolicy } from '../types.js';

export async function getPolicy(db: Kysely<Database>, domain: string): Promise<MtaStsPolicy | undefined> {
  const row = await db.selectFrom('mta_sts_policies').selectAll().where('domain', '=', domain).executeTakeFirst();
  if (!row) return undefined;
  const mx: unknown = JSON.parse(row.mx);
  return {
    domain: row.domain,
    id: row.policy_id,
    mode: row.mode === 'enforce' || row.mode === 'testing' ? row.mode : 'none',
    mx: Array.isArray(mx) ? mx.filter((x): x is string => typeof x === 'string') : [],
    maxAge: Number(row.max_age),
    fetchedAt: new Date(Number(row.fetched_at)),
    expiresAt: new Date(Number(row.expires_at)),
  };
}

export async function putPolicy(tx: Kysely<Database>, p: MtaStsPolicy): Promise<void> {
  const values = { policy_id: p.id, mode: p.mode, mx: JSON.stringify(p.mx), max_age: p.maxAge, fetched_at: p.fetchedAt.getTime(), expires_at: p.expiresAt.getTime() };
  await tx
    .insertInto('mta_sts_policies')
    .values({ domain: p.domain, ...values })
    .onConflict((oc) => oc.column('domain').doUpdateSet(values))
    .execute();
}
