// One account backed up and restored while another account of the same store keeps
// receiving mail: the restored account has the same mailboxes, messages (bytes, flags,
// keywords, dates, order), password and quota; the other account is untouched; a repeated
// restore adds nothing, a partial loss is filled in, and restoring under another address
// works. On SQLite and on PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore, type StoreOptions } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';
import { cliIn } from './cli-inprocess.js';
import { deliver, rawMessage, tempDir } from './helpers.js';

const AUDIT = { actor: 'test', reason: 'account restore test' };

type Content = Array<[string, string | null, Array<[string, string[], string[], number]>]>;

async function content(store: Store, address: string): Promise<Content> {
  const account = (await store.getAccount(address))!;
  const out: Content = [];
  for (const box of await store.listMailboxes(account.id)) {
    const msgs = [];
    for (const m of await store.listMessages(box.id)) msgs.push([(await store.blobs.get(m.blobId)).toString('latin1'), m.flags, m.keywords, m.internalDate.getTime()] as [string, string[], string[], number]);
    out.push([box.name, box.specialUse, msgs]);
  }
  return out;
}

async function roundTrip(options: StoreOptions, env: Record<string, string>): Promise<void> {
  const dir = options.dataDir;
  const store = await openStore(options);
  try {
    await store.createDomain('example.org');
    const alice = await store.createAccount({ address: 'alice@example.org', passwordHash: 'hash-of-alice', quotaBytes: 5_000_000 });
    const bob = await store.createAccount({ address: 'bob@example.org', passwordHash: 'hash-of-bob' });
    const inbox = (await store.getMailbox(alice.id, 'INBOX'))!.id;
    const work = await store.createMailbox(alice.id, 'Work/Projects');
    const sent = (await store.getMailbox(alice.id, 'Sent'))!.id;
    for (let i = 1; i <= 12; i++) await deliver(store, inbox, rawMessage(i));
    await store.updateFlags(inbox, { uids: [2, 5], operation: 'add', flags: ['\\Seen', '\\Flagged'], keywords: ['$Important'] });
    await deliver(store, work.id, rawMessage(40));
    await deliver(store, work.id, rawMessage(1)); // the same bytes in two mailboxes
    await deliver(store, sent, rawMessage(50));
    await store.setSubscribed(alice.id, 'Work/Projects', false);
    const bobInbox = (await store.getMailbox(bob.id, 'INBOX'))!.id;
    const bobAcked: string[] = [];
    for (let i = 200; i < 205; i++) bobAcked.push((await deliver(store, bobInbox, rawMessage(i))).messageId);

    // Bob keeps receiving mail through everything below.
    let stop = false;
    let n = 300;
    const bobMail = (async () => {
      while (!stop) {
        bobAcked.push((await deliver(store, bobInbox, rawMessage(n++))).messageId);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      const before = await content(store, 'alice@example.org');
      const backupDir = join(dir, 'alice-backup');
      const b = await cliIn(dir, ['backup', '--account', 'Alice@Example.org', backupDir], '', env);
      assert.equal(b.code, 0, b.err);
      assert.match(b.out, /backed up alice@example\.org .*: 15 message\(s\), 14 message file\(s\) copied/);

      await store.deleteAccount(alice.id, AUDIT);
      const r = await cliIn(dir, ['restore', backupDir], '', env);
      assert.equal(r.code, 0, r.err + r.out);
      assert.match(r.out, /created alice@example\.org: 15 message\(s\) restored, 0 already there/);
      assert.match(r.out, /check: no problems found/);
      assert.deepEqual(await content(store, 'alice@example.org'), before);
      const restored = (await store.getAccount('alice@example.org'))!;
      assert.deepEqual([restored.passwordHash, restored.quotaBytes], ['hash-of-alice', 5_000_000]);
      assert.equal((await store.getMailbox(restored.id, 'Work/Projects'))!.subscribed, false);

      const again = await cliIn(dir, ['restore', backupDir], '', env);
      assert.match(again.out, /completed alice@example\.org: 0 message\(s\) restored, 15 already there/);
      const newInbox = (await store.getMailbox(restored.id, 'INBOX'))!.id;
      await store.expungeMessages(newInbox, [(await store.listMessages(newInbox))[3]!.uid], AUDIT);
      const fill = await cliIn(dir, ['restore', backupDir], '', env);
      assert.match(fill.out, /completed alice@example\.org: 1 message\(s\) restored, 14 already there/);

      const carol = await cliIn(dir, ['restore', '--account', 'carol@example.org', backupDir], '', env);
      assert.equal(carol.code, 0, carol.err);
      assert.equal((await content(store, 'carol@example.org')).reduce((s, [, , m]) => s + m.length, 0), 15);

      const whole = await cliIn(dir, ['restore', '--account', 'x@example.org', join(dir, 'nothing')], '', env);
      assert.equal(whole.code, 65, whole.err);
    } finally {
      stop = true;
      await bobMail;
    }
    const bobNow = new Set((await store.listMessages(bobInbox)).map((m) => m.messageId));
    assert.deepEqual(bobAcked.filter((id) => !bobNow.has(id)), [], "every message of bob's is still there");
    assert.equal(bobNow.size, bobAcked.length, 'and nothing was added to bob');
    assert.ok(bobAcked.length > 10, 'bob received mail during backup and restore');
    const check = await cliIn(dir, ['check'], '', env);
    assert.equal(check.code, 0, check.out + check.err);
  } finally {
    await store.close();
  }
}

test('single account backup and restore on SQLite beside a busy account', async () => {
  const dir = tempDir();
  try {
    await roundTrip({ driver: 'sqlite', dataDir: dir }, {});
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('single account backup and restore on PostgreSQL beside a busy account', async () => {
  const dir = tempDir();
  const db = await createTestDatabase();
  try {
    await roundTrip({ driver: 'postgres', url: db.url, dataDir: dir }, { STEADYMAIL_STORE_DRIVER: 'postgres', STEADYMAIL_STORE_URL: db.url });
  } finally {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
});
