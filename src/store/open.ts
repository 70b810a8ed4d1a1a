// Opens the configured Store: SQLite (embedded default) or PostgreSQL (farm).

import { access, mkdir, open, rm } from 'node:fs/promises';
import { SyncedHandle } from './synced-handle.js';
import { dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import type { Database } from './sql/schema.js';
import { currentSchemaVersion, migrate, SCHEMA_VERSION } from './sql/migrate.js';
import { withErrorMapping } from './sql/error-mapping.js';
import { SqlStore } from './sql/sql-store.js';
import { Checkpointer } from './sql/checkpointer.js';
import { FsBlobStore } from './blobs/fs.js';
import { SqliteBlobStore } from './blobs/sqlite.js';
import { DEFAULT_INLINE_BLOB_MAX, type BlobStore } from './blobs/blob-store.js';
import { LocalChangeBus } from './bus.js';
import { DataDirError, StoreUnavailable } from './errors.js';
import { PgBlobStore } from './blobs/postgres.js';
import { PgChangeBus } from './pg-bus.js';
import type { ChangeBus, Store } from './store.js';
import type { SearchTextExtractor } from './types.js';

export type StoreOptions = (
  | {
      driver: 'sqlite';
      dataDir: string;
      bus?: ChangeBus;
      busyTimeoutMs?: number;
      /** Bodies of at most this many bytes are kept in the database (`store.inline_blob_max`). */
      inlineBlobMax?: number;
    }
  | { driver: 'postgres'; url: string; dataDir: string; poolSize?: number; onBackgroundError?: (err: unknown) => void }
) & {
  /** Fills the search index as messages are stored (mime/search-text.ts provides it). */
  searchText?: SearchTextExtractor;
};

// BIGINT columns (ids, sizes, times, modseqs) stay below 2^53: read them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

async function openPostgres(options: Extract<StoreOptions, { driver: 'postgres' }>): Promise<Store> {
  const onError = options.onBackgroundError ?? (() => undefined);
  // A connection attempt that gets no answer (a server restarting, a dropped route) fails
  // after 10 s instead of holding its caller forever.
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10, connectionTimeoutMillis: 10_000 });
  // An idle client losing its connection must not crash the process.
  pool.on('error', onError);
  // Nor a checked-out one: pg-pool listens for errors only on idle clients, and a client
  // whose server goes away in the middle of a query emits 'error' besides failing the
  // query. The query's caller gets that failure (StoreUnavailable); the pool drops the
  // broken client when it is released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  try {
    await pool.query('select 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new StoreUnavailable(`cannot connect to PostgreSQL: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const db = new Kysely<Database>({ dialect: withErrorMapping(new PostgresDialect({ pool })) });
  let bus: PgChangeBus | undefined;
  try {
    await migrate(db, 'postgres');
    const blobs = await PgBlobStore.open(pool);
    bus = new PgChangeBus(pool, options.url, onError);
    await bus.ready;
    // db.destroy() ends the pool.
    return new SqlStore({ db, dialect: 'postgres', blobs, bus, ...(options.searchText ? { searchText: options.searchText } : {}) });
  } catch (err) {
    await bus?.close();
    await db.destroy();
    throw err;
  }
}

/**
 * Creates data_dir and proves it writable before anything is opened, so that a
 * read-only or misnamed directory stops start-up with one clear line instead of a
 * server that fails every write.
 */
