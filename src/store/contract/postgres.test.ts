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
import { runSearchIndexContract } from './search-suite.js';
import { runAdminContract } from './admin-suite.js';
import { createTestDatabase, PG_ADMIN_URL } from './pg-test-db.js';
import pg from 'pg';
import { StoreUnavailable } from '../errors.js';

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

runAdminContract({
  name: 'postgres',
  async open() {
    const db = await createTestDatabase();
    const dir = await mkdtemp(join(tmpdir(), 'steadymail-pgadmin-'));
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

runSearchIndexContract({
  name: 'postgres',
  async open(searchText) {
    const db = await createTestDatabase();
    const dir = await mkdtemp(join(tmpdir(), 'steadymail-pgsearch-'));
    const store = await openStore({ driver: 'postgres', url: db.url, dataDir: dir, searchText });
    return {
      store,
      reopen: (other) => openStore({ driver: 'postgres', url: db.url, dataDir: dir, searchText: other }),
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

test('a lost database connection gives StoreUnavailable, then the store reconnects by itself', async () => {
  const db = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-pglost-'));
  const store = await openStore({ driver: 'postgres', url: db.url, dataDir: dir });
  try {
    await store.createDomain('example.org');
    const name = new URL(db.url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    // Kill every connection the store holds, as a PostgreSQL restart would.
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
    await admin.end();
    // Every failure while the pool replaces its dead connections must be a
    // StoreUnavailable (a temporary error for clients), and it must recover.
    let successesInARow = 0;
    for (let i = 0; i < 50 && successesInARow < 5; i++) {
      try {
        await store.listDomains();
        successesInARow++;
      } catch (err) {
        assert.ok(err instanceof StoreUnavailable, `expected StoreUnavailable, got ${String(err)}`);
        successesInARow = 0;
      }
    }
    assert.equal(successesInARow, 5, 'the store works again');
    assert.deepEqual((await store.listDomains()).map((d) => d.name), ['example.org']);
    await store.createDomain('after.example');
  } finally {
    await store.close();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
});
