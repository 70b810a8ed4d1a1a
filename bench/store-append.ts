// Appends/s into one SQLite store for 1 and 20 concurrent writers of 10 KiB
// messages: each append is a durable blob write (fsync) plus a metadata
// commit; group commit lets concurrent writers share commits.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/open.js';
import type { SqlStore } from '../src/store/sql/sql-store.js';

export interface AppendResult {
  writers: number;
  appends: number;
  seconds: number;
  perSecond: number;
  commits: number;
  /** Store operations (a body, a message) per commit. */
  operationsPerCommit: number;
}

export async function benchAppend(writers: number, durationMs: number): Promise<AppendResult> {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-bench-'));
  const store = await openStore({ driver: 'sqlite', dataDir: dir });
  try {
    await store.createDomain('bench.test');
    const account = await store.createAccount({ address: 'bench@bench.test', passwordHash: 'x' });
    const inbox = (await store.getMailbox(account.id, 'INBOX'))!;
    // Every message is distinct (its own Message-ID, so its own blob); the random
    // body is made once, so that the writers measure the store, not the generator.
    const body = randomBytes(10 * 1024);
    let sequence = 0;
    let appends = 0;
    const before = { ...(store as SqlStore).writes.counters };
    const start = performance.now();
    const deadline = start + durationMs;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (performance.now() < deadline) {
          const header = Buffer.from(`From: a@bench.test\r\nTo: bench@bench.test\r\nSubject: bench\r\nMessage-ID: <${++sequence}.${process.pid}@bench.test>\r\n\r\n`);
          const raw = Buffer.concat([header, body.subarray(header.length)]);
          const blob = await store.blobs.put(raw);
          await store.appendMessage(inbox.id, { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: {} });
          appends++;
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    const counters = (store as SqlStore).writes.counters;
    const commits = counters.batches - before.batches;
    const operations = counters.operations - before.operations;
    return { writers, appends, seconds, perSecond: appends / seconds, commits, operationsPerCommit: operations / Math.max(1, commits) };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}
