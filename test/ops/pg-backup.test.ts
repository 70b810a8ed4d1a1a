// Farm mode: steadymail backup (pg_dump) while mail keeps arriving, restore into a
// throwaway empty database, the restored store checks clean and holds every message
// acknowledged before the backup began, with the same UIDs, flags and bodies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.js';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';
import { cliIn } from './cli-inprocess.js';
import { deliver, rawMessage, tempDir } from './helpers.js';

test('PostgreSQL backup under concurrent delivery, restore into an empty database, check', async () => {
  const dir = tempDir();
  const source = await createTestDatabase();
  const target = await createTestDatabase();
  const pgEnv = (url: string) => ({ STEADYMAIL_STORE_DRIVER: 'postgres', STEADYMAIL_STORE_URL: url });
  try {
    const store = await openStore({ driver: 'postgres', url: source.url, dataDir: dir });
    const acknowledged = new Map<string, { uid: number; mailbox: number }>();
    let inbox: number;
    let beforeBackup: string[];
    let backup: Awaited<ReturnType<typeof cliIn>>;
    try {
      await store.createDomain('example.org');
      const alice = await store.createAccount({ address: 'alice@example.org', passwordHash: 'x' });
      await store.createAccount({ address: 'bob@example.org', passwordHash: 'y', quotaBytes: 10_000_000 });
      inbox = (await store.getMailbox(alice.id, 'INBOX'))!.id;
      for (let i = 1; i <= 20; i++) {
        const r = await deliver(store, inbox, rawMessage(i));
        acknowledged.set(r.messageId, { uid: r.uid, mailbox: inbox });
      }
      await store.updateFlags(inbox, { uids: [1, 2, 3], operation: 'add', flags: ['\\Seen'], keywords: ['$Important'] });
      let stop = false;
      let n = 100;
      const appending = (async () => {
        while (!stop) {
          const r = await deliver(store, inbox, rawMessage(n++));
          acknowledged.set(r.messageId, { uid: r.uid, mailbox: inbox });
        }
      })();
      try {
        await new Promise((r) => setTimeout(r, 50));
        beforeBackup = [...acknowledged.keys()];
        backup = await cliIn(dir, ['backup', join(dir, 'pg-backup')], '', pgEnv(source.url));
      } finally {
        stop = true;
        await appending;
      }
      assert.ok(acknowledged.size > beforeBackup.length, 'deliveries went on during the backup');
    } finally {
      await store.close();
    }
    assert.equal(backup.code, 0, backup.err);
    assert.match(backup.out, /pg_dump of the whole store/);

    const restored = await cliIn(dir, ['restore', join(dir, 'pg-backup')], '', pgEnv(target.url));
    assert.equal(restored.code, 0, restored.err + restored.out);
    assert.match(restored.out, /check: no problems found/);
    const again = await cliIn(dir, ['restore', join(dir, 'pg-backup')], '', pgEnv(target.url));
    assert.equal(again.code, 65, 'a database that is not empty is refused');
    assert.match(again.err, /not empty/);

    const copy = await openStore({ driver: 'postgres', url: target.url, dataDir: dir });
    const original = await openStore({ driver: 'postgres', url: source.url, dataDir: dir });
    try {
      assert.deepEqual((await copy.listAccounts()).map((a) => [a.address, a.quotaBytes]), [
        ['alice@example.org', 0],
        ['bob@example.org', 10_000_000],
      ]);
      const alice = (await copy.getAccount('alice@example.org'))!;
      const msgs = await copy.listMessages((await copy.getMailbox(alice.id, 'INBOX'))!.id);
      const ids = new Set(msgs.map((m) => m.messageId));
      for (const id of beforeBackup) assert.ok(ids.has(id), `message ${id} acknowledged before the backup is restored`);
      const originals = new Map((await original.listMessages(inbox)).map((m) => [m.messageId, m]));
      for (const m of msgs) {
        const o = originals.get(m.messageId);
        assert.ok(o, `restored message ${m.messageId} was acknowledged`);
        assert.equal(m.uid, o.uid);
        assert.deepEqual([m.flags, m.keywords], [o.flags, o.keywords]);
        assert.deepEqual(await copy.blobs.get(m.blobId), await original.blobs.get(o.blobId));
      }
      assert.equal(alice.usedBytes, msgs.reduce((s, m) => s + m.size, 0));
      // Sequences came back too: new rows get fresh ids, new mail the next UID.
      const dave = await copy.createAccount({ address: 'dave@example.org', passwordHash: 'z' });
      assert.ok(dave.id > alice.id);
      const next = await deliver(copy, (await copy.getMailbox(alice.id, 'INBOX'))!.id, rawMessage(9999));
      assert.equal(next.uid, Math.max(...msgs.map((m) => m.uid)) + 1);
    } finally {
      await copy.close();
      await original.close();
    }

    // A SQLite backup is not restored into PostgreSQL, and the reverse.
    const sqliteData = join(dir, 'sqlite');
    const s = await openStore({ driver: 'sqlite', dataDir: sqliteData });
    await s.close();
    assert.equal((await cliIn(sqliteData, ['backup', join(dir, 'sqlite-backup')])).code, 0);
    const empty = await createTestDatabase();
    try {
      const wrong = await cliIn(dir, ['restore', join(dir, 'sqlite-backup')], '', pgEnv(empty.url));
      assert.equal(wrong.code, 65);
      assert.match(wrong.err, /backup of a sqlite store/);
    } finally {
      await empty.drop();
    }
    const wrong2 = await cliIn(join(dir, 'fresh'), ['restore', join(dir, 'pg-backup')]);
    assert.equal(wrong2.code, 65);
    assert.match(wrong2.err, /backup of a postgres store/);
  } finally {
    await source.drop();
    await target.drop();
    await rm(dir, { recursive: true, force: true });
  }
});
