// Integrity checks over the metadata, and the repairs that never lose a
// message: counters are recomputed from the rows they summarise, uidNext and
// highestModseq are raised (never lowered) past what is in use.
//
// Runs online: every check is a read; every repair is a short write
// transaction through the WriteBatcher, so sessions keep working meanwhile.

import { sql } from 'kysely';
import type { Tx } from './write-batch.js';
import type { IntegrityProblem } from '../store.js';

interface MailboxFacts {
  id: number;
  account_id: number;
  name: string;
  uid_next: number;
  highest_modseq: number;
  messages: number;
  unseen: number;
  bytes: number;
  real_messages: number;
  real_unseen: number;
  real_bytes: number;
  max_uid: number;
  max_modseq: number;
  max_tomb_uid: number;
  max_tomb_modseq: number;
}

async function mailboxFacts(tx: Tx, accountId?: number): Promise<MailboxFacts[]> {
  const filter = accountId === undefined ? sql`` : sql`where m.account_id = ${accountId}`;
  const res = await sql<MailboxFacts>`
    select m.id, m.account_id, m.name, m.uid_next, m.highest_modseq, m.messages, m.unseen, m.bytes,
      coalesce(agg.n, 0) as real_messages, coalesce(agg.unseen, 0) as real_unseen, coalesce(agg.bytes, 0) as real_bytes,
      coalesce(agg.max_uid, 0) as max_uid, coalesce(agg.max_modseq, 0) as max_modseq,
      coalesce(t.max_uid, 0) as max_tomb_uid, coalesce(t.max_modseq, 0) as max_tomb_modseq
    from mailboxes m
    left join (
      select mailbox_id, count(*) as n, sum(case when flags % 2 = 1 then 0 else 1 end) as unseen, sum(size) as bytes,
        max(uid) as max_uid, max(modseq) as max_modseq
      from messages group by mailbox_id
    ) agg on agg.mailbox_id = m.id
    left join (
      select mailbox_id, max(uid) as max_uid, max(modseq) as max_modseq from tombstones group by mailbox_id
    ) t on t.mailbox_id = m.id
    ${filter}
    order by m.id`.execute(tx);
  return res.rows.map((r) => {
    const out = { ...r };
    for (const k of Object.keys(out) as Array<keyof MailboxFacts>) if (k !== 'name') (out as Record<string, unknown>)[k] = Number(r[k]);
    return out;
  });
}

export async function checkMetadata(tx: Tx, accountId?: number): Promise<IntegrityProblem[]> {
  const problems: IntegrityProblem[] = [];
  const usage = new Map<number, number>();
  for (const m of await mailboxFacts(tx, accountId)) {
    const where = { accountId: m.account_id, mailbox: m.name };
    usage.set(m.account_id, (usage.get(m.account_id) ?? 0) + m.real_bytes);
    if (m.messages !== m.real_messages || m.unseen !== m.real_unseen || m.bytes !== m.real_bytes) {
      problems.push({
        kind: 'mailbox-counters',
        ...where,
        detail: `counters say ${m.messages} messages/${m.unseen} unseen/${m.bytes} bytes; rows say ${m.real_messages}/${m.real_unseen}/${m.real_bytes}`,
        repairable: true,
      });
    }
    const maxUid = Math.max(m.max_uid, m.max_tomb_uid);
    if (m.uid_next <= maxUid) {
      problems.push({ kind: 'uid-next', ...where, detail: `uidNext ${m.uid_next} is not above UID ${maxUid} in use`, repairable: true });
    }
    const maxModseq = Math.max(m.max_modseq, m.max_tomb_modseq);
    if (m.highest_modseq < maxModseq) {
      problems.push({ kind: 'highest-modseq', ...where, detail: `highestModseq ${m.highest_modseq} is below modseq ${maxModseq} in use`, repairable: true });
    }
  }
  let accounts = tx.selectFrom('accounts').select(['id', 'address', 'used_bytes']);
  if (accountId !== undefined) accounts = accounts.where('id', '=', accountId);
  for (const a of await accounts.execute()) {
    const real = usage.get(Number(a.id)) ?? 0;
    if (Number(a.used_bytes) !== real) {
      problems.push({ kind: 'quota-usage', accountId: Number(a.id), detail: `${a.address}: usage says ${a.used_bytes} bytes; messages add up to ${real}`, repairable: true });
    }
  }
  if (accountId === undefined) {
    const orphans = await sql<{ n: number }>`select count(*) as n from messages where mailbox_id not in (select id from mailboxes)`.execute(tx);
    const n = Number(orphans.rows[0]?.n ?? 0);
    if (n > 0) problems.push({ kind: 'orphan-messages', detail: `${n} message rows belong to no mailbox`, repairable: false });
    const orphanBoxes = await sql<{ n: number }>`select count(*) as n from mailboxes where account_id not in (select id from accounts)`.execute(tx);
    const b = Number(orphanBoxes.rows[0]?.n ?? 0);
    if (b > 0) problems.push({ kind: 'orphan-mailboxes', detail: `${b} mailboxes belong to no account`, repairable: false });
  }
  return problems;
}

