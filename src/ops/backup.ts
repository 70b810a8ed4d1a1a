// Online backup and restore of an embedded (SQLite) store.
//
// A backup directory holds `steadymail.db` (a consistent snapshot taken with the
// store's backupMetadata hook while the server keeps running), `blobs/<aa>/<sha256>`
// and `backup.json`. The snapshot is taken first and the blobs copied after it:
// blobs are written before the metadata that references them and are immutable,
// so every message in the snapshot finds its body among the files copied later.
// Blobs are content-addressed: one already in the backup directory is not copied
// again, which makes a repeated backup into the same directory incremental.
//
// A PostgreSQL (farm) store is backed up with pg_dump instead (pg-backup.ts): one
// snapshot of metadata and bodies, DIR/steadymail.pgdump.

import { createHash } from 'node:crypto';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BLOB_ID_PATTERN } from '../store/blobs/blob-store.js';
import type { Store } from '../store/store.js';
import { pgDump, pgRestore, PgToolError, type PgTools } from './pg-backup.js';

export const BACKUP_DB = 'steadymail.db';
export const BACKUP_MANIFEST = 'backup.json';

export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

export interface BackupResult {
  blobsCopied: number;
  blobsKept: number;
}

export async function backupStore(store: Store, dir: string, onProgress?: (done: number) => void): Promise<BackupResult> {
  if (!store.backupMetadata) throw new BackupError('this store has no database snapshot hook; a PostgreSQL store is backed up with backupPostgres()');
  await mkdir(join(dir, 'blobs'), { recursive: true });
  const tmp = join(dir, `${BACKUP_DB}.tmp-${process.pid}`);
  await rm(tmp, { force: true });
  await store.backupMetadata(tmp);
  await rename(tmp, join(dir, BACKUP_DB));

  const result: BackupResult = { blobsCopied: 0, blobsKept: 0 };
  for await (const blob of store.blobs.list()) {
    const dest = join(dir, 'blobs', blob.id.slice(0, 2), blob.id);
    const existing = await stat(dest).catch(() => undefined);
    if (existing?.size === blob.size) {
      result.blobsKept++;
    } else {
      await writeDurably(dest, await store.blobs.get(blob.id));
      result.blobsCopied++;
    }
    onProgress?.(result.blobsCopied + result.blobsKept);
  }
  await writeDurably(join(dir, BACKUP_MANIFEST), Buffer.from(`${JSON.stringify({ format: 1, driver: 'sqlite', createdAt: new Date().toISOString(), ...result }, null, 2)}\n`));
  return result;
}

/**
 * Restores a backup into an empty data directory (the server must not run on it).
 * Each blob's bytes are checked against its name on the way in.
 */
export async function restoreStore(dir: string, dataDir: string): Promise<{ blobs: number }> {
  const manifest = await readManifest(dir);
  if (manifest.driver !== 'sqlite') throw new BackupError(wrongKind(dir, manifest));
  if (await stat(join(dataDir, BACKUP_DB)).catch(() => undefined)) {
    throw new BackupError(`${dataDir} already has a store; restore only into an empty data directory`);
  }
  await mkdir(join(dataDir, 'blobs'), { recursive: true });
  let blobs = 0;
  for (const shard of await readdir(join(dir, 'blobs'))) {
    for (const id of await readdir(join(dir, 'blobs', shard))) {
      if (!BLOB_ID_PATTERN.test(id)) continue;
      const bytes = await readFile(join(dir, 'blobs', shard, id));
      if (createHash('sha256').update(bytes).digest('hex') !== id) throw new BackupError(`backup blob ${id} is damaged (its bytes do not match its name)`);
      await writeDurably(join(dataDir, 'blobs', shard, id), bytes);
      blobs++;
    }
  }
  // The database last: a restore that stopped half way leaves no store behind.
  const tmp = join(dataDir, `${BACKUP_DB}.restoring`);
  await copyFile(join(dir, BACKUP_DB), tmp);
  await syncFile(tmp);
  await rename(tmp, join(dataDir, BACKUP_DB));
  return { blobs };
}

export interface BackupManifest {
  format: number;
  /** What was backed up: the whole store (of this driver) or one account. */
  driver: 'sqlite' | 'postgres' | 'account';
  createdAt: string;
}

export async function readManifest(dir: string): Promise<BackupManifest> {
  const text = await readFile(join(dir, BACKUP_MANIFEST), 'utf8').catch(() => undefined);
  if (text === undefined) throw new BackupError(`${dir} is not a complete backup (no ${BACKUP_MANIFEST})`);
  const parsed = JSON.parse(text) as Partial<BackupManifest>;
  // Backups written before the driver was recorded are SQLite backups.
  return { format: parsed.format ?? 1, driver: parsed.driver ?? 'sqlite', createdAt: parsed.createdAt ?? '' };
}

function wrongKind(dir: string, manifest: BackupManifest): string {
  return manifest.driver === 'account'
    ? `${dir} is a backup of one account; it is restored into a running store`
    : `${dir} is a backup of a ${manifest.driver} store; restore it with store.driver = "${manifest.driver}"`;
}

export const PG_DUMP_FILE = 'steadymail.pgdump';

/**
 * Farm mode: a pg_dump of the whole database (metadata and bodies, one snapshot) into
 * DIR/steadymail.pgdump, replaced atomically; see pg-backup.ts.
 */
export async function backupPostgres(url: string, dir: string, tools?: PgTools): Promise<{ bytes: number }> {
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `${PG_DUMP_FILE}.tmp-${process.pid}`);
  await rm(tmp, { force: true });
  try {
    await pgDump(url, tmp, tools);
    await syncFile(tmp);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err instanceof PgToolError ? new BackupError(err.message) : err;
  }
  await rename(tmp, join(dir, PG_DUMP_FILE));
  const bytes = (await stat(join(dir, PG_DUMP_FILE))).size;
  await writeDurably(join(dir, BACKUP_MANIFEST), Buffer.from(`${JSON.stringify({ format: 1, driver: 'postgres', createdAt: new Date().toISOString(), bytes }, null, 2)}\n`));
  return { bytes };
}

/** Restores a backupPostgres() directory into the (empty) database at `url`. */
export async function restorePostgres(dir: string, url: string, tools?: PgTools): Promise<void> {
  const manifest = await readManifest(dir);
  if (manifest.driver !== 'postgres') throw new BackupError(wrongKind(dir, manifest));
  try {
    await pgRestore(url, join(dir, PG_DUMP_FILE), tools);
  } catch (err) {
    throw err instanceof PgToolError ? new BackupError(err.message) : err;
  }
}

export async function writeDurably(path: string, bytes: Buffer): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await syncFile(tmp);
  await rename(tmp, path);
}

async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
