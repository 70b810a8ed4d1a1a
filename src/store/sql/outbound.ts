// Working the outbound queue: claims with leases, and the outcome of an attempt.
//
// Rules:
// - A claim is one UPDATE whose WHERE repeats the "due and unleased" test, so that two
//   processes or nodes racing for one row never both get it: SQLite serialises writers,
//   and PostgreSQL re-checks the outer WHERE against the row a concurrent UPDATE left.
// - An outcome clears the lease; a worker that died simply lets its lease expire.
// - Deleting an entry is audited, like every removal.

import { sql } from 'kysely';
import type { Tx } from './write-batch.js';
import { NotFound } from '../errors.js';
import type { AuditContext, QueueEntry } from '../types.js';
import { toQueueEntry } from './queue.js';
import { writeAudit } from './audit.js';

export async function claimQueueEntries(tx: Tx, holder: string, limit: number, leaseMs: number): Promise<QueueEntry[]> {
  const now = Date.now();
  const rows = await tx
    .updateTable('queue')
    .set({ lease_holder: holder, lease_expires_at: now + leaseMs, updated_at: now })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('queue')
        .select('id')
        .where('state', '=', 'queued')
        .where('next_attempt_at', '<=', now)
        .where((w) => w.or([w('lease_expires_at', 'is', null), w('lease_expires_at', '<', now)]))
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(limit),
    )
    .where('state', '=', 'queued')
    .where((w) => w.or([w('lease_expires_at', 'is', null), w('lease_expires_at', '<', now)]))
    .returningAll()
    .execute();
  return rows.map(toQueueEntry).sort((a, b) => a.id - b.id);
}

async function finish(tx: Tx, id: number, set: { state: 'queued' | 'delivered' | 'failed'; last_error?: string | null; next_attempt_at?: number; attempt: boolean }): Promise<QueueEntry> {
  const now = Date.now();
  const row = await tx
    .updateTable('queue')
    .set({
      state: set.state,
      ...(set.last_error !== undefined ? { last_error: set.last_error } : {}),
      ...(set.next_attempt_at !== undefined ? { next_attempt_at: set.next_attempt_at } : {}),
      attempts: set.attempt ? sql<number>`attempts + 1` : sql<number>`attempts`,
      lease_holder: null,
      lease_expires_at: null,
      updated_at: now,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new NotFound(`queue entry ${id}`);
  return toQueueEntry(row);
}

export function completeQueueEntry(tx: Tx, id: number): Promise<QueueEntry> {
  return finish(tx, id, { state: 'delivered', last_error: null, attempt: true });
}

export function deferQueueEntry(tx: Tx, id: number, error: string, nextAttemptAt: Date): Promise<QueueEntry> {
  return finish(tx, id, { state: 'queued', last_error: error, next_attempt_at: nextAttemptAt.getTime(), attempt: true });
}

export function failQueueEntry(tx: Tx, id: number, error: string): Promise<QueueEntry> {
  return finish(tx, id, { state: 'failed', last_error: error, attempt: true });
}

/** Makes a queued or failed entry due now (an operator's retry); the attempt count stays. */
export function retryQueueEntry(tx: Tx, id: number): Promise<QueueEntry> {
  return finish(tx, id, { state: 'queued', next_attempt_at: Date.now(), attempt: false });
}

export async function getQueueEntry(tx: Tx, id: number): Promise<QueueEntry | undefined> {
  const row = await tx.selectFrom('queue').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toQueueEntry(row) : undefined;
}

export async function deleteQueueEntry(tx: Tx, id: number, audit: AuditContext): Promise<void> {
  const row = await tx.deleteFrom('queue').where('id', '=', id).returningAll().executeTakeFirst();
  if (!row) throw new NotFound(`queue entry ${id}`);
  const e = toQueueEntry(row);
  await writeAudit(tx, {
    ...audit,
    action: 'queue.delete',
    accountId: e.accountId,
    subject: `queue:${e.id}`,
    detail: { domain: e.domain, mailFrom: e.mailFrom, recipients: e.recipients, state: e.state, attempts: e.attempts, blobId: e.blobId },
  });
}
