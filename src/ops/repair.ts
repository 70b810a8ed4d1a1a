// `steadymail repair`: fixes what check finds without losing a message.
//
// Rules:
// - No message row is ever deleted. A message whose body (blob) is gone is MOVEd to
//   the account's "Recovered" mailbox: it gets a new UID there (uidNext only grows,
//   so no UID is reused and UIDVALIDITY never changes), keeps its flags, date and
//   cached envelope, and its old UID leaves a tombstone like any MOVE.
// - Counters and uidNext/highestModseq are the store's own repair (raised, never lowered).
// - A structure cache is only rewritten from the message's own blob.
// - Every change is in the audit log, with actor and reason.

import type { Store } from '../store/store.js';
import type { AuditContext } from '../store/types.js';
import { allMessages, checkStructure, reindex, type StructureMode } from './structure.js';

export const RECOVERED_MAILBOX = 'Recovered';

export interface RepairOptions {
  accountId?: number;
  /** How many cached structures to re-parse for mismatches (missing/stale ones are always fixed). */
  structure?: StructureMode;
  blobGraceMs?: number;
}

export async function runRepair(store: Store, audit: AuditContext, options: RepairOptions = {}): Promise<string[]> {
  const scope = options.accountId === undefined ? {} : { accountId: options.accountId };
  const grace = options.blobGraceMs === undefined ? {} : { blobGraceMs: options.blobGraceMs };
  const before = await store.checkIntegrity({ ...scope, ...grace, blobs: 'exists' });
  const missing = new Set(before.filter((p) => p.kind === 'blob-missing' && p.blobId !== undefined).map((p) => p.blobId!));

  const actions = await store.repairIntegrity(audit, { ...scope, ...grace });
  if (missing.size > 0) actions.push(...(await recoverMissingBodies(store, audit, missing, options.accountId)));
  actions.push(...(await repairStructures(store, audit, options.structure ?? 'sample', options.accountId)));
  return actions;
}

async function recoverMissingBodies(store: Store, audit: AuditContext, missing: Set<string>, accountId?: number): Promise<string[]> {
  // accountId → mailboxId → UIDs
  type Found = { address: string; boxes: Map<number, { name: string; uids: number[] }> };
  const found = new Map<number, Found>();
  for await (const ref of allMessages(store, accountId)) {
    if (!missing.has(ref.message.blobId) || ref.mailbox.name === RECOVERED_MAILBOX) continue;
    const acc: Found = found.get(ref.account.id) ?? { address: ref.account.address, boxes: new Map() };
    const box = acc.boxes.get(ref.mailbox.id) ?? { name: ref.mailbox.name, uids: [] };
    box.uids.push(ref.message.uid);
    acc.boxes.set(ref.mailbox.id, box);
    found.set(ref.account.id, acc);
  }
  const actions: string[] = [];
  const why: AuditContext = { actor: audit.actor, reason: 'repair: message body (blob) is missing' };
  for (const [id, acc] of found) {
    const target = (await store.getMailbox(id, RECOVERED_MAILBOX)) ?? (await store.createMailbox(id, RECOVERED_MAILBOX, { subscribed: true }));
    for (const [mailboxId, box] of acc.boxes) {
      const moved = await store.moveMessages(mailboxId, box.uids, target.id, why);
      const text = `${acc.address}: moved ${moved.mapping.length} message(s) whose body is missing from ${box.name} to ${RECOVERED_MAILBOX}`;
      await store.audit({
        ...audit,
        action: 'repair.recovered',
        accountId: id,
        subject: text,
        detail: { from: box.name, to: RECOVERED_MAILBOX, mapping: moved.mapping },
      });
      actions.push(text);
    }
  }
  return actions;
}

async function repairStructures(store: Store, audit: AuditContext, mode: StructureMode, accountId?: number): Promise<string[]> {
  const problems = await checkStructure(store, { mode, ...(accountId === undefined ? {} : { accountId }) });
  const fixed = new Map<number, { mailbox: string; uids: number[] }[]>();
  let unreadable = 0;
  for (const p of problems) {
    const [message] = await store.getMessages(p.mailboxId, [p.uid]);
    if (!message) continue; // expunged meanwhile
    const structure = await reindex(store, message);
    if (!structure) {
      unreadable++;
      continue;
    }
    await store.updateStructure(p.mailboxId, p.uid, structure);
    const list = fixed.get(p.accountId) ?? [];
    const entry = list.find((e) => e.mailbox === p.mailbox) ?? { mailbox: p.mailbox, uids: [] };
    if (!list.includes(entry)) list.push(entry);
    entry.uids.push(p.uid);
    fixed.set(p.accountId, list);
  }
  const actions: string[] = [];
  for (const [id, list] of fixed) {
    const n = list.reduce((sum, e) => sum + e.uids.length, 0);
    const text = `account ${id}: re-indexed the cached structure of ${n} message(s) from their blobs`;
    await store.audit({ ...audit, action: 'repair.structure', accountId: id, subject: text, detail: { messages: list } });
    actions.push(text);
  }
  if (unreadable > 0) actions.push(`${unreadable} structure cache(s) not rebuilt: the message body cannot be read`);
  return actions;
}
