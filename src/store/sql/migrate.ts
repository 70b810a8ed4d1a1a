// Schema migrations: numbered, each applied once in its own transaction, in
// order. Several processes may start at once: SQLite serialises them with
// BEGIN IMMEDIATE, PostgreSQL with a transaction-scoped advisory lock.

import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { StoreUnavailable } from '../errors.js';
import { migration0001 } from './migrations/0001_initial.js';
import { migration0002 } from './migrations/0002_pg_blobs.js';
import { migration0003 } from './migrations/0003_outbound_queue.js';
import { migration0004 } from './migrations/0004_webmail.js';
import { migration0005 } from './migrations/0005_sieve.js';
import { migration0006 } from './migrations/0006_filter.js';
import { migration0010 } from './migrations/0010_auth_failures.js';
import { migration0011 } from './migrations/0011_sessions.js';
import { migration0012 } from './migrations/0012_admin.js';
import { migration0013 } from './migrations/0013_mta_sts.js';
import { migration0014 } from './migrations/0014_sqlite_blobs.js';
import { migration0009 } from './migrations/0009_certificates.js';
import { migration0007 } from './migrations/0007_monitoring.js';
import { migration0008 } from './migrations/0008_imap_search.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  name: string;
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [migration0001, migration0002, migration0003, migration0004, migration0005, migration0006, migration0007, migration0008, migration0009, migration0010, migration0011, migration0012, migration0013, migration0014];
/** The newest version: numbers are assigned per feature, so the list may have gaps. */
export const SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

const PG_MIGRATION_LOCK = 0x5354_4d4c; // "STML"

export async function currentSchemaVersion(db: Kysely<Database>): Promise<number> {
  await ensureVersionTable(db);
  const row = await db.selectFrom('schema_version').select((eb) => eb.fn.max('version').as('v')).executeTakeFirst();
  return Number(row?.v ?? 0);
}

/** Applies every pending migration (up to `target`, for tests); returns the versions applied. */
export async function migrate(db: Kysely<Database>, dialect: Dialect, target = SCHEMA_VERSION): Promise<number[]> {
  const found = await currentSchemaVersion(db);
  if (found > SCHEMA_VERSION) {
    // An older release must not write into a schema it does not know (docs/upgrade.md).
    throw new StoreUnavailable(`the database schema is version ${found}, newer than this release supports (${SCHEMA_VERSION}); run a release that supports schema version ${found}`);
  }
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.version > target) break;
    const done = await db.connection().execute(async (conn) => {
      await sql.raw(dialect === 'sqlite' ? 'begin immediate' : 'begin').execute(conn);
      try {
        if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${PG_MIGRATION_LOCK})`.execute(conn);
        const row = await conn.selectFrom('schema_version').select('version').where('version', '=', m.version).executeTakeFirst();
        if (row) {
          await sql.raw('commit').execute(conn);
          return false;
        }
        await m.up(conn as unknown as Kysely<unknown>, dialect);
        await conn.insertInto('schema_version').values({ version: m.version, name: m.name, applied_at: Date.now() }).execute();
        await sql.raw('commit').execute(conn);
        return true;
      } catch (err) {
        await sql.raw('rollback').execute(conn);
        throw err;
      }
    });
    if (done) applied.push(m.version);
  }
  return applied;
}

async function ensureVersionTable(db: Kysely<Database>): Promise<void> {
  await sql`create table if not exists schema_version (
    version integer primary key,
    name text not null,
    applied_at bigint not null
  )`.execute(db);
}
