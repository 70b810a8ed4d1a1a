// Mailboxes: creation with fresh UIDVALIDITY, rename (with INBOX's special
// rule), delete, subscription.

import { deleteMailboxMetadata } from './metadata.js';
import { sql } from 'kysely';
import type { Tx } from './write-batch.js';
import { toMailbox } from './rows.js';
import { AlreadyExists, InvalidInput, NotFound } from '../errors.js';
import type { AuditContext, Mailbox, SpecialUse } from '../types.js';
import type { ChangeEvent } from '../store.js';
import { writeAudit } from './audit.js';
import { moveRows } from './messages.js';

export const MAX_MAILBOX_NAME_BYTES = 1000;
export const MAX_MAILBOX_DEPTH = 32;

/** INBOX is case-insensitive (RFC 9051 5.1); every other name is kept as given. */
export function normalizeMailboxName(name: string): string {
  const parts = name.split('/');
  if (parts[0]?.toUpperCase() === 'INBOX') parts[0] = 'INBOX';
  const n = parts.join('/');
  if (n.length === 0) throw new InvalidInput('mailbox name is empty');
  if (Buffer.byteLength(n) > MAX_MAILBOX_NAME_BYTES) throw new InvalidInput('mailbox name is too long');
  if (parts.length > MAX_MAILBOX_DEPTH) throw new InvalidInput('mailbox name is nested too deeply');
  if (parts.some((p) => p.length === 0)) throw new InvalidInput('mailbox name has an empty level');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f*%]/.test(n)) throw new InvalidInput('mailbox name contains a control or wildcard character');
  return n;
}

async function nextUidValidity(tx: Tx, accountId: number): Promise<number> {
  // Strictly increasing per account, close to the clock: a recreated mailbox
  // never gets the UIDVALIDITY of its earlier incarnation (RFC 9051 2.3.1.1).
  const row = await tx
    .updateTable('accounts')
    .set({
      last_uid_validity: sql<number>`case when last_uid_validity + 1 > ${Math.floor(Date.now() / 1000)} then last_uid_validity + 1 else ${Math.floor(Date.now() / 1000)} end`,
    })
    .where('id', '=', accountId)
    .returning('last_uid_validity')
    .executeTakeFirst();
  if (!row) throw new NotFound(`account ${accountId} does not exist`);
  return Number(row.last_uid_validity);
}

