// The backlog pass indexes what was stored before the index (or by a process
// without the extractor), one process at a time, and stops promptly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from './open.js';
import { startSearchBacklog } from './search-backlog.js';
import { SPLIT_V1 } from './contract/search-suite.js';

test('two processes share the backlog through the lease; every message ends up indexed once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-backlog-'));
  const old = await openStore({ driver: 'sqlite', dataDir: dir });
  const a = await openStore({ driver: 'sqlite', dataDir: dir, searchText: SPLIT_V1 });
  const b = await openStore({ driver: 'sqlite', dataDir: dir, searchText: SPLIT_V1 });
  try {
    await old.createDomain('example.org');
    const acc = await old.createAccount({ address: 'x@example.org', passwordHash: 'x' });
    const inbox = (await old.getMailbox(acc.id, 'INBOX'))!.id;
    for (let i = 0; i < 45; i++) {
      const blob = await old.blobs.put(Buffer.from(`Subject: ${i}\r\n\r\nmessage number ${i} walrus\r\n`));
      await old.appendMessage(inbox, { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: {} });
    }
    assert.equal((await a.searchText(inbox, { field: 'body', value: 'walrus' })).unindexed.length, 45);
    const done: number[] = [];
    const errors: unknown[] = [];
    const opts = { batch: 10, pauseMs: 1, retryMs: 20, onError: (e: unknown) => errors.push(e), onDone: (n: number) => done.push(n) };
    const pa = startSearchBacklog(a, { ...opts, holder: 'a' });
    const pb = startSearchBacklog(b, { ...opts, holder: 'b' });
    await Promise.all([pa.finished, pb.finished]);
    assert.deepEqual(errors, []);
    assert.equal(done.length, 2);
    assert.equal(done[0]! + done[1]!, 45, 'no message indexed twice');
    const r = await a.searchText(inbox, { field: 'body', value: 'walrus' });
    assert.equal(r.matched.length, 45);
    assert.deepEqual(r.unindexed, []);
    // A pass waiting for the lease stops at once.
    assert.equal(await a.acquireLease('search-backlog', 'someone-else', 60_000), true);
    const waiting = startSearchBacklog(b, { ...opts, holder: 'b', retryMs: 60_000 });
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 50));
    await waiting.stop();
    assert.ok(Date.now() - started < 2000);
  } finally {
    await old.close();
    await a.close();
    await b.close();
    await rm(dir, { recursive: true, force: true });
  }
});
