// The outbound queue's rows. Delivery (claiming with leases, retries,
// bounces) belongs to smtp/queue; this module only stores and lists.

import type { Selectable } from 'kysely';
import type { Tx } from './write-batch.js';
import type { QueueTable } from './schema.js';
import { InvalidInput } from '../errors.js';
import type { NewOutbound, QueueEntry, QueueState } from '../types.js';
import { splitAddress } from './accounts.js';

export function toQueueEntry(r: Selectable<QueueTable>): QueueEntry {
  return {
    id: Number(r.id),
    blobId: r.blob_id,
    size: Number(r.size),
    mailFrom: r.mail_from,
    domain: r.domain,
    recipients: JSON.parse(r.recipients) as string[],
    accountId: r.account_id === null ? null : Number(r.account_id),
    state: r.state as QueueState,
    attempts: Number(r.attempts),
    nextAttemptAt: new Date(Number(r.next_attempt_at)),
    lastError: r.last_error,
    createdAt: new Date(Number(r.created_at)),
    updatedAt: new Date(Number(r.updated_at)),
  };
}

export async function enqueueOutbound(tx: Tx, m: NewOutbound): Promise<QueueEntry[]> {
  if (m.recipients.length === 0) throw new InvalidInput('an outbound message needs at least one recipient');
  const byDomain = new Map<string, string[]>();
  for (const rcpt of m.recipients) {
    const at = rcpt.lastIndexOf('@');
    if (at < 0) throw new InvalidInput(`invalid recipient ${JSON.stringify(rcpt)}`);
    // Domains are compared in their normalised (lower-case A-label) form.
    const domain = splitAddress(`x@${rcpt.slice(at + 1)}`).domain;
    const list = byDomain.get(domain) ?? [];
    if (!list.includes(rcpt)) list.push(rcpt);
    byDomain.set(domain, list);
  }
  const now = Date.now();
  const out: QueueEntry[] = [];
  for (const [domain, recipients] of byDomain) {
    const row = await tx
      .insertInto('queue')
      .values({
        blob_id: m.blobId,
        size: m.size,
        mail_from: m.mailFrom,
        domain,
        recipients: JSON.stringify(recipients),
        account_id: m.accountId ?? null,
        state: 'queued',
        attempts: 0,
        next_attempt_at: now,
        last_error: null,
        lease_holder: null,
        lease_expires_at: null,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    out.push(toQueueEntry(row));
  }
  return out;
}

export async function listQueue(tx: Tx, options: { state?: QueueState; limit?: number }): Promise<QueueEntry[]> {
  let q = tx.selectFrom('queue').selectAll().orderBy('id').limit(options.limit ?? 1000);
  if (options.state) q = q.where('state', '=', options.state);
  return (await q.execute()).map(toQueueEntry);
}
