// The same store contract on PostgreSQL (farm mode), plus two processes — two
// nodes — appending to one mailbox at once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../open.js';
import { runStoreContract } from './suite.js';
import { assertConcurrentProcessAppends } from './concurrent-processes.js';
import { createTestDatabase } from './pg-test-db.js';

runStoreContract({
  name: 'postgres',
  async open() {
    const db = await createTestDatabase();
    const dir = await mkdtemp(join(tmpdir(), 'steadymail-pgstore-'));
    const store = await openStore({ driver: 'postgres', url: db.url, dataDir: dir });
    return {
      store,
      cleanup: async () => {
        await db.drop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
});

test('two nodes appending to one PostgreSQL mailbox get distinct, gapless UIDs', async () => {
  const db = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-pgmp-'));
  try {
    await assertConcurrentProcessAppends({ driver: 'postgres', url: db.url, dataDir: dir });
  } finally {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a change committed on one node reaches listeners on another within a second', async () => {
  const db = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-pgbus-'));
  const a = await openStore({ driver: 'postgres', url: db.url, dataDir: dir });
  const b = await openStore({ driver: 'postgres', url: db.url, dataDir: dir });
  try {
    await a.createDomain('example.org');
    const acc = await a.createAccount({ address: 'x@example.org', passwordHash: 'x' });
    const inbox = (await a.getMailbox(acc.id, 'INBOX'))!;
    const heard = new Promise<{ kind: string; uids?: number[] }>((resolve) => {
      const off = b.bus.subscribe(acc.id, (e) => {
        off();
        resolve(e);
      });
    });
    const blob = await a.blobs.put(Buffer.from('hello'));
    const started = Date.now();
    const r = await a.appendMessage(inbox.id, { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: {} });
    const event = await Promise.race([heard, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no event within 1 s')), 1000))]);
    assert.equal(event.kind, 'exists');
    assert.deepEqual(event.uids, [r.uid]);
    assert.ok(Date.now() - started < 1000);
    // The other node reads the same blob.
    assert.deepEqual(await b.blobs.get(blob.id), Buffer.from('hello'));
  } finally {
    await a.close();
    await b.close();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
});
