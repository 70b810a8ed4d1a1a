// Blob store in PostgreSQL, for farm mode: every node sees every blob.
// A blob is a row in `blobs` plus its bytes in 256 KiB `blob_chunks`, so a
// large message is written and read a chunk at a time, never as one value.
//
// Durability: put() returns after COMMIT, which PostgreSQL makes durable
// (synchronous_commit = on). A re-put of existing bytes only refreshes
// touched_at; delete() removes a blob only if it was not refreshed after the
// garbage collector's cutoff, in one statement, so the two cannot race.

import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { BLOB_ID_PATTERN, BlobMissing, BlobTooLarge, type BlobInfo, type BlobRange, type BlobStore } from './blob-store.js';

export const CHUNK_BYTES = 256 * 1024;

export class PgBlobStore implements BlobStore {
  readonly kind = 'postgres' as const;

  constructor(private readonly pool: pg.Pool) {}

  /** The tables come from migration 0002. */
  static async open(pool: pg.Pool): Promise<PgBlobStore> {
    // Chunks of streams that never completed (their process died mid-write).
    await pool.query(`delete from blob_chunks where blob_id like 'tmp-%' and not exists (select 1 from blobs where blobs.id = blob_chunks.blob_id)`);
    return new PgBlobStore(pool);
  }

  async put(data: Uint8Array): Promise<{ id: string; size: number }> {
    const id = createHash('sha256').update(data).digest('hex');
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const inserted = await client.query('insert into blobs (id, size, touched_at) values ($1, $2, $3) on conflict (id) do update set touched_at = excluded.touched_at returning (xmax = 0) as fresh', [id, data.byteLength, Date.now()]);
      if ((inserted.rows[0] as { fresh: boolean } | undefined)?.fresh) {
        for (let seq = 0, off = 0; off < data.byteLength || seq === 0; seq++, off += CHUNK_BYTES) {
          await client.query('insert into blob_chunks (blob_id, seq, data) values ($1, $2, $3)', [id, seq, Buffer.from(data.subarray(off, off + CHUNK_BYTES))]);
        }
      }
      await client.query('commit');
      return { id, size: data.byteLength };
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async putStream(source: AsyncIterable<Uint8Array>, maxBytes?: number): Promise<{ id: string; size: number }> {
    const tmpId = `tmp-${randomBytes(12).toString('hex')}`;
    const hash = createHash('sha256');
    const client = await this.pool.connect();
    let size = 0;
    try {
      await client.query('begin');
      let seq = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        const chunk = Buffer.concat(pending, pendingBytes);
        await client.query('insert into blob_chunks (blob_id, seq, data) values ($1, $2, $3)', [tmpId, seq++, chunk]);
        pending = [];
        pendingBytes = 0;
      };
      for await (const piece of source) {
        size += piece.byteLength;
        if (maxBytes !== undefined && size > maxBytes) throw new BlobTooLarge(maxBytes);
        hash.update(piece);
        let off = 0;
        while (off < piece.byteLength) {
          const take = Math.min(CHUNK_BYTES - pendingBytes, piece.byteLength - off);
          pending.push(Buffer.from(piece.subarray(off, off + take)));
          pendingBytes += take;
          off += take;
          if (pendingBytes === CHUNK_BYTES) await flush();
        }
      }
      if (pendingBytes > 0 || seq === 0) await flush();
      const id = hash.digest('hex');
      const inserted = await client.query('insert into blobs (id, size, touched_at) values ($1, $2, $3) on conflict (id) do update set touched_at = excluded.touched_at returning (xmax = 0) as fresh', [id, size, Date.now()]);
      if ((inserted.rows[0] as { fresh: boolean } | undefined)?.fresh) {
        await client.query('update blob_chunks set blob_id = $1 where blob_id = $2', [id, tmpId]);
      } else {
        await client.query('delete from blob_chunks where blob_id = $1', [tmpId]);
      }
      await client.query('commit');
      return { id, size };
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async get(id: string): Promise<Buffer> {
    const info = await this.stat(id);
    if (!info) throw new BlobMissing(id);
    const res = await this.pool.query('select data from blob_chunks where blob_id = $1 order by seq', [checkId(id)]);
    return Buffer.concat((res.rows as Array<{ data: Buffer }>).map((r) => r.data));
  }

  async getRange(id: string, range: BlobRange): Promise<Buffer> {
    const info = await this.stat(id);
    if (!info) throw new BlobMissing(id);
    const start = Math.max(0, range.start);
    const end = Math.min(info.size - 1, range.end);
    if (end < start) return Buffer.alloc(0);
    const first = Math.floor(start / CHUNK_BYTES);
    const last = Math.floor(end / CHUNK_BYTES);
    const res = await this.pool.query('select seq, data from blob_chunks where blob_id = $1 and seq between $2 and $3 order by seq', [id, first, last]);
    const joined = Buffer.concat((res.rows as Array<{ data: Buffer }>).map((r) => r.data));
    return joined.subarray(start - first * CHUNK_BYTES, end - first * CHUNK_BYTES + 1);
  }

  createReadStream(id: string, range?: BlobRange): Readable {
    const pool = this.pool;
    const stat = (blobId: string) => this.stat(blobId);
    async function* chunks(): AsyncGenerator<Buffer> {
      const info = await stat(id);
      if (!info) throw new BlobMissing(id);
      const start = Math.max(0, range?.start ?? 0);
      const end = Math.min(info.size - 1, range?.end ?? info.size - 1);
      if (end < start) return;
      for (let seq = Math.floor(start / CHUNK_BYTES); seq <= Math.floor(end / CHUNK_BYTES); seq++) {
        const res = await pool.query('select data from blob_chunks where blob_id = $1 and seq = $2', [id, seq]);
        const data = (res.rows[0] as { data: Buffer } | undefined)?.data;
        if (!data) throw new BlobMissing(id);
        const base = seq * CHUNK_BYTES;
        yield data.subarray(Math.max(0, start - base), Math.min(data.length, end - base + 1));
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  async stat(id: string): Promise<BlobInfo | undefined> {
    const res = await this.pool.query('select size, touched_at from blobs where id = $1', [checkId(id)]);
    const row = res.rows[0] as { size: string; touched_at: string } | undefined;
    return row ? { id, size: Number(row.size), touchedAt: new Date(Number(row.touched_at)) } : undefined;
  }

  async *list(): AsyncIterable<BlobInfo> {
    let after = '';
    for (;;) {
      const res = await this.pool.query('select id, size, touched_at from blobs where id > $1 order by id limit 1000', [after]);
      const rows = res.rows as Array<{ id: string; size: string; touched_at: string }>;
      for (const r of rows) yield { id: r.id, size: Number(r.size), touchedAt: new Date(Number(r.touched_at)) };
      if (rows.length < 1000) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  async delete(id: string, unlessTouchedAfter?: Date): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const res = await client.query('delete from blobs where id = $1 and touched_at <= $2', [checkId(id), unlessTouchedAfter?.getTime() ?? Number.MAX_SAFE_INTEGER]);
      if ((res.rowCount ?? 0) > 0) await client.query('delete from blob_chunks where blob_id = $1', [id]);
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    // The pool belongs to the store that opened this blob store.
  }
}

function checkId(id: string): string {
  if (!BLOB_ID_PATTERN.test(id)) throw new Error(`invalid blob id ${JSON.stringify(id)}`);
  return id;
}
