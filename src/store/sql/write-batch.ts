// Group commit. Every write of the SQL store runs through one WriteBatcher:
// operations that arrive while a transaction is committing wait and then share
// the next transaction, so N concurrent deliveries cost one commit, not N.
// Each operation runs inside its own SAVEPOINT, so one failing operation rolls
// back only itself. Promises resolve, and change events are published, only
// after COMMIT has returned and the durability barrier (SQLite: an fsync of
// the WAL, run off the event loop) has completed. The next batch may commit
// while the previous one's barrier is still running: its own barrier then
// covers both.

import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import type { ChangeEvent } from '../store.js';
import { StoreUnavailable } from '../errors.js';

export type Tx = Kysely<Database> | Transaction<Database>;

export type WriteOp<T> = (tx: Tx, events: ChangeEvent[]) => Promise<T>;

interface Pending {
  op: WriteOp<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  events: ChangeEvent[];
  result?: { ok: true; value: unknown } | { ok: false; error: unknown };
}

export class WriteBatcher {
  private queue: Pending[] = [];
  private running = false;
  private closed = false;
  /** Batches committed and operations run; read by benchmarks and metrics. */
  readonly counters = { batches: 0, operations: 0 };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: 'sqlite' | 'postgres',
    private readonly publish: (event: ChangeEvent) => void,
    private readonly barrier: (() => Promise<void>) | undefined = undefined,
    private readonly maxBatch = 256,
  ) {}

  private inFlightBarriers = 0;

  run<T>(op: WriteOp<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailable('the store is closing'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op: op, resolve: resolve as (v: unknown) => void, reject, events: [] });
      if (!this.running) {
        this.running = true;
        // Let the operations started in this tick join the batch.
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Waits for queued work, then refuses new work. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running || this.inFlightBarriers > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        // A deadlock (PostgreSQL, between nodes) or a busy database (SQLite,
        // between processes) rolls everything back: run the batch again.
        let safe = false;
        for (let attempt = 1; ; attempt++) {
          const outcome = await this.runBatch(batch, attempt < MAX_ATTEMPTS, safe);
          if (outcome === 'done') break;
          if (outcome === 'safe') {
            // An operation failed: run the batch again, each operation in its own savepoint.
            safe = true;
            continue;
          }
          await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20));
        }
      }
    } finally {
      this.running = false;
      if (this.queue.length > 0) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    }
  }

  /**
   * Runs a batch in one transaction. Optimistically, without savepoints: almost
   * every batch succeeds whole, and savepoints cost two statements per
   * operation. If an operation fails, the transaction is rolled back and the
   * caller runs the batch again `safe`, each operation in its own savepoint, so
   * the failure rolls back only itself. 'retry' means a transient conflict.
   */
  private async runBatch(batch: Pending[], mayRetry: boolean, safe: boolean): Promise<'done' | 'retry' | 'safe'> {
    for (const p of batch) {
      p.events.length = 0;
      delete p.result;
    }
    // A lone operation needs no savepoint: if it fails, the whole transaction is rolled back.
    const single = batch.length === 1;
    const savepoints = safe && !single;
    let committed = false;
    let needSafe = false;
    try {
      await this.db.connection().execute(async (conn) => {
        await sql.raw(this.dialect === 'sqlite' ? 'begin immediate' : 'begin').execute(conn);
        try {
          for (const p of batch) {
            if (savepoints) await sql.raw('savepoint op').execute(conn);
            try {
              p.result = { ok: true, value: await p.op(conn, p.events) };
              if (savepoints) await sql.raw('release savepoint op').execute(conn);
            } catch (error) {
              if (isTransient(error)) throw error;
              p.events.length = 0;
              p.result = { ok: false, error };
              if (single || !savepoints) {
                await sql.raw('rollback').execute(conn);
                needSafe = !single;
                return;
              }
              await sql.raw('rollback to savepoint op').execute(conn);
              await sql.raw('release savepoint op').execute(conn);
            }
          }
          await sql.raw('commit').execute(conn);
          committed = true;
        } catch (err) {
          await sql.raw('rollback').execute(conn).catch(() => undefined);
          throw err;
        }
      });
    } catch (err) {
      // The transaction as a whole failed (busy database, disk full, lost
      // connection): nothing was written.
      if (mayRetry && isTransient(err)) return 'retry';
      const error = asUnavailable(err);
      for (const p of batch) p.reject(error);
      return 'done';
    }
    if (needSafe) return 'safe';
    if (committed) {
      this.counters.batches++;
      this.counters.operations += batch.length;
    }
    if (committed && this.barrier) {
      this.inFlightBarriers++;
      this.barrier().then(
        () => {
          this.inFlightBarriers--;
          this.settle(batch, true);
        },
        (err: unknown) => {
          this.inFlightBarriers--;
          const error = new StoreUnavailable('the database could not be synced to disk', { cause: err });
          for (const p of batch) p.reject(error);
        },
      );
      return 'done';
    }
    this.settle(batch, committed);
    return 'done';
  }

  private settle(batch: Pending[], committed: boolean): void {
    for (const p of batch) {
      const r = p.result;
      if (!r) {
        p.reject(new StoreUnavailable('operation did not run'));
      } else if (r.ok && committed) {
        for (const e of p.events) this.publish(e);
        p.resolve(r.value);
      } else if (!r.ok) {
        p.reject(r.error);
      } else {
        p.reject(new StoreUnavailable('transaction was not committed'));
      }
    }
  }
}

const MAX_ATTEMPTS = 5;

/** PostgreSQL deadlock / serialization failure, SQLite busy or locked. */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === '40P01' || code === '40001' || code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

function asUnavailable(err: unknown): Error {
  return err instanceof Error && err.name.endsWith('StoreUnavailable')
    ? err
    : new StoreUnavailable(`the database transaction failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
