// Where a store's schema stands, read without changing anything (no migration, no
// version table created, no SQLite file created): for `steadymail migrate --dry-run`.

import { access } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { MIGRATIONS, SCHEMA_VERSION, type Migration } from './sql/migrate.js';
import { StoreUnavailable } from './errors.js';
import type { StoreOptions } from './open.js';

export interface SchemaStatus {
  driver: 'sqlite' | 'postgres';
  /** 0 for a store that does not exist yet. */
  current: number;
  latest: number;
  pending: Array<Pick<Migration, 'version' | 'name'>>;
  /** Whether the store holds any domain (SQLite copies such a database before migrating). */
  hasData: boolean;
  /** The store is newer than this release. */
  tooNew: boolean;
}

function status(driver: SchemaStatus['driver'], current: number, hasData: boolean): SchemaStatus {
  return {
    driver,
    current,
    latest: SCHEMA_VERSION,
    pending: MIGRATIONS.filter((m) => m.version > current).map((m) => ({ version: m.version, name: m.name })),
    hasData,
    tooNew: current > SCHEMA_VERSION,
  };
}

export async function inspectSchema(options: StoreOptions): Promise<SchemaStatus> {
  if (options.driver === 'sqlite') {
    const file = join(options.dataDir, 'steadymail.db');
    const exists = await access(file).then(
      () => true,
      () => false,
    );
    if (!exists) return status('sqlite', 0, false);
    const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true, timeout: 15_000 });
    try {
      const has = (table: string) => db.prepare("select 1 from sqlite_master where type = 'table' and name = ?").get(table) !== undefined;
      const current = has('schema_version') ? Number((db.prepare('select max(version) as v from schema_version').get() as { v: number | null }).v ?? 0) : 0;
      const hasData = has('domains') && db.prepare('select 1 from domains limit 1').get() !== undefined;
      return status('sqlite', current, hasData);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: options.url });
  try {
    await client.connect();
  } catch (err) {
    throw new StoreUnavailable(`cannot connect to PostgreSQL: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  try {
    const has = async (table: string) => (await client.query<{ t: string | null }>('select to_regclass($1) as t', [table])).rows[0]?.t !== null;
    const current = (await has('schema_version')) ? Number((await client.query<{ v: string | null }>('select max(version) as v from schema_version')).rows[0]?.v ?? 0) : 0;
    const hasData = (await has('domains')) && (await client.query('select 1 from domains limit 1')).rowCount !== 0;
    return status('postgres', current, hasData);
  } finally {
    await client.end();
  }
}
