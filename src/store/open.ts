// Opens the configured Store: SQLite (embedded default) or PostgreSQL (farm).

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from './sql/schema.js';
import { migrate } from './sql/migrate.js';
import { SqlStore } from './sql/sql-store.js';
import { FsBlobStore } from './blobs/fs.js';
import { LocalChangeBus } from './bus.js';
import { StoreUnavailable } from './errors.js';
import type { ChangeBus, Store } from './store.js';

export type StoreOptions =
  | { driver: 'sqlite'; dataDir: string; bus?: ChangeBus; busyTimeoutMs?: number }
  | { driver: 'postgres'; url: string; dataDir: string; bus?: ChangeBus };

export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.driver === 'postgres') {
    throw new StoreUnavailable('the postgres store driver is not available in this version; use store.driver = "sqlite"');
  }
  await mkdir(options.dataDir, { recursive: true });
  const blobs = await FsBlobStore.open(join(options.dataDir, 'blobs'));
  const sqlite = new BetterSqlite3(join(options.dataDir, 'steadymail.db'), { timeout: options.busyTimeoutMs ?? 15_000 });
  // WAL lets readers in other processes run during a write; synchronous=FULL
  // makes every commit durable before it returns (the durability rule).
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('wal_autocheckpoint = 4000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  try {
    await migrate(db, 'sqlite');
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return new SqlStore({ db, dialect: 'sqlite', blobs, bus: options.bus ?? new LocalChangeBus() });
}
