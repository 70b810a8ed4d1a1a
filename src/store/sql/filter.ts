// The inbound filter's rows: greylisting triplets, per-account settings and lists,
// and per-account sender reputation learnt from Junk moves. The decisions belong to
// src/filter; this module only stores them.

import type { Tx } from './write-batch.js';
import { InvalidInput } from '../errors.js';
import type { AccountFilterSettings, FilterListKind, GreylistPolicy, GreylistResult, SenderReputation } from '../types.js';

const MAX_TRIPLET = 1024;
const MAX_PATTERN = 320;

/** Records an attempt of one triplet and says whether it may pass now. */
export async function greylist(tx: Tx, triplet: string, policy: GreylistPolicy, now: number): Promise<GreylistResult> {
  if (triplet.length > MAX_TRIPLET) throw new InvalidInput('greylisting triplet too long');
  const row = await tx.selectFrom('filter_greylist').selectAll().where('triplet', '=', triplet).executeTakeFirst();
  const first = row ? Number(row.first_seen) : now;
  const passedAt = row?.passed_at === null || row?.passed_at === undefined ? null : Number(row.passed_at);
  const lastSeen = row ? Number(row.last_seen) : now;
  if (row && passedAt !== null && now - lastSeen <= policy.passMs) {
    await tx.updateTable('filter_greylist').set({ last_seen: now }).where('triplet', '=', triplet).execute();
    return { pass: true };
  }
  const waiting = row && passedAt === null && now - first <= policy.retryWindowMs;
  if (waiting && now - first >= policy.delayMs) {
    await tx.updateTable('filter_greylist').set({ last_seen: now, passed_at: now }).where('triplet', '=', triplet).execute();
    return { pass: true };
  }
  if (waiting) {
    await tx.updateTable('filter_greylist').set({ last_seen: now }).where('triplet', '=', triplet).execute();
    return { pass: false, retryAfterMs: policy.delayMs - (now - first) };
  }
  // Unknown, expired while waiting, or passed long ago: start over.
  await tx
    .insertInto('filter_greylist')
    .values({ triplet, first_seen: now, last_seen: now, passed_at: null })
    .onConflict((oc) => oc.column('triplet').doUpdateSet({ first_seen: now, last_seen: now, passed_at: null }))
    .execute();
  return { pass: false, retryAfterMs: policy.delayMs };
}

/** Passes a triplet at once (a sender that authenticated); keeps it passed like a retry. */
export async function greylistPass(tx: Tx, triplet: string, now: number): Promise<void> {
  if (triplet.length > MAX_TRIPLET) throw new InvalidInput('greylisting triplet too long');
  await tx
    .insertInto('filter_greylist')
    .values({ triplet, first_seen: now, last_seen: now, passed_at: now })
    .onConflict((oc) => oc.column('triplet').doUpdateSet({ last_seen: now, passed_at: now }))
    .execute();
}

/** Forgets triplets not seen since `before`; returns how many. */
export async function pruneGreylist(tx: Tx, before: number): Promise<number> {
  const r = await tx.deleteFrom('filter_greylist').where('last_seen', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function getFilterSettings(tx: Tx, accountId: number): Promise<AccountFilterSettings> {
  const acc = await tx.selectFrom('filter_accounts').select('junk_score').where('account_id', '=', accountId).executeTakeFirst();
  const lists = await tx.selectFrom('filter_lists').select(['kind', 'pattern']).where('account_id', '=', accountId).orderBy('pattern').execute();
  return {
    junkScore: acc?.junk_score === null || acc?.junk_score === undefined ? null : Number(acc.junk_score),
    allow: lists.filter((l) => l.kind === 'allow').map((l) => l.pattern),
    block: lists.filter((l) => l.kind === 'block').map((l) => l.pattern),
  };
}

export async function setJunkScore(tx: Tx, accountId: number, score: number | null): Promise<void> {
  if (score !== null && !Number.isFinite(score)) throw new InvalidInput('the junk score must be a number');
  await tx
    .insertInto('filter_accounts')
    .values({ account_id: accountId, junk_score: score })
    .onConflict((oc) => oc.column('account_id').doUpdateSet({ junk_score: score }))
    .execute();
}

/** Adds (present) or removes a sender address or domain on an account's allow or block list. */
export async function setFilterListEntry(tx: Tx, accountId: number, kind: FilterListKind, pattern: string, present: boolean): Promise<void> {
  const p = pattern.trim().toLowerCase();
  if (p === '' || p.length > MAX_PATTERN || /\s/.test(p)) throw new InvalidInput(`invalid sender address or domain ${JSON.stringify(pattern)}`);
  if (!present) {
    await tx.deleteFrom('filter_lists').where('account_id', '=', accountId).where('kind', '=', kind).where('pattern', '=', p).execute();
    return;
  }
  await tx
    .insertInto('filter_lists')
    .values({ account_id: accountId, kind, pattern: p, created_at: Date.now() })
    .onConflict((oc) => oc.columns(['account_id', 'kind', 'pattern']).doNothing())
    .execute();
}

export async function learnSender(tx: Tx, accountId: number, sender: string, verdict: 'spam' | 'ham'): Promise<void> {
  const s = sender.trim().toLowerCase();
  if (s === '' || s.length > MAX_PATTERN) return;
  const now = Date.now();
  await tx
    .insertInto('filter_senders')
    .values({ account_id: accountId, sender: s, spam: verdict === 'spam' ? 1 : 0, ham: verdict === 'ham' ? 1 : 0, updated_at: now })
    .onConflict((oc) =>
      oc.columns(['account_id', 'sender']).doUpdateSet((eb) => ({
        spam: verdict === 'spam' ? eb('filter_senders.spam', '+', 1) : eb.ref('filter_senders.spam'),
        ham: verdict === 'ham' ? eb('filter_senders.ham', '+', 1) : eb.ref('filter_senders.ham'),
        updated_at: now,
      })),
    )
    .execute();
}

export async function senderReputation(tx: Tx, accountId: number, sender: string): Promise<SenderReputation> {
  const row = await tx
    .selectFrom('filter_senders')
    .select(['spam', 'ham'])
    .where('account_id', '=', accountId)
    .where('sender', '=', sender.trim().toLowerCase())
    .executeTakeFirst();
  return { spam: Number(row?.spam ?? 0), ham: Number(row?.ham ?? 0) };
}
