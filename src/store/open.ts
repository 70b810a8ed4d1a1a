// Opens the configured Store: SQLite (embedded default) or PostgreSQL (farm).

import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
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
  // WAL lets readers in other processes run during a write. With
  // synchronous=NORMAL a commit is written to the WAL without fsync (a killed
  // process loses nothing: the bytes are in the OS); durability against power
  // loss comes from the barrier below, which fsyncs the WAL off the event loop
  // before any write is acknowledged, so concurrent writers share one fsync.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('wal_autocheckpoint = 4000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }) });
  try {
    await migrate(db, 'sqlite');
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const walPath = join(options.dataDir, 'steadymail.db-wal');
  return new SqlStore({
    db,
    dialect: 'sqlite',
    blobs,
    bus: options.bus ?? new LocalChangeBus(),
    durabilityBarrier: () => syncFile(walPath),
  });
}

async function syncFile(path: string): Promise<void> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    // No WAL file: the last checkpoint moved everything into the (synced) database.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Kysely prepares every query anew; preparing is a large share of a small
 * query's cost in SQLite, so keep prepared statements by SQL text. Kysely never
 * iterates two results of one statement at once, so reuse is safe.
 */
function cachingStatements(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      cache.clear();
      sqlite.close();
    },
    prepare: (text: string) => {
      let stmt = cache.get(text);
      if (!stmt) {
        stmt = sqlite.prepare(text);
        // Queries with generated IN lists vary; don't let them grow the cache without bound.
        if (cache.size >= 2000) cache.clear();
        cache.set(text, stmt);
      }
      return stmt;
    },
  };
}