async function prepareDataDir(dir: string): Promise<void> {
  const probe = join(dir, `.write-test-${process.pid}`);
  try {
    await mkdir(dir, { recursive: true });
    const fh = await open(probe, 'w');
    await fh.close();
    await rm(probe, { force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOTDIR' || code === 'EEXIST' ? 'a part of the path is not a directory'
      : code === 'EACCES' || code === 'EPERM' ? 'permission denied (it must be writable by the user running steadymail)'
      : code === 'EROFS' ? 'it is on a read-only file system'
      : code === 'ENOSPC' || code === 'EDQUOT' ? 'the file system is full'
      : err instanceof Error ? err.message : String(err);
    throw new DataDirError(dir, reason, { cause: err });
  }
}

export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.driver === 'postgres') return openPostgres(options);
  await prepareDataDir(options.dataDir);
  const files = await FsBlobStore.open(join(options.dataDir, 'blobs'));
  const sqlite = new BetterSqlite3(join(options.dataDir, 'steadymail.db'), { timeout: options.busyTimeoutMs ?? 15_000 });
  // WAL lets readers in other processes run during a write. With
  // synchronous=NORMAL a commit is written to the WAL without fsync (a killed
  // process loses nothing: the bytes are in the OS); durability against power
  // loss comes from the barrier below, which fsyncs the WAL off the event loop
  // before any write is acknowledged, so concurrent writers share one fsync.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  const checkpointer = new Checkpointer(sqlite, join(options.dataDir, 'steadymail.db'));
  const db = new Kysely<Database>({ dialect: withErrorMapping(new SqliteDialect({ database: cachingStatements(sqlite) })) });
  try {
    const version = await currentSchemaVersion(db);
    // Before changing the schema of a store that has data, keep a copy to go back to
    // (docs/upgrade.md). Two processes starting in the same second share one copy.
    if (version > 0 && version < SCHEMA_VERSION) {
      const copy = join(options.dataDir, 'backups', `pre-migration-${version}-${fileDate(new Date())}.db`);
      if (!(await exists(copy))) await snapshotSqlite(sqlite, copy);
    }
    await migrate(db, 'sqlite');
  } catch (err) {
    await db.destroy();
    throw err;
  }
  // SQLite never deletes the WAL while this connection is open; after a checkpoint it may be absent.
  const wal = new SyncedHandle(join(options.dataDir, 'steadymail.db-wal'), { missingOk: true });
  const blobs = new SqliteBlobStore(files, db, options.inlineBlobMax ?? DEFAULT_INLINE_BLOB_MAX);
  const store = new SqlStore({
    db,
    dialect: 'sqlite',
    blobs,
    bus: options.bus ?? new LocalChangeBus(),
    durabilityBarrier: () => {
      checkpointer.committed();
      return wal.sync();
    },
    backupMetadata: (path) => snapshotSqlite(sqlite, path),
    onClose: async () => {
      await checkpointer.close();
      await wal.close();
    },
    ...(options.searchText ? { searchText: options.searchText } : {}),
  });
  blobs.attach((op) => store.writes.run(op));
  return store;
}

/**
 * The message bodies of an SQLite store, for reading them while no server runs on it
 * (move-store): the files and the database's own, without opening the whole store.
 * It reads through `connection` (one that holds the database locked, say), or else
 * through a read-only connection of its own. Nothing is put into the database through it.
 */
export async function openSqliteBlobReader(dataDir: string, connection?: BetterSqlite3.Database): Promise<BlobStore> {
  const files = await FsBlobStore.open(join(dataDir, 'blobs'));
  const sqlite = connection ?? new BetterSqlite3(join(dataDir, 'steadymail.db'), { readonly: true, fileMustExist: true });
  // A borrowed connection stays open when the reader closes.
  const database: SqliteDatabase = { prepare: (text) => sqlite.prepare(text), close: () => (connection ? undefined : sqlite.close()) };
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  return new SqliteBlobStore(files, db, 0, () => db.destroy());
}

/**
 * A consistent copy of the database in a new file, taken while other connections
 * (this process's or a running server's) keep reading and writing. VACUUM INTO
 * reads everything in one read transaction, so the copy is one committed state and
 * cannot be restarted by concurrent writers (sqlite3_backup restarts on each write).
 * It blocks this process's event loop for its duration: for the CLI and start-up.
 */
export async function snapshotSqlite(sqlite: BetterSqlite3.Database, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  if (await exists(path)) throw new StoreUnavailable(`cannot back up the database to ${path}: the file exists`);
  sqlite.prepare('vacuum into ?').run(path);
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** 20261128T170200Z: sortable and safe in a file name. */
function fileDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
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
