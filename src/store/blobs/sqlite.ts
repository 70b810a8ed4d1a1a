// Blob store of an SQLite installation: small bodies in the database, large ones
// as files (blobs/fs.ts).
//
// A body of at most `inlineMax` bytes is a row of `inline_blobs`, written through
// the store's group commit: concurrent deliveries share one transaction and one WAL
// fsync, where a file costs three fsyncs of its own (file, directory, and the
// metadata's WAL). put() resolves only after that commit and its fsync, like every
// write of the store, so a returned blob survives a crash or power loss.
//
// Reads look in the database first and then in the files, so a body may be in
// either place (a store that ran with another `inline_blob_max`, a restored
// backup) and is found. delete() removes both; in the database, only if the blob
// was not re-put after the garbage collector's cutoff, in the same statement.

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Database } from '../sql/schema.js';
import type { WriteOp } from '../sql/write-batch.js';
import { rawQuery } from '../sql/raw.js';
import { BLOB_ID_PATTERN, BlobTooLarge, MAX_INLINE_BLOB, type BlobInfo, type BlobRange, type BlobStore } from './blob-store.js';
import type { FsBlobStore } from './fs.js';

export type WriteRunner = <T>(op: WriteOp<T>) => Promise<T>;

export class SqliteBlobStore implements BlobStore {
  readonly kind = 'fs' as const;
  private run: WriteRunner | undefined;

  constructor(
    readonly files: FsBlobStore,
    private readonly db: Kysely<Database>,
    readonly inlineMax: number,
    /** Called by close(); for a reader that owns its database connection. */
    private readonly onClose?: () => Promise<void>,
  ) {
    if (inlineMax < 0 || inlineMax > MAX_INLINE_BLOB) throw new RangeError(`inline blob limit ${inlineMax} is outside 0..${MAX_INLINE_BLOB}`);
  }

  /** The store's group commit; set once the store exists, before any put(). */
  attach(run: WriteRunner): void {
    this.run = run;
  }

  async put(data: Uint8Array): Promise<{ id: string; size: number }> {
    if (data.byteLength > this.inlineMax || !this.run) return this.files.put(data);
    const id = createHash('sha256').update(data).digest('hex');
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const now = Date.now();
    // A re-put of stored bytes only refreshes the age the garbage collector reads.
    await this.run((tx) =>
      rawQuery(tx, 'sqlite', 'insert into inline_blobs (id, size, touched_at, data) values (?, ?, ?, ?) on conflict (id) do update set touched_at = excluded.touched_at', [id, bytes.byteLength, now, bytes]),
    );
    return { id, size: bytes.byteLength };
  }

  async putStream(source: AsyncIterable<Uint8Array>, maxBytes?: number): Promise<{ id: string; size: number }> {
    const iterator = source[Symbol.asyncIterator]();
    const head: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return this.put(Buffer.concat(head, size));
      size += next.value.byteLength;
      if (maxBytes !== undefined && size > maxBytes) {
        await iterator.return?.();
        throw new BlobTooLarge(maxBytes);
      }
      head.push(next.value);
      if (size > this.inlineMax || !this.run) break;
    }
    // Too large for the database: the bytes read so far, then the rest, into a file.
    async function* rest(): AsyncGenerator<Uint8Array> {
      yield* head;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    }
    return this.files.putStream(rest(), maxBytes);
  }

  async get(id: string): Promise<Buffer> {
    return (await this.inline(id)) ?? this.files.get(id);
  }

  async getRange(id: string, range: BlobRange): Promise<Buffer> {
    const data = await this.inline(id);
    if (!data) return this.files.getRange(id, range);
    const start = Math.max(0, range.start);
    const end = Math.min(data.byteLength - 1, range.end);
    return end < start ? Buffer.alloc(0) : data.subarray(start, end + 1);
  }

  /**
   * Like a file's read stream: 'ready' once the body is found, 'error' (BlobMissing,
   * or the file's ENOENT) before any data if it is not.
   */
  createReadStream(id: string, range?: BlobRange): Readable {
    let file: Readable | undefined;
    let chunks: AsyncIterator<Buffer> | undefined;
    const stream: Readable = new Readable({
      construct: (callback) => {
        this.inline(id)
          .then(async (data) => {
            if (data) {
              const start = Math.max(0, range?.start ?? 0);
              const end = Math.min(data.byteLength - 1, range?.end ?? data.byteLength - 1);
              chunks = (async function* () {
                if (end >= start) yield data.subarray(start, end + 1);
              })();
              return;
            }
            file = this.files.createReadStream(id, range);
            await once(file, 'ready');
            chunks = file[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
          })
          .then(
            () => {
              callback();
              stream.emit('ready');
            },
            (err: unknown) => callback(err as Error),
          );
      },
      read() {
        chunks!.next().then(
          (next) => void stream.push(next.done ? null : next.value),
          (err: unknown) => stream.destroy(err as Error),
        );
      },
      destroy(err, callback) {
        file?.destroy();
        callback(err);
      },
    });
    return stream;
  }

  async stat(id: string): Promise<BlobInfo | undefined> {
    const row = await this.db.selectFrom('inline_blobs').select(['size', 'touched_at']).where('id', '=', checkId(id)).executeTakeFirst();
    if (row) return { id, size: Number(row.size), touchedAt: new Date(Number(row.touched_at)) };
    return this.files.stat(id);
  }

  async *list(): AsyncIterable<BlobInfo> {
    let after = '';
    for (;;) {
      const rows = await this.db.selectFrom('inline_blobs').select(['id', 'size', 'touched_at']).where('id', '>', after).orderBy('id').limit(1000).execute();
      for (const r of rows) yield { id: r.id, size: Number(r.size), touchedAt: new Date(Number(r.touched_at)) };
      if (rows.length < 1000) break;
      after = rows[rows.length - 1]!.id;
    }
    // A body in both places is listed once, as its database row.
    for await (const info of this.files.list()) {
      const inDb = await this.db.selectFrom('inline_blobs').select('id').where('id', '=', info.id).executeTakeFirst();
      if (!inDb) yield info;
    }
  }

  async delete(id: string, unlessTouchedAfter?: Date): Promise<void> {
    checkId(id);
    const cutoff = unlessTouchedAfter?.getTime() ?? Number.MAX_SAFE_INTEGER;
    if (this.run) {
      await this.run((tx) => tx.deleteFrom('inline_blobs').where('id', '=', id).where('touched_at', '<=', cutoff).execute());
    }
    await this.files.delete(id, unlessTouchedAfter);
  }

  async close(): Promise<void> {
    await this.files.close();
    await this.onClose?.();
  }

  private async inline(id: string): Promise<Buffer | undefined> {
    const row = await this.db.selectFrom('inline_blobs').select('data').where('id', '=', checkId(id)).executeTakeFirst();
    return row?.data;
  }
}

function checkId(id: string): string {
  if (!BLOB_ID_PATTERN.test(id)) throw new Error(`invalid blob id ${JSON.stringify(id)}`);
  return id;
}
