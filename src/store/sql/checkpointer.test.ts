// WAL checkpoints on a worker thread: the event loop's own threshold is raised while
// it runs, the thread copies the WAL into the database file, and a thread that cannot
// run hands checkpoints back to the event loop.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Checkpointer, EVENT_LOOP_CHECKPOINT_PAGES } from './checkpointer.js';

const autocheckpoint = (db: BetterSqlite3.Database) => db.pragma('wal_autocheckpoint', { simple: true }) as number;

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('the worker checkpoints the WAL into the database file while the event loop only writes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-checkpoint-'));
  const path = join(dir, 'test.db');
  const db = new BetterSqlite3(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('create table t (id integer primary key, data blob)');
    const cp = new Checkpointer(db, path);
    assert.equal(autocheckpoint(db), EVENT_LOOP_CHECKPOINT_PAGES);
    assert.equal(cp.running, false);
    // A short-lived process: a few batches never start the thread.
    for (let i = 0; i < 20; i++) cp.committed();
    assert.equal(cp.running, false);

    cp.start();
    assert.equal(cp.running, true);
    assert.ok(autocheckpoint(db) > EVENT_LOOP_CHECKPOINT_PAGES, 'the event loop checkpoints only as a safety net');
    const before = (await stat(path)).size;
    const insert = db.prepare('insert into t (data) values (?)');
    for (let i = 0; i < 500; i++) insert.run(randomBytes(3000));
    await until('the database file holds the rows', async () => (await stat(path)).size > before + 500 * 3000);
    assert.deepEqual(cp.errors, []);
    await cp.close();
    assert.equal(cp.running, false);
    assert.equal((db.prepare('select count(*) as n from t').get() as { n: number }).n, 500);
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a worker that cannot open the database hands checkpoints back to the event loop', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-checkpoint-'));
  const path = join(dir, 'test.db');
  const db = new BetterSqlite3(path);
  try {
    db.pragma('journal_mode = WAL');
    const cp = new Checkpointer(db, join(dir, 'no-such.db'));
    cp.start();
    await until('the worker has failed', async () => !cp.running);
    assert.equal(autocheckpoint(db), EVENT_LOOP_CHECKPOINT_PAGES);
    assert.match(cp.errors.join('\n'), /no-such\.db|does not exist|unable to open/i);
    // It does not restart by itself.
    for (let i = 0; i < 1000; i++) cp.committed();
    assert.equal(cp.running, false);
    await cp.close();
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
});
