// The SQLite store's blob store: small bodies in the database, large ones as files,
// and every read, listing and removal finding a body wherever it is.

import { test } from 'node:test';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openSqliteBlobReader, openStore } from '../open.js';
import type { Store } from '../store.js';
import { SqliteBlobStore } from './sqlite.js';
import { BlobTooLarge, DEFAULT_INLINE_BLOB_MAX } from './blob-store.js';

async function withStore(inlineBlobMax: number | undefined, fn: (store: Store, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-sqlite-blobs-'));
  const store = await openStore({ driver: 'sqlite', dataDir: dir, ...(inlineBlobMax === undefined ? {} : { inlineBlobMax }) });
  try {
    await fn(store, dir);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function inDatabase(dir: string, id: string): boolean {
  const db = new BetterSqlite3(join(dir, 'steadymail.db'), { readonly: true });
  try {
    return db.prepare('select 1 from inline_blobs where id = ?').get(id) !== undefined;
  } finally {
    db.close();
  }
}

const asFile = (dir: string, id: string) =>
  access(join(dir, 'blobs', id.slice(0, 2), id)).then(
    () => true,
    () => false,
  );

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, off + size);
}

async function readAll(store: Store, id: string, range?: { start: number; end: number }): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of store.blobs.createReadStream(id, range)) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

test('a body up to inline_blob_max is a database row, a larger one a file; both read back whole and in ranges', async () => {
  await withStore(undefined, async (store, dir) => {
    assert.ok(store.blobs instanceof SqliteBlobStore);
    assert.equal(store.blobs.inlineMax, DEFAULT_INLINE_BLOB_MAX);
    const small = randomBytes(DEFAULT_INLINE_BLOB_MAX);
    const large = randomBytes(DEFAULT_INLINE_BLOB_MAX + 1);
    const s = await store.blobs.put(small);
    const l = await store.blobs.put(large);
    assert.deepEqual(s, { id: sha(small), size: small.length });
    assert.deepEqual(l, { id: sha(large), size: large.length });
    assert.equal(inDatabase(dir, s.id), true);
    assert.equal(await asFile(dir, s.id), false);
    assert.equal(inDatabase(dir, l.id), false);
    assert.equal(await asFile(dir, l.id), true);
    for (const [info, bytes] of [
      [s, small],
      [l, large],
    ] as const) {
      assert.ok((await store.blobs.get(info.id)).equals(bytes));
      assert.ok((await store.blobs.getRange(info.id, { start: 10, end: 99 })).equals(bytes.subarray(10, 100)));
      assert.ok((await store.blobs.getRange(info.id, { start: bytes.length - 5, end: bytes.length + 100 })).equals(bytes.subarray(bytes.length - 5)));
      assert.equal((await store.blobs.getRange(info.id, { start: 50, end: 10 })).length, 0);
      assert.ok((await readAll(store, info.id)).equals(bytes));
      assert.ok((await readAll(store, info.id, { start: 3, end: 4000 })).equals(bytes.subarray(3, 4001)));
      assert.equal((await store.blobs.stat(info.id))?.size, bytes.length);
    }
  });
});

test('putStream keeps a stream that ends within the limit in the database and spills a longer one to a file, byte for byte', async () => {
  await withStore(1000, async (store, dir) => {
    const small = randomBytes(1000);
    const large = randomBytes(5000);
    const s = await store.blobs.putStream(pieces(small, 300));
    const l = await store.blobs.putStream(pieces(large, 300));
    assert.equal(s.id, sha(small));
    assert.equal(l.id, sha(large));
    assert.equal(inDatabase(dir, s.id), true);
    assert.equal(await asFile(dir, l.id), true);
    assert.ok((await store.blobs.get(l.id)).equals(large));
    // The size limit holds on both sides of the switch, and nothing is left behind.
    await assert.rejects(store.blobs.putStream(pieces(randomBytes(900), 100), 800), BlobTooLarge);
    await assert.rejects(store.blobs.putStream(pieces(randomBytes(3000), 100), 2500), BlobTooLarge);
    const ids: string[] = [];
    for await (const b of store.blobs.list()) ids.push(b.id);
    assert.deepEqual(ids.sort(), [s.id, l.id].sort());
  });
});

