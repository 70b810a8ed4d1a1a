// RFC 5464 METADATA entries (migration 0008). Mailbox 0 holds the server entries
// (kept per account, as Dovecot does). Names are stored lowercased.

import { sql } from 'kysely';
import type { Tx } from './write-batch.js';
import type { MetadataEntry } from '../types.js';

const SERVER = 0;

/** The entries named, and (depth '1' / 'infinity') those below them. */
export async function getMetadata(tx: Tx, accountId: number, mailboxId: number | null, names: string[], depth: '0' | '1' | 'infinity'): Promise<MetadataEntry[]> {
  const box = mailboxId ?? SERVER;
  const out = new Map<string, Buffer>();
  for (const raw of names) {
    const name = raw.toLowerCase();
    const rows =
      depth === '0'
        ? await sql<{ name: string; value: Uint8Array }>`select name, value from metadata where account_id = ${accountId} and mailbox_id = ${box} and name = ${name}`.execute(tx)
        : await sql<{ name: string; value: Uint8Array }>`select name, value from metadata where account_id = ${accountId} and mailbox_id = ${box}
            and (name = ${name} or substr(name, 1, ${name.length + 1}) = ${name + '/'})`.execute(tx);
    for (const r of rows.rows) {
      const below = r.name.slice(name.length + 1);
      if (depth === '1' && r.name !== name && below.includes('/')) continue;
      out.set(r.name, Buffer.from(r.value));
    }
  }
  return [...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, value]) => ({ name, value }));
}

/** Sets (value) or removes (null) entries; false when the result would have more than maxEntries. */
export async function setMetadata(tx: Tx, accountId: number, mailboxId: number | null, entries: Array<{ name: string; value: Buffer | null }>, maxEntries: number): Promise<boolean> {
  const box = mailboxId ?? SERVER;
  for (const e of entries) {
    const name = e.name.toLowerCase();
    await sql`delete from metadata where account_id = ${accountId} and mailbox_id = ${box} and name = ${name}`.execute(tx);
    if (e.value !== null) await sql`insert into metadata (account_id, mailbox_id, name, value) values (${accountId}, ${box}, ${name}, ${e.value})`.execute(tx);
  }
  const n = await sql<{ n: number }>`select count(*) as n from metadata where account_id = ${accountId} and mailbox_id = ${box}`.execute(tx);
  // The caller's transaction (one write operation) is rolled back by throwing.
  return Number(n.rows[0]?.n ?? 0) <= maxEntries;
}

export async function deleteMailboxMetadata(tx: Tx, mailboxId: number): Promise<void> {
  await sql`delete from metadata where mailbox_id = ${mailboxId} and mailbox_id <> ${SERVER}`.execute(tx);
}

export async function deleteAccountMetadata(tx: Tx, accountId: number): Promise<void> {
  await sql`delete from metadata where account_id = ${accountId}`.execute(tx);
}
