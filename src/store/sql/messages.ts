// Messages: append/deliver, flags, expunge, copy, move, CONDSTORE changes.
//
// Every operation here runs inside a WriteBatcher transaction. UIDs are
// allocated with `UPDATE mailboxes SET uid_next = uid_next + n … RETURNING`,
// which takes the mailbox row's write lock (SQLite: the database lock;
// PostgreSQL: the row lock), so concurrent appends from any process or node
// get distinct, increasing UIDs without gaps.

import { randomFillSync } from 'node:crypto';
import { sql } from 'kysely';
import type { Tx } from './write-batch.js';
import { SEEN_BIT, bitsToFlags, flagsToBits, mergeKeywords, removeKeywords, sameKeywords, toMailbox, toMessage, type MessageRow } from './rows.js';
import { InvalidInput, NotFound, OverQuota } from '../errors.js';
import type { AppendResult, AuditContext, ChangesSince, CopyResult, FlagChange, Mailbox, MessageMeta, NewMessage, StoredStructure } from '../types.js';
import type { ChangeEvent, FlagUpdate, FlagUpdateResult, ListMessagesOptions } from '../store.js';
import { writeAudit } from './audit.js';
import { rawQuery } from './raw.js';

const CHUNK = 500;
const EVENT_UIDS_MAX = 200;

/**
 * A message's stable id: 48 bits of the time in milliseconds, then 72 random bits,
 * printed as 20 base64url characters (POP3 UIDL). Unique across processes and nodes
 * without coordination; the time first keeps new ids together in the unique index,
 * so a batch of deliveries touches one or two of its pages, not one page each.
 */
export function newMessageId(): string {
  const id = Buffer.allocUnsafe(15);
  id.writeUIntBE(Date.now(), 0, 6);
  randomId(id, 6);
  return id.toString('base64url');
}

/** Random bytes for ids from a pool refilled 4 KiB at a time: one system call per 455 ids. */
const idPool = Buffer.allocUnsafe(4095);
let idPoolOffset = idPool.length;

