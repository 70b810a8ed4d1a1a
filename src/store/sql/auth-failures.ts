// Failed-login counters: one row per key (`ip:…`, `login:…`), counting within a
// window that starts at the first failure. Shared through the store so every worker
// process and farm node sees the same counts.

import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export async function recordFailures(tx: Kysely<Database>, keys: string[], windowMs: number, now: number): Promise<number[]> {
  const expired = now - windowMs;
  const counts: number[] = [];
  for (const key of keys) {
    const row = await tx
      .insertInto('auth_failures')
      .values({ key, count: 1, first_at: now })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => ({
          count: eb.case().when('auth_failures.first_at', '<', expired).then(1).else(eb('auth_failures.count', '+', 1)).end(),
          first_at: eb.case().when('auth_failures.first_at', '<', expired).then(now).else(eb.ref('auth_failures.first_at')).end(),
        })),
      )
      .returning('count')
      .executeTakeFirstOrThrow();
    counts.push(Number(row.count));
  }
  return counts;
}

export async function countFailures(db: Kysely<Database>, keys: string[], windowMs: number, now: number): Promise<number[]> {
  if (keys.length === 0) return [];
  const rows = await db
    .selectFrom('auth_failures')
    .select(['key', 'count'])
    .where('key', 'in', keys)
    .where('first_at', '>=', now - windowMs)
    .execute();
  const byKey = new Map(rows.map((r) => [r.key, Number(r.count)]));
  return keys.map((k) => byKey.get(k) ?? 0);
}

export async function clearFailures(tx: Kysely<Database>, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await tx.deleteFrom('auth_failures').where('key', 'in', keys).execute();
}

export async function pruneFailures(tx: Kysely<Database>, windowMs: number, now: number): Promise<number> {
  const res = await tx.deleteFrom('auth_failures').where('first_at', '<', now - windowMs).executeTakeFirst();
  return Number(res.numDeletedRows);
}
