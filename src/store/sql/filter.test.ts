// The filter's rows on SQLite and PostgreSQL: greylisting triplets through their life
// (new → waiting → passed → expired), per-account settings and lists, learnt senders,
// and that all of it goes with a deleted account.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../open.js';
import type { Store } from '../store.js';
import { createTestDatabase } from '../contract/pg-test-db.js';

const policy = { delayMs: 60_000, retryWindowMs: 3_600_000, passMs: 86_400_000 };

async function withStore(driver: 'sqlite' | 'postgres', fn: (store: Store) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-filterstore-'));
  const db = driver === 'postgres' ? await createTestDatabase() : null;
  const store = db ? await openStore({ driver: 'postgres', url: db.url, dataDir: dir }) : await openStore({ driver: 'sqlite', dataDir: dir });
  try {
    await fn(store);
  } finally {
    await store.close();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

for (const driver of ['sqlite', 'postgres'] as const) {
  test(`${driver}: a greylisting triplet waits, passes after the delay, stays passed, and expires`, () =>
    withStore(driver, async (store) => {
      const t = '192.0.2.0/24|a@remote.test|alice@example.org';
      const t0 = 1_000_000_000_000;
      assert.deepEqual(await store.greylist(t, policy, t0), { pass: false, retryAfterMs: 60_000 });
      assert.deepEqual(await store.greylist(t, policy, t0 + 20_000), { pass: false, retryAfterMs: 40_000 }, 'an early retry waits for the rest');
      assert.deepEqual(await store.greylist(t, policy, t0 + 60_000), { pass: true });
      assert.deepEqual(await store.greylist(t, policy, t0 + 80_000_000), { pass: true }, 'seen within passMs of the last time');
      assert.deepEqual(await store.greylist(t, policy, t0 + 80_000_000 + 86_400_001), { pass: false, retryAfterMs: 60_000 }, 'unseen for longer than passMs: start over');

      const u = '192.0.2.0/24|b@remote.test|alice@example.org';
      assert.equal((await store.greylist(u, policy, t0)).pass, false);
      assert.deepEqual(await store.greylist(u, policy, t0 + 3_600_001), { pass: false, retryAfterMs: 60_000 }, 'a retry after the window starts over');

      await store.greylistPass('198.51.100.0/24|c@remote.test|alice@example.org', t0);
      assert.deepEqual(await store.greylist('198.51.100.0/24|c@remote.test|alice@example.org', policy, t0 + 1), { pass: true });

      assert.equal(await store.pruneGreylist(new Date(t0 + 2)), 1, 'only the triplet last seen before the cut');
    }));

  test(`${driver}: account filter settings, lists and learnt senders; gone with the account`, () =>
    withStore(driver, async (store) => {
      await store.createDomain('example.org');
      const a = await store.createAccount({ address: 'alice@example.org', passwordHash: 'x' });
      assert.deepEqual(await store.getFilterSettings(a.id), { junkScore: null, allow: [], block: [] });
      await store.setJunkScore(a.id, 3.5);
      await store.setFilterListEntry(a.id, 'allow', 'Friends.Example', true);
      await store.setFilterListEntry(a.id, 'allow', 'friends.example', true);
      await store.setFilterListEntry(a.id, 'block', 'spam@bad.example', true);
      assert.deepEqual(await store.getFilterSettings(a.id), { junkScore: 3.5, allow: ['friends.example'], block: ['spam@bad.example'] });
      await store.setFilterListEntry(a.id, 'allow', 'friends.example', false);
      await store.setJunkScore(a.id, null);
      assert.deepEqual(await store.getFilterSettings(a.id), { junkScore: null, allow: [], block: ['spam@bad.example'] });
      await assert.rejects(store.setFilterListEntry(a.id, 'block', 'two words', true), /invalid sender/);

      await store.learnSender(a.id, 'Promo@Shop.Example', 'spam');
      await store.learnSender(a.id, 'promo@shop.example', 'spam');
      await store.learnSender(a.id, 'promo@shop.example', 'ham');
      assert.deepEqual(await store.senderReputation(a.id, 'promo@shop.example'), { spam: 2, ham: 1 });

      await store.deleteAccount(a.id, { actor: 'test', reason: 'test' });
      const b = await store.createAccount({ address: 'bob@example.org', passwordHash: 'x' });
      assert.deepEqual(await store.getFilterSettings(a.id), { junkScore: null, allow: [], block: [] });
      assert.deepEqual(await store.senderReputation(a.id, 'promo@shop.example'), { spam: 0, ham: 0 });
      assert.deepEqual(await store.getFilterSettings(b.id), { junkScore: null, allow: [], block: [] });
    }));
}
