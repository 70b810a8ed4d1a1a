// Blob store on the local file system: <root>/<aa>/<sha256>, 256 directories
// created up front so that a put() never has to create and fsync a directory.
//
// Durability: bytes go to <root>/tmp/<random>, are fsynced, renamed into place,
// and the destination directory is fsynced, so a blob that put() returned
// survives a crash or power loss. A crash mid-write leaves only a temp file,
// which open() sweeps away.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, type Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { StoreUnavailable } from '../errors.js';
import { SyncedHandle } from '../synced-handle.js';
import { BLOB_ID_PATTERN, BlobMissing, BlobTooLarge, type BlobInfo, type BlobRange, type BlobStore } from './blob-store.js';

const TMP_DIR = 'tmp';
const TMP_MAX_AGE_MS = 6 * 3600_000;

export class FsBlobStore implements BlobStore {
  readonly kind = 'fs' as const;
  private readonly root: string;
  /** One kept-open handle per shard directory; concurrent renames into one shard share its fsync. */
  private readonly dirSync = new Map<string, SyncedHandle>();

  private constructor(root: string) {
    this.root = root;
  }

  static async open(root: string): Promise<FsBlobStore> {
    await fs.mkdir(join(root, TMP_DIR), { recursive: true });
    // Old temp files are leftovers of writes that never completed: nothing
    // references them. Young ones may belong to another process writing now.
    const cutoff = Date.now() - TMP_MAX_AGE_MS;
    for (const name of await fs.readdir(join(root, TMP_DIR))) {
      const path = join(root, TMP_DIR, name);
      const st = await fs.stat(path).catch(() => undefined);
      if (st && st.mtimeMs < cutoff) await fs.rm(path, { force: true });
    }
    let created = false;
    for (let i = 0; i < 256; i++) {
      const dir = join(root, i.toString(16).padStart(2, '0'));
      try {
        await fs.mkdir(dir);
        created = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    if (created) await fsyncDir(root);
    return new FsBlobStore(root);
  }

  pathOf(id: string): string {
    if (!BLOB_ID_PATTERN.test(id)) throw new Error(`invalid blob id ${JSON.stringify(id)}`);
    return join(this.root, id.slice(0, 2), id);
  }

  async put(data: Uint8Array): Promise<{ id: string; size: number }> {
    const id = createHash('sha256').update(data).digest('hex');
    // No existence check first: renaming identical bytes over an existing blob is
    // harmless, refreshes its age for the garbage collector, and saves a failing
    // system call on the common path of a new message.
    const tmp = this.tmpPath();
    const fh = await openTemp(tmp);
    let committed = false;
    try {
      await fh.writeFile(data);
      await fh.sync();
      await fh.close();
      await this.commitTemp(tmp, id);
      committed = true;
    } catch (err) {
      throw asUnavailable(err);
    } finally {
      if (!committed) await discard(fh, tmp);
    }
    return { id, size: data.byteLength };
  }

  async putStream(source: AsyncIterable<Uint8Array>, maxBytes?: number): Promise<{ id: string; size: number }> {
    const tmp = this.tmpPath();
    const hash = createHash('sha256');
    let size = 0;
    const fh = await openTemp(tmp);
    let committed = false;
    try {
      for await (const chunk of source) {
        size += chunk.byteLength;
        if (maxBytes !== undefined && size > maxBytes) throw new BlobTooLarge(maxBytes);
        hash.update(chunk);
        await fh.write(chunk);
      }
      await fh.sync();
      await fh.close();
      const id = hash.digest('hex');
      await this.commitTemp(tmp, id);
      committed = true;
      return { id, size };
    } catch (err) {
      throw asUnavailable(err);
    } finally {
      if (!committed) await discard(fh, tmp);
    }
  }

  async get(id: string): Promise<Buffer> {
    try {
      return await fs.readFile(this.pathOf(id));
    } catch (err) {
      throw mapMissing(err, id);
    }
  }

  async getRange(id: string, range: BlobRange): Promise<Buffer> {
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(this.pathOf(id), 'r');
    } catch (err) {
      throw mapMissing(err, id);
    }
    try {
      const { size } = await fh.stat();
      const start = Math.max(0, range.start);
      const end = Math.min(size - 1, range.end);
      if (end < start) return Buffer.alloc(0);
      const buf = Buffer.allocUnsafe(end - start + 1);
      let off = 0;
      while (off < buf.length) {
        const { bytesRead } = await fh.read(buf, off, buf.length - off, start + off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return buf.subarray(0, off);
    } finally {
      await fh.close();
    }
  }

  createReadStream(id: string, range?: BlobRange): Readable {
    return createReadStream(this.pathOf(id), range ? { start: range.start, end: range.end } : {});
  }

  async stat(id: string): Promise<BlobInfo | undefined> {
    try {
      const st = await fs.stat(this.pathOf(id));
      return { id, size: st.size, touchedAt: st.mtime };
    } catch (err) {
      if (isNoEnt(err)) return undefined;
      throw err;
    }
  }

  async *list(): AsyncIterable<BlobInfo> {
    for (const a of await readDirs(this.root)) {
      if (a === TMP_DIR) continue;
      for (const name of await fs.readdir(join(this.root, a))) {
        if (!BLOB_ID_PATTERN.test(name)) continue;
        const info = await this.stat(name);
        if (info) yield info;
      }
    }
  }

  /**
   * Only Store.collectGarbage() calls this. The file is first renamed aside so a
   * concurrent put() of the same bytes either refreshed it before (we see the new
   * mtime and put it back) or finds it gone and writes it anew.
   */
  async delete(id: string, unlessTouchedAfter?: Date): Promise<void> {
    const path = this.pathOf(id);
    const aside = `${path}.gc-${randomBytes(4).toString('hex')}`;
    try {
      await fs.rename(path, aside);
    } catch (err) {
      if (isNoEnt(err)) return;
      throw err;
    }
    if (unlessTouchedAfter) {
      const st = await fs.stat(aside);
      if (st.mtime > unlessTouchedAfter) {
        try {
          await fs.link(aside, path);
        } catch (err) {
          // Re-created meanwhile by a put(): the new file is identical.
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
      }
    }
    await fs.rm(aside, { force: true });
  }

  async close(): Promise<void> {
    const handles = [...this.dirSync.values()];
    this.dirSync.clear();
    for (const h of handles) await h.close();
  }

  private syncDir(dir: string): Promise<void> {
    let handle = this.dirSync.get(dir);
    if (!handle) {
      handle = new SyncedHandle(dir);
      this.dirSync.set(dir, handle);
    }
    return handle.sync();
  }

  private tmpPath(): string {
    return join(this.root, TMP_DIR, `${Date.now()}-${randomBytes(8).toString('hex')}`);
  }

  private async commitTemp(tmp: string, id: string): Promise<void> {
    const dest = this.pathOf(id);
    await fs.rename(tmp, dest);
    await this.syncDir(dirname(dest));
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function readDirs(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isNoEnt(err)) return [];
    throw err;
  }
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/**
 * The file system refused the write (full, read-only, I/O error, out of inodes or
 * quota): a temporary failure every protocol reports as such, never a partial blob.
 */
const WRITE_FAILURES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EMFILE', 'ENFILE', 'ENOMEM', 'EACCES', 'EPERM']);

function asUnavailable(err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined || !WRITE_FAILURES.has(code)) return err;
  const what = code === 'ENOSPC' || code === 'EDQUOT' ? 'the blob store is full' : code === 'EROFS' ? 'the blob store is read-only' : 'the blob store cannot be written';
  return new StoreUnavailable(`${what} (${code})`, { cause: err });
}

async function openTemp(tmp: string): Promise<fs.FileHandle> {
  try {
    return await fs.open(tmp, 'wx', 0o640);
  } catch (err) {
    throw asUnavailable(err);
  }
}

/** Drops a temp file that was not committed; its space must come back at once on a full disk. */
async function discard(fh: fs.FileHandle, tmp: string): Promise<void> {
  await fh.close().catch(() => undefined);
  await fs.rm(tmp, { force: true }).catch(() => undefined);
}

function isNoEnt(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function mapMissing(err: unknown, id: string): unknown {
  return isNoEnt(err) ? new BlobMissing(id) : err;
}
