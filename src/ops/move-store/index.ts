// steadymail move-store: the whole store into another backend (SQLite ⇄ PostgreSQL),
// every row with its ids, so UIDs, UIDVALIDITY, modseqs, message ids (POP3 UIDL),
// sessions and queue entries stay what they were and no client has to resync.
//
// Safe procedure (docs/farm.md): every server and command using the source is
// stopped; move-store refuses otherwise and keeps anything else out while it runs
// (sides.ts). Then:
//   1. the source's schema is brought up to date (as any start-up would) and locked;
//   2. the target is created with this release's migrations and must be empty;
//   3. every table the catalog lists is copied in foreign-key order in one target
//      transaction (tables.ts says what each is; an unknown one stops the move), with
//      the id counters (sqlite_sequence, PostgreSQL sequences), so an id is never
//      handed out twice; the bodies go blob store to blob store, re-hashed;
//   4. the search index is not copied: the first server started on the target fills it
//      with its background pass (server.ts), and SEARCH scans what is not indexed yet;
//   5. verification: per table, row count and an order-independent digest of every row
//      read back from the target equal the source's; every body is there and hashes
//      right and `check` finds nothing on the target.
// The source is not written to (beyond the pending migrations of step 1): if anything
// fails, it is still the store to use.
// For a SQLite target, the files of the source data directory that are not the store
// (DKIM keys, TLS certificates, the SRS secret) are copied into the new data directory.

import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { openSqliteBlobReader, openStore, type StoreOptions } from '../../store/open.js';
import { PgBlobStore } from '../../store/blobs/postgres.js';
import type { BlobStore } from '../../store/blobs/blob-store.js';
import { SCHEMA_VERSION } from '../../store/sql/migrate.js';
import type { SearchTextExtractor } from '../../store/types.js';
import { runCheck, type CheckReport } from '../check.js';
import { openPgSide, openSqliteSide, type Row, type SqlSide } from './sides.js';
import { copyOrder, MoveStoreError, TABLE_ROLES, unknownTables } from './tables.js';

const BLOB_CONCURRENCY = 8;

export type StoreLocation = { driver: 'sqlite'; dataDir: string } | { driver: 'postgres'; url: string; dataDir: string };

export interface MoveStoreOptions {
  source: StoreLocation;
  target: StoreLocation;
  searchText?: SearchTextExtractor;
  onProgress?: (phase: string, done: number, total: number) => void;
}

export interface TableResult {
  table: string;
  rows: number;
  digest: string;
}

export interface MoveStoreResult {
  tables: TableResult[];
  rows: number;
  blobs: number;
  blobBytes: number;
  /** Files of the data directory copied (SQLite target). */
  files: string[];
  check: CheckReport;
  seconds: number;
}