function randomId(target: Buffer, offset: number): void {
  const n = target.length - offset;
  if (idPoolOffset + n > idPool.length) {
    randomFillSync(idPool);
    idPoolOffset = 0;
  }
  idPool.copy(target, offset, idPoolOffset, idPoolOffset + n);
  idPoolOffset += n;
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

function eventUids(uids: number[]): number[] | undefined {
  return uids.length <= EVENT_UIDS_MAX ? uids : undefined;
}

async function mailboxById(tx: Tx, id: number): Promise<Mailbox> {
  const row = await tx.selectFrom('mailboxes').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound(`mailbox ${id} does not exist`);
  return toMailbox(row);
}

/** Adds `bytes` to the account's usage, refusing if that would pass its quota. */
async function chargeQuota(tx: Tx, accountId: number, bytes: number): Promise<void> {
  if (bytes === 0) return;
  const row = await tx
    .updateTable('accounts')
    .set({ used_bytes: sql<number>`used_bytes + ${bytes}` })
    .where('id', '=', accountId)
    .where((eb) => eb.or([eb('quota_bytes', '=', 0), eb(sql<number>`used_bytes + ${bytes}`, '<=', eb.ref('quota_bytes'))]))
    .returning('used_bytes')
    .executeTakeFirst();
  if (!row) {
    const acc = await tx.selectFrom('accounts').select(['quota_bytes', 'used_bytes']).where('id', '=', accountId).executeTakeFirst();
    if (!acc) throw new NotFound(`account ${accountId} does not exist`);
    throw new OverQuota('mailbox is full', Number(acc.quota_bytes), Number(acc.used_bytes));
  }
}

/** Reserves `count` UIDs and one new modseq in the mailbox, updating its counters. */
async function allocate(
  tx: Tx,
  mailboxId: number,
  count: number,
  deltas: { messages: number; unseen: number; bytes: number },
): Promise<{ firstUid: number; modseq: number; uidValidity: number; accountId: number }> {
  const row = await tx
    .updateTable('mailboxes')
    .set({
      uid_next: sql<number>`uid_next + ${count}`,
      highest_modseq: sql<number>`highest_modseq + 1`,
      messages: sql<number>`messages + ${deltas.messages}`,
      unseen: sql<number>`unseen + ${deltas.unseen}`,
      bytes: sql<number>`bytes + ${deltas.bytes}`,
    })
    .where('id', '=', mailboxId)
    .returning(['uid_next', 'highest_modseq', 'uid_validity', 'account_id'])
    .executeTakeFirst();
  if (!row) throw new NotFound(`mailbox ${mailboxId} does not exist`);
  return {
    firstUid: Number(row.uid_next) - count,
    modseq: Number(row.highest_modseq),
    uidValidity: Number(row.uid_validity),
    accountId: Number(row.account_id),
  };
}

function validateNew(m: NewMessage): void {
  if (!Number.isSafeInteger(m.size) || m.size < 0) throw new InvalidInput('message size must be a non-negative integer');
  if (Number.isNaN(m.internalDate.getTime())) throw new InvalidInput('invalid internal date');
}

/** chargeQuota for the account owning a mailbox, in one statement on the hot path. */
async function chargeQuotaOfMailbox(tx: Tx, dialect: Dialect, mailboxId: number, bytes: number): Promise<void> {
  const rows = await rawQuery<{ used_bytes: number }>(
    tx,
    dialect,
    'update accounts set used_bytes = used_bytes + ? where id = (select account_id from mailboxes where id = ?) and (quota_bytes = 0 or used_bytes + ? <= quota_bytes) returning used_bytes',
    [bytes, mailboxId, bytes],
  );
  if (rows.length > 0) return;
  // Rare path: say precisely why.
  const mailbox = await mailboxById(tx, mailboxId);
  await chargeQuota(tx, mailbox.accountId, bytes);
}

type Dialect = 'sqlite' | 'postgres';

/** allocate() for one new message, without the query builder: the delivery hot path. */
async function allocateOne(tx: Tx, dialect: Dialect, mailboxId: number, unseen: number, bytes: number) {
  const rows = await rawQuery<{ uid_next: number; highest_modseq: number; uid_validity: number; account_id: number }>(
    tx,
    dialect,
    'update mailboxes set uid_next = uid_next + 1, highest_modseq = highest_modseq + 1, messages = messages + 1, unseen = unseen + ?, bytes = bytes + ? where id = ? returning uid_next, highest_modseq, uid_validity, account_id',
    [unseen, bytes, mailboxId],
  );
  const row = rows[0];
  if (!row) throw new NotFound(`mailbox ${mailboxId} does not exist`);
  return { firstUid: Number(row.uid_next) - 1, modseq: Number(row.highest_modseq), uidValidity: Number(row.uid_validity), accountId: Number(row.account_id) };
}

export async function appendMessage(tx: Tx, dialect: Dialect, mailboxId: number, m: NewMessage, events: ChangeEvent[]): Promise<AppendResult> {
  validateNew(m);
  await chargeQuotaOfMailbox(tx, dialect, mailboxId, m.size);
  const bits = flagsToBits(m.flags ?? []);
  const a = await allocateOne(tx, dialect, mailboxId, bits & SEEN_BIT ? 0 : 1, m.size);
  const messageId = newMessageId();
  await rawQuery(
    tx,
    dialect,
    'insert into messages (mailbox_id, uid, message_id, modseq, flags, keywords, internal_date, size, blob_id, structure) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [mailboxId, a.firstUid, messageId, a.modseq, bits, JSON.stringify(mergeKeywords([], m.keywords ?? [])), m.internalDate.getTime(), m.size, m.blobId, JSON.stringify(m.structure)],
  );
  events.push({ accountId: a.accountId, mailboxId, kind: 'exists', modseq: a.modseq, uids: [a.firstUid] });
  return { mailboxId, uid: a.firstUid, uidValidity: a.uidValidity, modseq: a.modseq, messageId };
}

const LIST_COLUMNS = ['mailbox_id', 'uid', 'message_id', 'modseq', 'flags', 'keywords', 'internal_date', 'size', 'blob_id'] as const;

export async function listMessages(tx: Tx, mailboxId: number, options: ListMessagesOptions): Promise<MessageMeta[]> {
  let q = tx.selectFrom('messages').select(LIST_COLUMNS).where('mailbox_id', '=', mailboxId).orderBy('uid');
  if (options.fromUid !== undefined) q = q.where('uid', '>=', options.fromUid);
  if (options.largerThan !== undefined) q = q.where('size', '>', options.largerThan);
  if (options.withoutStructure) return (await q.execute()).map((r) => toMessage(r));
  return (await q.select('structure').execute()).map((r) => toMessage(r));
}

export async function getMessages(tx: Tx, mailboxId: number, uids: number[]): Promise<MessageMeta[]> {
  const out: MessageMeta[] = [];
  for (const part of chunks([...new Set(uids)])) {
    const rows = await tx.selectFrom('messages').select(LIST_COLUMNS).select('structure').where('mailbox_id', '=', mailboxId).where('uid', 'in', part).execute();
    for (const r of rows) out.push(toMessage(r));
  }
  return out.sort((x, y) => x.uid - y.uid);
}

type FlagRow = Pick<MessageRow, 'uid' | 'flags' | 'keywords' | 'modseq'>;

async function flagRows(tx: Tx, mailboxId: number, uids: number[]): Promise<FlagRow[]> {
  const rows: FlagRow[] = [];
  for (const part of chunks([...new Set(uids)])) {
    rows.push(...(await tx.selectFrom('messages').select(['uid', 'flags', 'keywords', 'modseq']).where('mailbox_id', '=', mailboxId).where('uid', 'in', part).execute()));
  }
  return rows.sort((x, y) => Number(x.uid) - Number(y.uid));
}

export async function updateFlags(tx: Tx, mailboxId: number, u: FlagUpdate, events: ChangeEvent[]): Promise<FlagUpdateResult> {
  const mailbox = await mailboxById(tx, mailboxId);
  const rows = await flagRows(tx, mailboxId, u.uids);
  const bits = flagsToBits(u.flags);
  const planned: Array<{ uid: number; flags: number; keywords: string[] }> = [];
  const modified: number[] = [];
  let unseenDelta = 0;
  for (const r of rows) {
    const uid = Number(r.uid);
    // RFC 7162 3.1.3: UNCHANGEDSINCE fails for messages changed after the given modseq.
    if (u.unchangedSince !== undefined && Number(r.modseq) > u.unchangedSince) {
      modified.push(uid);
      continue;
    }
    const oldFlags = Number(r.flags);
    const oldKeywords = JSON.parse(r.keywords) as string[];
    let flags: number;
    let keywords: string[];
    switch (u.operation) {
      case 'add':
        flags = oldFlags | bits;
        keywords = mergeKeywords(oldKeywords, u.keywords);
        break;
      case 'remove':
        flags = oldFlags & ~bits;
        keywords = removeKeywords(oldKeywords, u.keywords);
        break;
      case 'set':
        flags = bits;
        keywords = mergeKeywords([], u.keywords);
        break;
    }
    if (flags === oldFlags && sameKeywords(keywords, oldKeywords)) continue;
    planned.push({ uid, flags, keywords });
    unseenDelta += (flags & SEEN_BIT ? 0 : 1) - (oldFlags & SEEN_BIT ? 0 : 1);
  }
  if (planned.length === 0) return { highestModseq: mailbox.highestModseq, changed: [], modified };
  const row = await tx
    .updateTable('mailboxes')
    .set({ highest_modseq: sql<number>`highest_modseq + 1`, unseen: sql<number>`unseen + ${unseenDelta}` })
    .where('id', '=', mailboxId)
    .returning('highest_modseq')
    .executeTakeFirstOrThrow();
  const modseq = Number(row.highest_modseq);
  const changed: FlagChange[] = [];
  for (const p of planned) {
    await tx
      .updateTable('messages')
      .set({ flags: p.flags, keywords: JSON.stringify(p.keywords), modseq })
      .where('mailbox_id', '=', mailboxId)
      .where('uid', '=', p.uid)
      .execute();
    changed.push({ uid: p.uid, modseq, flags: bitsToFlags(p.flags), keywords: p.keywords });
  }
  const uids = changed.map((c) => c.uid);
  events.push({ accountId: mailbox.accountId, mailboxId, kind: 'flags', modseq, uids: eventUids(uids) });
  return { highestModseq: modseq, changed, modified };
}

interface RemovedRow {
  uid: number;
  size: number;
  flags: number;
}

/** Deletes rows and leaves tombstones; returns the new modseq. Counters are the caller's. */
async function removeRows(tx: Tx, mailbox: Mailbox, rows: RemovedRow[], deleteRows: boolean): Promise<number> {
  let unseen = 0;
  let bytes = 0;
  for (const r of rows) {
    bytes += r.size;
    if (!(r.flags & SEEN_BIT)) unseen++;
  }
  const m = await tx
    .updateTable('mailboxes')
    .set({
      highest_modseq: sql<number>`highest_modseq + 1`,
      messages: sql<number>`messages - ${rows.length}`,
      unseen: sql<number>`unseen - ${unseen}`,
      bytes: sql<number>`bytes - ${bytes}`,
    })
    .where('id', '=', mailbox.id)
    .returning('highest_modseq')
    .executeTakeFirstOrThrow();
  const modseq = Number(m.highest_modseq);
  for (const part of chunks(rows.map((r) => r.uid))) {
    if (deleteRows) await tx.deleteFrom('messages').where('mailbox_id', '=', mailbox.id).where('uid', 'in', part).execute();
    await tx
      .insertInto('tombstones')
      .values(part.map((uid) => ({ mailbox_id: mailbox.id, uid, modseq })))
      .onConflict((oc) => oc.columns(['mailbox_id', 'uid']).doUpdateSet({ modseq }))
      .execute();
  }
  return modseq;
}

async function rowsFor(tx: Tx, mailboxId: number, uids: number[]): Promise<Array<RemovedRow & { messageId: string }>> {
  const out: Array<RemovedRow & { messageId: string }> = [];
  for (const part of chunks([...new Set(uids)])) {
    const rows = await tx.selectFrom('messages').select(['uid', 'size', 'flags', 'message_id']).where('mailbox_id', '=', mailboxId).where('uid', 'in', part).execute();
    for (const r of rows) out.push({ uid: Number(r.uid), size: Number(r.size), flags: Number(r.flags), messageId: r.message_id });
  }
  return out.sort((a, b) => a.uid - b.uid);
}

export async function expungeMessages(tx: Tx, mailboxId: number, uids: number[], audit: AuditContext | undefined, events: ChangeEvent[]): Promise<number[]> {
  const mailbox = await mailboxById(tx, mailboxId);
  const rows = await rowsFor(tx, mailboxId, uids);
  if (rows.length === 0) return [];
  const modseq = await removeRows(tx, mailbox, rows, true);
  const bytes = rows.reduce((s, r) => s + r.size, 0);
  await tx.updateTable('accounts').set({ used_bytes: sql<number>`used_bytes - ${bytes}` }).where('id', '=', mailbox.accountId).execute();
  const removed = rows.map((r) => r.uid);
  if (audit) {
    await writeAudit(tx, {
      ...audit,
      action: 'message.expunge',
      accountId: mailbox.accountId,
      subject: `${rows.length} message(s) in ${mailbox.name}`,
      detail: { mailbox: mailbox.name, uids: removed, messageIds: rows.map((r) => r.messageId), bytes },
    });
  }
  events.push({ accountId: mailbox.accountId, mailboxId, kind: 'expunge', modseq, uids: eventUids(removed) });
  return removed;
}

export async function copyMessages(tx: Tx, fromId: number, uids: number[], toId: number, events: ChangeEvent[]): Promise<CopyResult> {
  await mailboxById(tx, fromId);
  const target = await mailboxById(tx, toId);
  const rows = await getMessages(tx, fromId, uids);
  if (rows.length === 0) return { uidValidity: target.uidValidity, mapping: [] };
  const bytes = rows.reduce((s, r) => s + r.size, 0);
  const unseen = rows.filter((r) => !r.flags.includes('\\Seen')).length;
  await chargeQuota(tx, target.accountId, bytes);
  const a = await allocate(tx, toId, rows.length, { messages: rows.length, unseen, bytes });
  const mapping: Array<[number, number]> = [];
  const values = rows.map((r, i) => {
    mapping.push([r.uid, a.firstUid + i]);
    return {
      mailbox_id: toId,
      uid: a.firstUid + i,
      message_id: newMessageId(),
      modseq: a.modseq,
      flags: flagsToBits(r.flags),
      keywords: JSON.stringify(r.keywords),
      internal_date: r.internalDate.getTime(),
      size: r.size,
      blob_id: r.blobId,
      structure: JSON.stringify(r.structure),
    };
  });
  for (let i = 0; i < values.length; i += 100) await tx.insertInto('messages').values(values.slice(i, i + 100)).execute();
  events.push({ accountId: target.accountId, mailboxId: toId, kind: 'exists', modseq: a.modseq, uids: eventUids(mapping.map((m) => m[1])) });
  return { uidValidity: a.uidValidity, mapping };
}

/**
 * Moves rows in place: the message keeps its message id (so POP3 UIDL and
 * webmail links survive a move), gets a new UID in the target, and leaves a
 * tombstone in the source.
 */
export async function moveRows(tx: Tx, source: Mailbox, uids: number[], target: Mailbox, events: ChangeEvent[]): Promise<CopyResult> {
  const rows = await rowsFor(tx, source.id, uids);
  if (rows.length === 0) return { uidValidity: target.uidValidity, mapping: [] };
  const bytes = rows.reduce((s, r) => s + r.size, 0);
  const unseen = rows.filter((r) => !(r.flags & SEEN_BIT)).length;
  if (source.accountId !== target.accountId) await chargeQuota(tx, target.accountId, bytes);
  const a = await allocate(tx, target.id, rows.length, { messages: rows.length, unseen, bytes });
  const mapping: Array<[number, number]> = [];
  for (const [i, r] of rows.entries()) {
    const uid = a.firstUid + i;
    mapping.push([r.uid, uid]);
    await tx.updateTable('messages').set({ mailbox_id: target.id, uid, modseq: a.modseq }).where('mailbox_id', '=', source.id).where('uid', '=', r.uid).execute();
  }
  const modseq = await removeRows(tx, source, rows, false);
  if (source.accountId !== target.accountId) {
    await tx.updateTable('accounts').set({ used_bytes: sql<number>`used_bytes - ${bytes}` }).where('id', '=', source.accountId).execute();
  }
  events.push({ accountId: target.accountId, mailboxId: target.id, kind: 'exists', modseq: a.modseq, uids: eventUids(mapping.map((m) => m[1])) });
  events.push({ accountId: source.accountId, mailboxId: source.id, kind: 'expunge', modseq, uids: eventUids(mapping.map((m) => m[0])) });
  return { uidValidity: a.uidValidity, mapping };
}

export async function moveMessages(tx: Tx, fromId: number, uids: number[], toId: number, audit: AuditContext | undefined, events: ChangeEvent[]): Promise<CopyResult> {
  const source = await mailboxById(tx, fromId);
  const target = await mailboxById(tx, toId);
  if (source.id === target.id) throw new InvalidInput('cannot move messages into the mailbox they are in');
  const result = await moveRows(tx, source, uids, target, events);
  if (audit && result.mapping.length > 0) {
    await writeAudit(tx, {
      ...audit,
      action: 'message.move',
      accountId: source.accountId,
      subject: `${result.mapping.length} message(s) from ${source.name} to ${target.name}`,
      detail: { from: source.name, to: target.name, mapping: result.mapping },
    });
  }
  return result;
}

export async function updateStructure(tx: Tx, mailboxId: number, uid: number, structure: StoredStructure): Promise<void> {
  const res = await tx.updateTable('messages').set({ structure: JSON.stringify(structure) }).where('mailbox_id', '=', mailboxId).where('uid', '=', uid).executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) throw new NotFound(`no message with UID ${uid} in mailbox ${mailboxId}`);
}

export async function changesSince(tx: Tx, mailboxId: number, modseq: number): Promise<ChangesSince> {
  const mailbox = await mailboxById(tx, mailboxId);
  const rows = await tx.selectFrom('messages').select(LIST_COLUMNS).where('mailbox_id', '=', mailboxId).where('modseq', '>', modseq).orderBy('uid').execute();
  const gone = await tx.selectFrom('tombstones').select('uid').where('mailbox_id', '=', mailboxId).where('modseq', '>', modseq).orderBy('uid').execute();
  return { highestModseq: mailbox.highestModseq, changed: rows.map((r) => toMessage(r)), vanished: gone.map((g) => Number(g.uid)) };
}
