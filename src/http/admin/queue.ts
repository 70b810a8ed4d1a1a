// The outbound queue: list, inspect, retry, delete (the store audits deletions).

import type { QueueEntry, QueueState } from '../../store/types.js';
import { audit, auditContext, int, invalid, notFound, type AdminCall } from './common.js';
import type { QueueEntryInfo } from './types.js';

const STATES: readonly QueueState[] = ['queued', 'delivered', 'failed'];

const info = (e: QueueEntry): QueueEntryInfo => ({
  id: e.id,
  state: e.state,
  mailFrom: e.mailFrom,
  domain: e.domain,
  recipients: e.recipients,
  size: e.size,
  attempts: e.attempts,
  nextAttemptAt: e.nextAttemptAt.toISOString(),
  lastError: e.lastError,
  createdAt: e.createdAt.toISOString(),
  updatedAt: e.updatedAt.toISOString(),
});

async function entry(call: AdminCall): Promise<QueueEntry> {
  const id = int(call.params.id, 'id', 0, 1, Number.MAX_SAFE_INTEGER);
  const e = await call.ctx.store.getQueueEntry(id);
  if (!e) throw notFound(`queue entry ${id}`);
  return e;
}

export async function listQueue(call: AdminCall): Promise<{ entries: QueueEntryInfo[] }> {
  const state = call.query.state;
  if (state !== undefined && !STATES.includes(state as QueueState)) throw invalid(`state must be one of ${STATES.join(', ')}`);
  const limit = int(call.query.limit, 'limit', 500, 1, 10_000);
  return { entries: (await call.ctx.store.listQueue({ ...(state ? { state: state as QueueState } : {}), limit })).map(info) };
}

export async function showQueueEntry(call: AdminCall): Promise<QueueEntryInfo> {
  return info(await entry(call));
}

export async function retryQueueEntry(call: AdminCall): Promise<QueueEntryInfo> {
  const e = await entry(call);
  const retried = await call.ctx.store.retryQueueEntry(e.id);
  await audit(call, 'queue.retry', `queue entry ${e.id}`, { domain: e.domain, state: e.state }, e.accountId);
  return info(retried);
}

export async function deleteQueueEntry(call: AdminCall): Promise<{ ok: true }> {
  const e = await entry(call);
  await call.ctx.store.deleteQueueEntry(e.id, auditContext(call));
  return { ok: true };
}
