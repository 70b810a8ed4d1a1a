// steadymail backup while mail keeps arriving, then restore into an empty data
// directory: the restored store checks clean and holds every message acknowledged
// before the backup began (and nothing that was never acknowledged).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { assertBuilt, deliver, openData, rawMessage, seed, steadymail, tempDir } from './helpers.js';

before(assertBuilt);

test('online backup during deliveries, incremental re-run, restore and check', async () => {
  const dir = tempDir();
  const data = join(dir, 'data');
  const target = join(dir, 'backup');
  try {
    const { inbox } = await seed(data, 20);
    const store = await openData(data);
    const acknowledged: string[] = (await store.listMessages(inbox)).map((m) => m.messageId);
    let stop = false;
    let n = 100;
    const appending = (async () => {
      while (!stop) acknowledged.push((await deliver(store, inbox, rawMessage(n++))).messageId);
    })();
    let beforeBackup: string[];
    let first: Awaited<ReturnType<typeof steadymail>>;
    try {
      await new Promise((r) => setTimeout(r, 50));
      beforeBackup = acknowledged.slice();
      first = await steadymail(data, ['backup', target]);
    } finally {
      stop = true;
      await appending;
      await store.close();
    }
    assert.equal(first.code, 0, first.stderr);
    assert.ok(acknowledged.length > beforeBackup.length, 'deliveries went on during the backup');

    const second = await steadymail(data, ['backup', target]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /[1-9]\d* already there/, 'blobs already in the backup are not copied again');

    const restored = join(dir, 'restored');
    const r = await steadymail(restored, ['restore', target]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /check: no problems found/);
    const refused = await steadymail(restored, ['restore', target]);
    assert.equal(refused.code, 65, 'restore refuses a data directory that has a store');

    const copy = await openData(restored);
    try {
      const alice = (await copy.getAccount('alice@example.org'))!;
      const ids = new Set((await copy.listMessages((await copy.getMailbox(alice.id, 'INBOX'))!.id)).map((m) => m.messageId));
      for (const id of beforeBackup) assert.ok(ids.has(id), `message ${id} acknowledged before the backup is restored`);
      const known = new Set(acknowledged);
      for (const id of ids) assert.ok(known.has(id), `restored message ${id} was acknowledged`);
    } finally {
      await copy.close();
    }
    const clean = await steadymail(restored, ['check', '--hash', '--structure', 'full']);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.ok((await readdir(join(target, 'blobs'))).length > 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
