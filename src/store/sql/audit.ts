// The audit log: who removed what, why and when.

import { sql } from 'kysely';
import type { Tx } from './write-batch.js';
import type { AuditEntry } from '../types.js';
import type { AuditQuery } from '../store.js';

export interface AuditWrite {
  actor: string;
  reason: string;
  action: string;
  accountId: number | null;
  subject: string;
  detail: Record<string, unknown>;
}

export async function writeAudit(tx: Tx, e: AuditWrite): Promise<void> {
  await tx
    .insertInto('audit_log')
    .values({
      at: Date.now(),
      actor: e.actor,
      action: e.action,
      account_id: e.accountId,
      subject: e.subject,
      reason: e.reason,
      detail: JSON.stringify(e.detail),
    })
    .execute();
}

export async function listAudit(tx: Tx, options: AuditQuery): Promise<AuditEntry[]> {
  let q = tx.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(options.limit ?? 100);
  if (options.accountId !== undefined) q = q.where('account_id', '=', options.accountId);
  if (options.since) q = q.where('at', '>=', options.since.getTime());
  if (options.beforeId !== undefined) q = q.where('id', '<', options.beforeId);
  if (options.actor !== undefined) q = q.where('actor', '=', options.actor);
  if (options.action !== undefined) {
    // A prefix match without LIKE (no wildcards to escape, no collation to depend on).
    const action = options.action;
    q = action.endsWith('.') ? q.where(sql<string>`substr(action, 1, ${action.length})`, '=', action) : q.where('action', '=', action);
  }
  const rows = await q.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    at: new Date(Number(r.at)),
    actor: r.actor,
    action: r.action,
    accountId: r.account_id === null ? null : Number(r.account_id),
    subject: r.subject,
    reason: r.reason,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  }));
}
