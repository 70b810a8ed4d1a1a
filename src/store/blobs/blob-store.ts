// Content-addressed, immutable message bodies. The id is the lower-case hex
// sha256 of the raw bytes, so identical messages share one blob.
//
// Rules:
// - put() resolves only when the bytes are durable (fs: temp file → fsync →
//   rename → fsync dir).
// - put() of bytes that already exist refreshes the blob's age, so garbage
//   collection (which honours a grace period) cannot remove a blob that a
//   metadata transaction is about to reference.
// - Nothing but Store.collectGarbage() deletes a blob.

import type { Readable } from 'node:stream';

export interface BlobInfo {
  id: string;
  size: number;
  /** When the blob was written or last re-put. */
  touchedAt: Date;
}

export interface BlobRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface BlobStore {
  readonly kind: 'fs' | 'postgres';
  put(data: Uint8Array): Promise<{ id: string; size: number }>;
  /** Stream a message in; rejects (leaving nothing behind) once more than maxBytes arrive. */
  putStream(source: AsyncIterable<Uint8Array>, maxBytes?: number): Promise<{ id: string; size: number }>;
  get(id: string): Promise<Buffer>;
  /** Reads a byte range, inclusive on both ends; clamps to the blob's size. */
  getRange(id: string, range: BlobRange): Promise<Buffer>;
  createReadStream(id: string, range?: BlobRange): Readable;
  stat(id: string): Promise<BlobInfo | undefined>;
  list(): AsyncIterable<BlobInfo>;
  /** Removes a blob, unless it was re-put after `unlessTouchedAfter` (the GC race). */
  delete(id: string, unlessTouchedAfter?: Date): Promise<void>;
  close(): Promise<void>;
}

export class BlobTooLarge extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`message exceeds the size limit of ${limit} bytes`);
    this.name = 'BlobTooLarge';
    this.limit = limit;
  }
}

export class BlobMissing extends Error {
  readonly id: string;
  constructor(id: string) {
    super(`blob ${id} is missing`);
    this.name = 'BlobMissing';
    this.id = id;
  }
}

/** Default of `store.inline_blob_max` (SQLite): most messages without attachments fit. */
export const DEFAULT_INLINE_BLOB_MAX = 64 * 1024;

/** The largest body an SQLite store keeps in its database; larger ones are files. */
export const MAX_INLINE_BLOB = 256 * 1024;

export const BLOB_ID_PATTERN = /^[0-9a-f]{64}$/;
