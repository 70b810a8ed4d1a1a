// WAL checkpoints of an SQLite store, on a thread of their own.
//
// A checkpoint copies the pages committed to the WAL back into the database file and
// fsyncs it. SQLite runs one inside the COMMIT that pushes the WAL past
// `wal_autocheckpoint` pages: with better-sqlite3 that is on the event loop, which
// then stalls for tens of milliseconds every few hundred deliveries, every session of
// the process with it. A busy process moves them to a worker thread with its own
// connection, which runs a PASSIVE checkpoint (it never blocks readers or writers)
// every CHECKPOINT_INTERVAL_MS. Writers restart the WAL from its beginning once it is
// fully checkpointed, so it stays small.
//
// The worker starts only once a process has committed START_AFTER_BATCHES batches:
// short-lived processes (the CLI) never pay for a thread. The event loop's own
// automatic checkpoint stays on as a safety net at a much higher threshold, and goes
// back to the usual one if the worker fails.

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

/** Pages of WAL after which the event loop checkpoints by itself (SQLite's default is 1000). */
export const EVENT_LOOP_CHECKPOINT_PAGES = 4000;
/**
 * The same while the worker runs. Under steady writes the worker's checkpoints never
 * quite catch up with the last commit, and only a complete one lets the next writer
 * restart the WAL; the event loop's checkpoint at this size finds nearly every frame
 * copied already (it is short) and is complete, so the WAL stays below ~40 MB.
 */
const SAFETY_NET_CHECKPOINT_PAGES = 10_000;
const START_AFTER_BATCHES = 200;
const CHECKPOINT_INTERVAL_MS = 100;

// The worker's code: CommonJS in an eval'd worker, so it runs the same from the
// sources and from the build. better-sqlite3 is required by the path resolved here.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
try {
  db = new Database(workerData.path, { fileMustExist: true, timeout: 0 });
} catch (err) {
  parentPort.postMessage({ error: 'cannot open ' + workerData.path + ': ' + String(err && err.message) });
  process.exit(1);
}
let timer;
const tick = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    // Busy or locked: another process checkpoints or holds the lock; try again later.
    if (!/busy|locked/i.test(String(err && err.code))) {
      parentPort.postMessage({ error: String(err && err.message) });
    }
  }
  timer = setTimeout(tick, workerData.intervalMs);
};
parentPort.on('message', (m) => {
  if (m === 'close') {
    clearTimeout(timer);
    try { db.close(); } finally { parentPort.close(); }
  }
});
tick();
`;

export class Checkpointer {
  private worker: Worker | undefined;
  private batches = 0;
  private stopped = false;
  /** Errors the worker reported (for diagnostics and tests). */
  readonly errors: string[] = [];

  constructor(
    private readonly sqlite: BetterSqlite3.Database,
    private readonly path: string,
  ) {
    sqlite.pragma(`wal_autocheckpoint = ${EVENT_LOOP_CHECKPOINT_PAGES}`);
  }

  /** True while the worker thread runs. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Called after each committed batch. */
  committed(): void {
    if (this.worker || this.stopped || ++this.batches < START_AFTER_BATCHES) return;
    this.start();
  }

  start(): void {
    if (this.worker || this.stopped) return;
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, path: this.path, intervalMs: CHECKPOINT_INTERVAL_MS } });
    // The thread must not keep a process alive that is otherwise done.
    worker.unref();
    worker.on('message', (m: { error?: string }) => {
      if (m.error) this.errors.push(m.error);
    });
    const fail = () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.stopped = true;
      if (this.sqlite.open) this.sqlite.pragma(`wal_autocheckpoint = ${EVENT_LOOP_CHECKPOINT_PAGES}`);
    };
    worker.on('error', (err) => {
      // An error from the thread arrives as a copy, not always as an Error.
      const message = (err as { message?: unknown } | null)?.message;
      this.errors.push(typeof message === 'string' ? message : String(err));
      fail();
    });
    worker.on('exit', (code) => {
      if (code !== 0 && this.worker === worker) this.errors.push(`the checkpoint thread exited with code ${code}`);
      fail();
    });
    this.worker = worker;
    this.sqlite.pragma(`wal_autocheckpoint = ${SAFETY_NET_CHECKPOINT_PAGES}`);
  }

  /** Stops the worker; it closes its connection first. */
  async close(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close');
    const timer = setTimeout(() => void worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }
}
