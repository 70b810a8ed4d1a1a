// The audit log, newest first, with filters and paging backwards by id.

import type { AuditEntry } from '../../store/types.js';
import { int, str, type AdminCall } from './common.js';

export async function listAuditLog(call: AdminCall): Promise<{ entries: Array<Omit<AuditEntry, 'at'> & { at: string }>; next: number | null }> {
  const q = call.query;
  const limit = int(q.limit, 'limit', 100, 1, 1000);
  const actor = str(q.actor, 'actor', { max: 200, optional: true });
  const action = str(q.action, 'action', { max: 100, optional: true });
  const beforeId = q.before === undefined ? undefined : int(q.before, 'before', 0, 1, Number.MAX_SAFE_INTEGER);
  const since = q.since === undefined ? undefined : new Date(str(q.since, 'since', { max: 40 }));
  const entries = await call.ctx.store.listAudit({
    limit,
    ...(actor ? { actor } : {}),
    ...(action ? { action } : {}),
    ...(beforeId !== undefined ? { beforeId } : {}),
    ...(since && !Number.isNaN(since.getTime()) ? { since } : {}),
  });
  const last = entries.at(-1);
  return { entries: entries.map((e) => ({ ...e, at: e.at.toISOString() })), next: entries.length === limit && last ? last.id : null };
}
