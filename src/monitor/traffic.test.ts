import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../log.js';
import { openStore } from '../store/open.js';
import { MessageCounters } from './counters.js';
import { startTrafficRecorder } from './traffic.js';

const logger = createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() }));

test('two processes’ counters add up in the hour row; nothing counted, nothing written', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-traffic-'));
  const store = await openStore({ driver: 'sqlite', dataDir: dir });
  try {
    const a = new MessageCounters();
    const b = new MessageCounters();
    a.counts.received = 5; // counted before the recorder started: not this recorder's to add
    const ra = startTrafficRecorder(store, a, logger, 3600_000);
    const rb = startTrafficRecorder(store, b, logger, 3600_000);
    await ra.flush();
    assert.deepEqual(await store.admin.listTraffic(new Date(Date.now() - 3600_000)), []);
    a.counts.received += 3;
    a.counts.transmitted += 2;
    b.counts.received += 1;
    b.counts.deliveredLocal += 4;
    b.counts.failed += 1;
    await Promise.all([ra.flush(), rb.flush()]);
    a.counts.received += 1;
    await ra.stop(); // the last figures are written at shutdown
    await rb.stop();
    // Summed over the rows: the flushes may straddle the turn of an hour.
    const rows = await store.admin.listTraffic(new Date(Date.now() - 3600_000));
    const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((n, r) => n + f(r), 0);
    assert.deepEqual([sum((r) => r.received), sum((r) => r.deliveredLocal), sum((r) => r.transmitted), sum((r) => r.failed)], [5, 4, 2, 1]);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