export async function insertMailbox(tx: Tx, accountId: number, name: string, specialUse: SpecialUse | null, subscribed: boolean): Promise<Mailbox> {
  const uidValidity = await nextUidValidity(tx, accountId);
  const row = await tx
    .insertInto('mailboxes')
    .values({
      account_id: accountId,
      name,
      special_use: specialUse,
      subscribed: subscribed ? 1 : 0,
      uid_validity: uidValidity,
      uid_next: 1,
      highest_modseq: 1,
      messages: 0,
      unseen: 0,
      bytes: 0,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toMailbox(row);
}

export async function getMailbox(tx: Tx, accountId: number, name: string): Promise<Mailbox | undefined> {
  let n: string;
  try {
    n = normalizeMailboxName(name);
  } catch {
    return undefined;
  }
  const row = await tx.selectFrom('mailboxes').selectAll().where('account_id', '=', accountId).where('name', '=', n).executeTakeFirst();
  return row ? toMailbox(row) : undefined;
}

export async function createMailbox(
  tx: Tx,
  accountId: number,
  name: string,
  specialUse: SpecialUse | null,
  subscribed: boolean,
  events: ChangeEvent[],
): Promise<Mailbox> {
  const n = normalizeMailboxName(name);
  if (await getMailbox(tx, accountId, n)) throw new AlreadyExists(`mailbox ${n} already exists`);
  // RFC 9051 6.3.4: create the superior levels a client would expect to exist.
  const parts = n.split('/');
  for (let i = 1; i < parts.length; i++) {
    const parent = parts.slice(0, i).join('/');
    if (!(await getMailbox(tx, accountId, parent))) {
      await insertMailbox(tx, accountId, parent, null, subscribed);
      events.push({ accountId, kind: 'mailbox-created', name: parent });
    }
  }
  const mailbox = await insertMailbox(tx, accountId, n, specialUse, subscribed);
  events.push({ accountId, kind: 'mailbox-created', name: n });
  return mailbox;
}

function childrenOf(name: string) {
  return sql<boolean>`substr(name, 1, ${name.length + 1}) = ${name + '/'}`;
}

export async function renameMailbox(tx: Tx, accountId: number, oldName: string, newName: string, events: ChangeEvent[]): Promise<void> {
  const from = normalizeMailboxName(oldName);
  const to = normalizeMailboxName(newName);
  const source = await getMailbox(tx, accountId, from);
  if (!source) throw new NotFound(`mailbox ${from} does not exist`);
  if (from === to) throw new AlreadyExists(`mailbox ${to} already exists`);
  if (await getMailbox(tx, accountId, to)) throw new AlreadyExists(`mailbox ${to} already exists`);
  if (to.startsWith(from + '/')) throw new InvalidInput('cannot rename a mailbox into its own child');

  if (from === 'INBOX') {
    // RFC 9051 6.3.6: move INBOX's messages into a new mailbox; INBOX stays, empty.
    const target = await createMailbox(tx, accountId, to, null, true, events);
    const uids = (await tx.selectFrom('messages').select('uid').where('mailbox_id', '=', source.id).orderBy('uid').execute()).map((r) => Number(r.uid));
    if (uids.length > 0) await moveRows(tx, source, uids, target, events);
    return;
  }
  const children = await tx.selectFrom('mailboxes').select(['id', 'name']).where('account_id', '=', accountId).where(childrenOf(from)).execute();
  for (const c of children) {
    const renamed = to + c.name.slice(from.length);
    if (await getMailbox(tx, accountId, renamed)) throw new AlreadyExists(`mailbox ${renamed} already exists`);
  }
  // Parents of the new name are created as for CREATE.
  const parts = to.split('/');
  for (let i = 1; i < parts.length; i++) {
    const parent = parts.slice(0, i).join('/');
    if (!(await getMailbox(tx, accountId, parent))) {
      await insertMailbox(tx, accountId, parent, null, true);
      events.push({ accountId, kind: 'mailbox-created', name: parent });
    }
  }
  await tx.updateTable('mailboxes').set({ name: to }).where('id', '=', source.id).execute();
  for (const c of children) {
    await tx.updateTable('mailboxes').set({ name: to + c.name.slice(from.length) }).where('id', '=', Number(c.id)).execute();
  }
  events.push({ accountId, kind: 'mailbox-renamed', name: from, newName: to });
}

export async function deleteMailbox(tx: Tx, accountId: number, name: string, audit: AuditContext, events: ChangeEvent[]): Promise<number> {
  const n = normalizeMailboxName(name);
  if (n === 'INBOX') throw new InvalidInput('INBOX cannot be deleted');
  const mailbox = await getMailbox(tx, accountId, n);
  if (!mailbox) throw new NotFound(`mailbox ${n} does not exist`);
  // RFC 9051 6.3.5: a mailbox with children is deleted only if it could be made \Noselect;
  // we keep the simpler rule most servers use: refuse while it has children.
  const child = await tx.selectFrom('mailboxes').select('id').where('account_id', '=', accountId).where(childrenOf(n)).executeTakeFirst();
  if (child) throw new InvalidInput(`mailbox ${n} has child mailboxes; delete them first`);
  const count = mailbox.messages;
  await tx.deleteFrom('messages').where('mailbox_id', '=', mailbox.id).execute();
  await tx.deleteFrom('tombstones').where('mailbox_id', '=', mailbox.id).execute();
  await deleteMailboxMetadata(tx, mailbox.id);
  await tx.deleteFrom('mailboxes').where('id', '=', mailbox.id).execute();
  await tx
    .updateTable('accounts')
    .set({ used_bytes: sql<number>`used_bytes - ${mailbox.bytes}` })
    .where('id', '=', accountId)
    .execute();
  if (count > 0) {
    await writeAudit(tx, { ...audit, action: 'mailbox.delete', accountId, subject: n, detail: { messages: count, bytes: mailbox.bytes } });
  }
  events.push({ accountId, kind: 'mailbox-deleted', name: n });
  return count;
}

export async function setSubscribed(tx: Tx, accountId: number, name: string, subscribed: boolean, events: ChangeEvent[]): Promise<void> {
  const mailbox = await getMailbox(tx, accountId, name);
  if (!mailbox) throw new NotFound(`mailbox ${name} does not exist`);
  await tx.updateTable('mailboxes').set({ subscribed: subscribed ? 1 : 0 }).where('id', '=', mailbox.id).execute();
  events.push({ accountId, kind: 'subscription', name: mailbox.name });
}