test('a re-put refreshes the age; delete honours the grace cutoff; garbage collection removes only unreferenced old bodies', async () => {
  await withStore(undefined, async (store, dir) => {
    const bytes = Buffer.from('Subject: kept\r\n\r\nbody\r\n');
    const first = await store.blobs.put(bytes);
    const touched = (await store.blobs.stat(first.id))!.touchedAt;
    await new Promise((r) => setTimeout(r, 5));
    const again = await store.blobs.put(bytes);
    assert.equal(again.id, first.id);
    const refreshed = (await store.blobs.stat(first.id))!.touchedAt;
    assert.ok(refreshed > touched, 'a re-put refreshes touched_at');
    // Re-put after the cutoff: kept.
    await store.blobs.delete(first.id, touched);
    assert.equal(inDatabase(dir, first.id), true);
    await store.blobs.delete(first.id, new Date(refreshed.getTime() + 1));
    assert.equal(inDatabase(dir, first.id), false);
    await assert.rejects(store.blobs.get(first.id), /missing/);

    await store.createDomain('gc.test');
    const account = await store.createAccount({ address: 'gc@gc.test', passwordHash: 'x' });
    const inbox = (await store.getMailbox(account.id, 'INBOX'))!;
    const used = await store.blobs.put(Buffer.from('Subject: used\r\n\r\n'));
    const unused = await store.blobs.put(Buffer.from('Subject: unused\r\n\r\n'));
    await store.appendMessage(inbox.id, { blobId: used.id, size: used.size, internalDate: new Date(), structure: {} });
    assert.deepEqual(await store.collectGarbage(3600_000), { examined: 2, removed: 0 }, 'young bodies are deliveries in flight');
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(await store.collectGarbage(0), { examined: 2, removed: 1 });
    assert.equal(await store.blobs.stat(unused.id), undefined);
    assert.ok((await store.blobs.get(used.id)).toString().startsWith('Subject: used'));
  });
});

test('bodies written under another inline_blob_max are found where they are; each is listed once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-sqlite-blobs-'));
  try {
    const asFiles = await openStore({ driver: 'sqlite', dataDir: dir, inlineBlobMax: 0 });
    const a = await asFiles.blobs.put(Buffer.from('written as a file'));
    await asFiles.close();
    assert.equal(await asFile(dir, a.id), true);

    const inline = await openStore({ driver: 'sqlite', dataDir: dir });
    try {
      assert.equal((await inline.blobs.get(a.id)).toString(), 'written as a file');
      // The same bytes again: now a row too; still one body in the listing.
      await inline.blobs.put(Buffer.from('written as a file'));
      const b = await inline.blobs.put(Buffer.from('written as a row'));
      assert.equal(inDatabase(dir, a.id), true);
      const listed: string[] = [];
      for await (const info of inline.blobs.list()) listed.push(info.id);
      assert.deepEqual(listed.sort(), [a.id, b.id].sort());
      // Removal takes it from both places.
      await inline.blobs.delete(a.id);
      assert.equal(inDatabase(dir, a.id), false);
      assert.equal(await asFile(dir, a.id), false);
    } finally {
      await inline.close();
    }

    // A reader for a store no server runs on (move-store) sees both kinds.
    const reader = await openSqliteBlobReader(dir);
    try {
      const listed: string[] = [];
      for await (const info of reader.list()) listed.push(info.id);
      assert.equal(listed.length, 1);
      assert.equal((await reader.get(listed[0]!)).toString(), 'written as a row');
    } finally {
      await reader.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a body in the database survives closing and reopening the store, and another connection sees it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-sqlite-blobs-'));
  try {
    const bytes = randomBytes(20_000);
    const one = await openStore({ driver: 'sqlite', dataDir: dir });
    const other = await openStore({ driver: 'sqlite', dataDir: dir });
    try {
      const put = await one.blobs.put(bytes);
      assert.ok((await other.blobs.get(put.id)).equals(bytes), 'a second connection reads the committed row');
    } finally {
      await one.close();
      await other.close();
    }
    const again = await openStore({ driver: 'sqlite', dataDir: dir });
    try {
      assert.ok((await again.blobs.get(sha(bytes))).equals(bytes));
    } finally {
      await again.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a read stream says ready once the body is found, and fails before any data when it is missing', async () => {
  await withStore(100, async (store) => {
    const small = await store.blobs.put(Buffer.from('small body'));
    const large = await store.blobs.put(randomBytes(1000));
    for (const id of [small.id, large.id]) {
      const stream = store.blobs.createReadStream(id);
      await once(stream, 'ready');
      stream.destroy();
    }
    const missing = store.blobs.createReadStream('0'.repeat(64));
    await assert.rejects(once(missing, 'ready'), (err: NodeJS.ErrnoException) => err.code === 'ENOENT' || /missing/.test(err.message));
    await assert.rejects(readAll(store, '1'.repeat(64)));
  });
});