/** `sqlite:PATH` (a data directory) or `postgres://…` / `postgresql://…`. */
export function parseStoreLocation(to: string, dataDir: string): StoreLocation {
  if (/^postgres(ql)?:\/\//.test(to)) return { driver: 'postgres', url: to, dataDir };
  const m = /^sqlite:(.+)$/.exec(to);
  if (m) return { driver: 'sqlite', dataDir: m[1]! };
  throw new MoveStoreError('target', `--to ${JSON.stringify(to)}: expected postgres://user:pass@host/db or sqlite:/path/to/data_dir`);
}

/** A URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** Canonical form of a column value, the same whichever backend it was read from. */
function canonical(value: unknown, where: string): unknown {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return { hex: value.toString('hex') };
  if (typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new MoveStoreError('schema', `${where}: a value of type ${typeof value} (${Object.prototype.toString.call(value)}) has no portable form`);
}

const MOD = 1n << 256n;
/** Order-independent digest of a table: the sum of its rows' sha256, mod 2^256 (rows in any order, duplicates counted). */
class TableDigest {
  private sum = 0n;
  add(table: string, columns: string[], row: Row): void {
    const h = createHash('sha256').update(JSON.stringify(columns.map((c) => canonical(row[c], `${table}.${c}`)))).digest('hex');
    this.sum = (this.sum + BigInt(`0x${h}`)) % MOD;
  }
  hex(): string {
    return this.sum.toString(16).padStart(64, '0');
  }
}

async function openSide(location: StoreLocation, readonly: boolean): Promise<SqlSide> {
  return location.driver === 'sqlite' ? openSqliteSide(join(location.dataDir, 'steadymail.db'), { readonly }) : openPgSide(location.url, { readonly });
}

function sameStore(a: StoreLocation, b: StoreLocation): boolean {
  if (a.driver !== b.driver) return false;
  if (a.driver === 'sqlite') return resolve(a.dataDir) === resolve(b.dataDir);
  const u = (s: string) => {
    const x = new URL(s);
    return `${x.hostname}:${x.port || '5432'}${x.pathname}`;
  };
  return u(a.url) === u((b as { url: string }).url);
}

/** Refuses a target that holds anything: rows in a table that is copied, or blobs. */
async function assertEmpty(side: SqlSide, blobs: BlobStore, label: string): Promise<void> {
  for (const t of await side.tables()) {
    // The schema's own rows, and SQLite's FTS5 bookkeeping rows, are there in a new store.
    if (TABLE_ROLES[t] !== 'copy') continue;
    const n = await side.count(t);
    if (n > 0) throw new MoveStoreError('not-empty', `the target ${label} is not empty (${t} has ${n} row(s)): move-store only writes into an empty store`);
  }
  for await (const blob of blobs.list()) throw new MoveStoreError('not-empty', `the target ${label} is not empty (it holds blob ${blob.id})`);
}

export async function moveStore(options: MoveStoreOptions): Promise<MoveStoreResult> {
  const started = Date.now();
  const { source, target } = options;
  const progress = options.onProgress ?? (() => undefined);
  if (sameStore(source, target)) throw new MoveStoreError('target', 'the target is the configured store itself');
  const label = target.driver === 'postgres' ? redact(target.url) : `sqlite:${target.dataDir}`;

  // 1. Source schema current (a start-up would do the same); 2. target schema by this
  // release's migrations.
  const sourceOptions = storeOptionsOf(source, options.searchText);
  const targetOptions = storeOptionsOf(target, options.searchText);
  await (await openStore(sourceOptions)).close();
  await (await openStore(targetOptions)).close();

  // From here on nothing else may use the source (or the target) until the end.
  const sourceSide = await openSide(source, true);
  const pools: pg.Pool[] = [];
  const pgBlobs = (url: string): PgBlobStore => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pools.push(pool);
    return new PgBlobStore(pool);
  };
  try {
    const version = await sourceSide.schemaVersion();
    if (version !== SCHEMA_VERSION) throw new MoveStoreError('schema', `the source is at schema version ${version}, this release at ${SCHEMA_VERSION}`);
    const sourceTables = await sourceSide.tables();
    const unknownInSource = unknownTables(sourceTables);
    if (unknownInSource.length > 0) {
      throw new MoveStoreError('schema', `move-store does not know the table(s) ${unknownInSource.join(', ')}: nothing was copied (src/ops/move-store/tables.ts must say what to do with every table)`);
    }
    const toCopy = sourceTables.filter((t) => TABLE_ROLES[t] === 'copy');
    const parents = new Map<string, string[]>();
    for (const t of toCopy) parents.set(t, await sourceSide.parents(t));
    const order = copyOrder(toCopy, parents);

    // 3. Rows, parents first, in one target transaction.
    const results: TableResult[] = [];
    let rows = 0;
    const targetSide = await openSide(target, false);
    try {
      const targetTables = await targetSide.tables();
      const unknownInTarget = unknownTables(targetTables);
      if (unknownInTarget.length > 0) throw new MoveStoreError('schema', `move-store does not know the target's table(s) ${unknownInTarget.join(', ')}`);
      if ((await targetSide.schemaVersion()) !== SCHEMA_VERSION) throw new MoveStoreError('schema', `the target is not at schema version ${SCHEMA_VERSION}`);
      const targetBlobs = target.driver === 'sqlite' ? await openSqliteBlobReader(target.dataDir, targetSide.sqlite) : pgBlobs(target.url);
      try {
        await assertEmpty(targetSide, targetBlobs, label);
      } finally {
        await targetBlobs.close();
      }
      for (const [i, table] of order.entries()) {
        if (!targetTables.includes(table)) throw new MoveStoreError('schema', `the target has no table ${table}`);
        const columns = (await sourceSide.columns(table)).sort();
        const targetColumns = (await targetSide.columns(table)).sort();
        if (columns.join(',') !== targetColumns.join(',')) throw new MoveStoreError('schema', `${table} has columns ${columns.join(', ')} in the source but ${targetColumns.join(', ')} in the target`);
        const digest = new TableDigest();
        let batch: Row[] = [];
        let n = 0;
        for await (const row of sourceSide.rows(table)) {
          digest.add(table, columns, row);
          batch.push(row);
          n++;
          if (batch.length >= 1000) {
            await insertInto(targetSide, table, columns, batch);
            batch = [];
          }
        }
        if (batch.length > 0) await insertInto(targetSide, table, columns, batch);
        // The id counter too: an id once handed out is never handed out again.
        const counter = await sourceSide.counter(table);
        if (counter !== undefined) await targetSide.setCounter(table, counter);
        results.push({ table, rows: n, digest: digest.hex() });
        rows += n;
        progress('tables', i + 1, order.length);
      }
      await targetSide.commit();
    } finally {
      await targetSide.close();
    }

    // Bodies: from the source's blob store into the target's, which hashes them again.
    const sourceBlobs = source.driver === 'sqlite' ? await openSqliteBlobReader(source.dataDir, sourceSide.sqlite) : pgBlobs(source.url);
    let blobs = 0;
    let blobBytes = 0;
    let check: CheckReport;
    const targetStore = await openStore(targetOptions);
    try {
      // A few at a time: each put is a durable write (an fsync, a PostgreSQL commit), so
      // overlapping them is most of the speed; memory holds at most BLOB_CONCURRENCY bodies.
      const copyOne = async (id: string): Promise<void> => {
        const put = await targetStore.blobs.put(await sourceBlobs.get(id));
        if (put.id !== id) throw new MoveStoreError('verify', `source blob ${id} does not hash to its name (its bytes hash to ${put.id}): run steadymail check on the source`);
        blobs++;
        blobBytes += put.size;
        progress('blobs', blobs, blobs);
      };
      let pending: string[] = [];
      for await (const info of sourceBlobs.list()) {
        pending.push(info.id);
        if (pending.length >= BLOB_CONCURRENCY) {
          await Promise.all(pending.map(copyOne));
          pending = [];
        }
      }
      await Promise.all(pending.map(copyOne));
      let targetBlobCount = 0;
      for await (const _ of targetStore.blobs.list()) targetBlobCount++;
      if (targetBlobCount !== blobs) throw new MoveStoreError('verify', `the target holds ${targetBlobCount} blob(s), the source ${blobs}`);
      check = await runCheck(targetStore, { hash: true, structure: 'sample', onProgress: (phase, done, total) => progress(`check ${phase}`, done, total) });
      if (!check.clean) throw new MoveStoreError('verify', `check found ${check.problems.length} problem(s) on the target: ${JSON.stringify(check.counts)}`);
    } finally {
      await targetStore.close();
      await sourceBlobs.close();
    }

    // 5. Every copied table read back from the target: same count, same digest.
    const verifySide = await openSide(target, false);
    try {
      for (const [i, r] of results.entries()) {
        const columns = (await verifySide.columns(r.table)).sort();
        const digest = new TableDigest();
        let n = 0;
        for await (const row of verifySide.rows(r.table)) {
          digest.add(r.table, columns, row);
          n++;
        }
        if (n !== r.rows || digest.hex() !== r.digest) {
          throw new MoveStoreError('verify', `${r.table} differs after copying: ${r.rows} row(s) in the source, ${n} in the target${n === r.rows ? ' (same count, different contents)' : ''}`);
        }
        progress('verify', i + 1, results.length);
      }
    } finally {
      await verifySide.close();
    }
    const files = target.driver === 'sqlite' ? await copyDataFiles(source.dataDir, target.dataDir) : [];
    return { tables: results, rows, blobs, blobBytes, files, check, seconds: (Date.now() - started) / 1000 };
  } finally {
    await sourceSide.close();
    for (const pool of pools) await pool.end().catch(() => undefined);
  }
}

/** Inserts, naming the table when the target refuses a row (nothing is kept then: one transaction). */
async function insertInto(side: SqlSide, table: string, columns: string[], rows: Row[]): Promise<void> {
  try {
    await side.insert(table, columns, rows);
  } catch (err) {
    if (err instanceof MoveStoreError) throw err;
    throw new MoveStoreError('schema', `the target refused rows of ${table}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function storeOptionsOf(location: StoreLocation, searchText: SearchTextExtractor | undefined): StoreOptions {
  const base: StoreOptions = location.driver === 'sqlite' ? { driver: 'sqlite', dataDir: location.dataDir } : { driver: 'postgres', url: location.url, dataDir: location.dataDir };
  return searchText ? { ...base, searchText } : base;
}

/** What a data directory holds besides the store itself, copied into a new one. */
const STORE_FILES = new Set(['steadymail.db', 'steadymail.db-wal', 'steadymail.db-shm', 'blobs', 'backups']);

async function copyDataFiles(from: string, to: string): Promise<string[]> {
  if (resolve(from) === resolve(to)) return [];
  const copied: string[] = [];
  await mkdir(to, { recursive: true });
  for (const name of await readdir(from).catch(() => [] as string[])) {
    if (STORE_FILES.has(name)) continue;
    if ((await stat(join(to, name)).catch(() => undefined)) !== undefined) continue;
    await cp(join(from, name), join(to, name), { recursive: true, preserveTimestamps: true, errorOnExist: true, force: false });
    copied.push(name);
  }
  return copied;
}
