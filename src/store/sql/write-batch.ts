// Group commit. Every write of the SQL store runs through one WriteBatcher:
// operations that arrive while a transaction is committing wait and then share
// the next transaction, so N concurrent deliveries cost one commit (one WAL
// fsync), not N. Each operation runs inside its own SAVEPOINT, so one failing
// operation rolls back only itself. Promises resolve, and change events are
// published, only after COMMIT has returned.

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
    private readonly maxBatch = 256,
  ) {}

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
    while (this.running) await new Promise((r) => setTimeout(r, 5));
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        await this.runBatch(batch);
      }
    } finally {
      this.running = false;
      if (this.queue.length > 0) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    // A lone operation needs no savepoint: if it fails, the whole transaction is rolled back.
    const single = batch.length === 1;
    let committed = false;
    try {
      await this.db.connection().execute(async (conn) => {
        await sql.raw(this.dialect === 'sqlite' ? 'begin immediate' : 'begin').execute(conn);
        try {
          for (const p of batch) {
            if (!single) await sql.raw('savepoint op').execute(conn);
            try {
              p.result = { ok: true, value: await p.op(conn, p.events) };
              if (!single) await sql.raw('release savepoint op').execute(conn);
            } catch (error) {
              p.events.length = 0;
              p.result = { ok: false, error };
              if (single) {
                await sql.raw('rollback').execute(conn);
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
      const error = asUnavailable(err);
      for (const p of batch) p.reject(error);
      return;
    }
    if (committed) {
      this.counters.batches++;
      this.counters.operations += batch.length;
    }
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

function asUnavailable(err: unknown): Error {
  return err instanceof Error && err.name.endsWith('StoreUnavailable')
    ? err
    : new StoreUnavailable(`the database transaction failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