/** Recomputes counters and raises uidNext/highestModseq where check found them wrong. */
export async function repairMetadata(tx: Tx, accountId?: number): Promise<string[]> {
  const actions: string[] = [];
  const usage = new Map<number, number>();
  for (const m of await mailboxFacts(tx, accountId)) {
    usage.set(m.account_id, (usage.get(m.account_id) ?? 0) + m.real_bytes);
    const maxUid = Math.max(m.max_uid, m.max_tomb_uid);
    const maxModseq = Math.max(m.max_modseq, m.max_tomb_modseq);
    const set: { messages?: number; unseen?: number; bytes?: number; uid_next?: number; highest_modseq?: number } = {};
    if (m.messages !== m.real_messages || m.unseen !== m.real_unseen || m.bytes !== m.real_bytes) {
      Object.assign(set, { messages: m.real_messages, unseen: m.real_unseen, bytes: m.real_bytes });
      actions.push(`${m.name} (account ${m.account_id}): counters recomputed to ${m.real_messages}/${m.real_unseen}/${m.real_bytes}`);
    }
    if (m.uid_next <= maxUid) {
      // Raised past every UID ever used, so no UID is reused and UIDVALIDITY can stay.
      set.uid_next = maxUid + 1;
      actions.push(`${m.name} (account ${m.account_id}): uidNext raised from ${m.uid_next} to ${maxUid + 1}`);
    }
    if (m.highest_modseq < maxModseq) {
      set.highest_modseq = maxModseq + 1;
      actions.push(`${m.name} (account ${m.account_id}): highestModseq raised from ${m.highest_modseq} to ${maxModseq + 1}`);
    }
    if (Object.keys(set).length > 0) await tx.updateTable('mailboxes').set(set).where('id', '=', m.id).execute();
  }
  let accounts = tx.selectFrom('accounts').select(['id', 'address', 'used_bytes']);
  if (accountId !== undefined) accounts = accounts.where('id', '=', accountId);
  for (const a of await accounts.execute()) {
    const real = usage.get(Number(a.id)) ?? 0;
    if (Number(a.used_bytes) !== real) {
      await tx.updateTable('accounts').set({ used_bytes: real }).where('id', '=', Number(a.id)).execute();
      actions.push(`${a.address}: quota usage recomputed from ${a.used_bytes} to ${real} bytes`);
    }
  }
  return actions;
}

/** Distinct blob ids referenced by messages and queued mail, for the blob checks. */
export async function referencedBlobs(tx: Tx, accountId?: number): Promise<Array<{ blobId: string; size: number }>> {
  if (accountId === undefined) {
    const res = await sql<{ blob_id: string; size: number }>`
      select blob_id, max(size) as size from messages group by blob_id
      union
      select blob_id, max(size) as size from queue where state = 'queued' group by blob_id`.execute(tx);
    return res.rows.map((r) => ({ blobId: r.blob_id, size: Number(r.size) }));
  }
  const res = await sql<{ blob_id: string; size: number }>`
    select blob_id, max(size) as size from messages
    where mailbox_id in (select id from mailboxes where account_id = ${accountId}) group by blob_id`.execute(tx);
  return res.rows.map((r) => ({ blobId: r.blob_id, size: Number(r.size) }));
}
