// Sieve scripts per account (at most one active) and the vacation reply log.
//
// Rules:
// - Activating a script deactivates the others in the same transaction.
// - The active script cannot be deleted (RFC 5804 2.10: ACTIVE response).
// - A vacation reply is recorded and checked in one statement per sender, so two
//   deliveries racing for the same sender send one reply.

import type { Tx } from './write-batch.js';
import { AlreadyExists, NotFound, StoreError } from '../errors.js';
import type { SieveScript, SieveScriptInfo } from '../types.js';

interface Row {
  name: string;
  content: string;
  active: number | string;
  updated_at: number | string;
}

function toScript(r: Row): SieveScript {
  return { name: r.name, content: r.content, active: Number(r.active) === 1, size: Buffer.byteLength(r.content, 'utf8'), updatedAt: new Date(Number(r.updated_at)) };
}

export async function listScripts(tx: Tx, accountId: number): Promise<SieveScriptInfo[]> {
  const rows = await tx.selectFrom('sieve_scripts').select(['name', 'content', 'active', 'updated_at']).where('account_id', '=', accountId).orderBy('name').execute();
  return rows.map((r) => {
    const { content: _content, ...info } = toScript(r);
    void _content;
    return info;
  });
}

export async function getScript(tx: Tx, accountId: number, name: string): Promise<SieveScript | undefined> {
  const r = await tx.selectFrom('sieve_scripts').select(['name', 'content', 'active', 'updated_at']).where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
  return r ? toScript(r) : undefined;
}

export async function getActiveScript(tx: Tx, accountId: number): Promise<SieveScript | undefined> {
  const r = await tx.selectFrom('sieve_scripts').select(['name', 'content', 'active', 'updated_at']).where('account_id', '=', accountId).where('active', '=', 1).executeTakeFirst();
  return r ? toScript(r) : undefined;
}

export async function putScript(tx: Tx, accountId: number, name: string, content: string): Promise<void> {
  const now = Date.now();
  const updated = await tx.updateTable('sieve_scripts').set({ content, updated_at: now }).where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
  if (Number(updated.numUpdatedRows) > 0) return;
  await tx.insertInto('sieve_scripts').values({ account_id: accountId, name, content, active: 0, updated_at: now }).execute();
}

export async function renameScript(tx: Tx, accountId: number, oldName: string, newName: string): Promise<void> {
  if (!(await getScript(tx, accountId, oldName))) throw new NotFound(`script ${oldName} does not exist`);
  if (oldName !== newName && (await getScript(tx, accountId, newName))) throw new AlreadyExists(`script ${newName} already exists`);
  await tx.updateTable('sieve_scripts').set({ name: newName, updated_at: Date.now() }).where('account_id', '=', accountId).where('name', '=', oldName).execute();
}

export async function deleteScript(tx: Tx, accountId: number, name: string): Promise<void> {
  const s = await getScript(tx, accountId, name);
  if (!s) throw new NotFound(`script ${name} does not exist`);
  if (s.active) throw new StoreError('in-use', `script ${name} is active; deactivate it first`);
  await tx.deleteFrom('sieve_scripts').where('account_id', '=', accountId).where('name', '=', name).execute();
}

/** Makes `name` the active script, or deactivates all with null. */
export async function activateScript(tx: Tx, accountId: number, name: string | null): Promise<void> {
  if (name !== null && !(await getScript(tx, accountId, name))) throw new NotFound(`script ${name} does not exist`);
  await tx.updateTable('sieve_scripts').set({ active: 0 }).where('account_id', '=', accountId).where('active', '=', 1).execute();
  if (name !== null) await tx.updateTable('sieve_scripts').set({ active: 1 }).where('account_id', '=', accountId).where('name', '=', name).execute();
}

/**
 * Records a vacation reply to `sender` under `handle` for `periodMs`; returns false
 * (and records nothing) when one was already sent within its period.
 */
export async function recordAutoReply(tx: Tx, accountId: number, handle: string, sender: string, periodMs: number): Promise<boolean> {
  const now = Date.now();
  const key = sender.toLowerCase();
  await tx.deleteFrom('sieve_replies').where('account_id', '=', accountId).where('expires_at', '<=', now).execute();
  const inserted = await tx
    .insertInto('sieve_replies')
    .values({ account_id: accountId, handle, sender: key, expires_at: now + periodMs })
    .onConflict((oc) => oc.columns(['account_id', 'handle', 'sender']).doNothing())
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function deleteAccountSieve(tx: Tx, accountId: number): Promise<void> {
  await tx.deleteFrom('sieve_scripts').where('account_id', '=', accountId).execute();
  await tx.deleteFrom('sieve_replies').where('account_id', '=', accountId).execute();
}
