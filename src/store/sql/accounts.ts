// Domains, accounts and aliases.

import { deleteAccountMetadata } from './metadata.js';
import { sql } from 'kysely';
import type { Tx } from './write-batch.js';
import { deleteAccountSieve } from './sieve.js';
import { toAccount, toAlias, toDomain } from './rows.js';
import { AlreadyExists, InvalidInput, NotFound } from '../errors.js';
import { DEFAULT_MAILBOXES, type Account, type Alias, type AuditContext, type Domain, type RecipientResolution } from '../types.js';
import type { AccountUpdate, NewAccount } from '../store.js';
import { insertMailbox } from './mailboxes.js';
import { writeAudit } from './audit.js';

const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;
// Dot-atom local parts (RFC 5321 4.1.2), UTF-8 allowed for SMTPUTF8 users.
const LOCAL_RE = /^[^\s@"(),:;<>[\\\]]{1,64}$/u;

export function normalizeDomain(name: string): string {
  const d = name.trim().toLowerCase().replace(/\.$/, '');
  if (!DOMAIN_RE.test(d)) throw new InvalidInput(`invalid domain name ${JSON.stringify(name)}`);
  return d;
}

export function splitAddress(address: string): { local: string; domain: string } {
  const a = address.trim().toLowerCase();
  const at = a.lastIndexOf('@');
  if (at < 0) throw new InvalidInput(`invalid address ${JSON.stringify(address)}: no @`);
  const local = a.slice(0, at);
  const domain = normalizeDomain(a.slice(at + 1));
  if (!LOCAL_RE.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    throw new InvalidInput(`invalid address ${JSON.stringify(address)}`);
  }
  return { local, domain };
}

export function normalizeAddress(address: string): string {
  const { local, domain } = splitAddress(address);
  return `${local}@${domain}`;
}

export async function createDomain(tx: Tx, name: string): Promise<Domain> {
  const d = normalizeDomain(name);
  const existing = await tx.selectFrom('domains').select('id').where('name', '=', d).executeTakeFirst();
  if (existing) throw new AlreadyExists(`domain ${d} already exists`);
  const row = await tx.insertInto('domains').values({ name: d, created_at: Date.now() }).returningAll().executeTakeFirstOrThrow();
  return toDomain(row);
}

export async function getDomain(tx: Tx, name: string): Promise<Domain | undefined> {
  const row = await tx.selectFrom('domains').selectAll().where('name', '=', name.trim().toLowerCase().replace(/\.$/, '')).executeTakeFirst();
  return row ? toDomain(row) : undefined;
}

export async function deleteDomain(tx: Tx, name: string, audit: AuditContext, force: boolean): Promise<number[]> {
  const domain = await getDomain(tx, name);
  if (!domain) throw new NotFound(`domain ${name} does not exist`);
  const accounts = await tx.selectFrom('accounts').select(['id', 'address']).where('domain_id', '=', domain.id).execute();
  const aliases = await tx.selectFrom('aliases').select('id').where('domain_id', '=', domain.id).execute();
  if (!force && (accounts.length > 0 || aliases.length > 0)) {
    throw new InvalidInput(`domain ${domain.name} still has ${accounts.length} account(s) and ${aliases.length} alias(es); remove them first or force`);
  }
  for (const a of accounts) await deleteAccount(tx, Number(a.id), audit);
  await tx.deleteFrom('aliases').where('domain_id', '=', domain.id).execute();
  await tx.deleteFrom('domains').where('id', '=', domain.id).execute();
  await writeAudit(tx, { ...audit, action: 'domain.delete', accountId: null, subject: domain.name, detail: { accounts: accounts.length } });
  return accounts.map((a) => Number(a.id));
}

export async function createAccount(tx: Tx, input: NewAccount): Promise<Account> {
  const address = normalizeAddress(input.address);
  const { domain } = splitAddress(address);
  const d = await getDomain(tx, domain);
  if (!d) throw new NotFound(`domain ${domain} is not hosted here; add it first`);
  if (await tx.selectFrom('accounts').select('id').where('address', '=', address).executeTakeFirst()) {
    throw new AlreadyExists(`account ${address} already exists`);
  }
  if (await tx.selectFrom('aliases').select('id').where('source', '=', address).executeTakeFirst()) {
    throw new AlreadyExists(`${address} is already an alias`);
  }
  const quota = input.quotaBytes ?? 0;
  if (!Number.isSafeInteger(quota) || quota < 0) throw new InvalidInput('quota must be a non-negative number of bytes');
  const row = await tx
    .insertInto('accounts')
    .values({
      address,
      domain_id: d.id,
      password_hash: input.passwordHash,
      quota_bytes: quota,
      used_bytes: 0,
      disabled: 0,
      last_uid_validity: 0,
      created_at: Date.now(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const account = toAccount(row);
  for (const m of DEFAULT_MAILBOXES) await insertMailbox(tx, account.id, m.name, m.specialUse, true);
  return account;
}

export async function getAccount(tx: Tx, address: string): Promise<Account | undefined> {
  const row = await tx.selectFrom('accounts').selectAll().where('address', '=', address.trim().toLowerCase()).executeTakeFirst();
  return row ? toAccount(row) : undefined;
}

export async function getAccountById(tx: Tx, id: number): Promise<Account | undefined> {
  const row = await tx.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toAccount(row) : undefined;
}

export async function updateAccount(tx: Tx, id: number, update: AccountUpdate): Promise<Account> {
  const values: { password_hash?: string; quota_bytes?: number; disabled?: number } = {};
  if (update.passwordHash !== undefined) values.password_hash = update.passwordHash;
  if (update.quotaBytes !== undefined) {
    if (!Number.isSafeInteger(update.quotaBytes) || update.quotaBytes < 0) throw new InvalidInput('quota must be a non-negative number of bytes');
    values.quota_bytes = update.quotaBytes;
  }
  if (update.disabled !== undefined) values.disabled = update.disabled ? 1 : 0;
  if (Object.keys(values).length > 0) await tx.updateTable('accounts').set(values).where('id', '=', id).execute();
  const account = await getAccountById(tx, id);
  if (!account) throw new NotFound(`account ${id} does not exist`);
  return account;
}

export async function deleteAccount(tx: Tx, id: number, audit: AuditContext): Promise<void> {
  const account = await getAccountById(tx, id);
  if (!account) throw new NotFound(`account ${id} does not exist`);
  await deleteAccountSieve(tx, id);
  const mailboxes = tx.selectFrom('mailboxes').select('id').where('account_id', '=', id);
  const counted = await tx
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('mailbox_id', 'in', mailboxes)
    .executeTakeFirst();
  await tx.deleteFrom('messages').where('mailbox_id', 'in', mailboxes).execute();
  await tx.deleteFrom('tombstones').where('mailbox_id', 'in', mailboxes).execute();
  await tx.deleteFrom('mailboxes').where('account_id', '=', id).execute();
  await deleteAccountMetadata(tx, id);
  await tx.deleteFrom('accounts').where('id', '=', id).execute();
  await writeAudit(tx, {
    ...audit,
    action: 'account.delete',
    accountId: id,
    subject: account.address,
    detail: { messages: Number(counted?.n ?? 0), bytes: account.usedBytes },
  });
}

export async function addAlias(tx: Tx, source: string, targets: string[]): Promise<Alias> {
  const src = source.trim().toLowerCase();
  const catchAll = src.startsWith('@');
  const domain = catchAll ? normalizeDomain(src.slice(1)) : splitAddress(src).domain;
  const normalizedSource = catchAll ? `@${domain}` : normalizeAddress(src);
  const d = await getDomain(tx, domain);
  if (!d) throw new NotFound(`domain ${domain} is not hosted here; add it first`);
  if (targets.length === 0) throw new InvalidInput('an alias needs at least one target address');
  const normalizedTargets = [...new Set(targets.map((t) => normalizeAddress(t)))];
  if (normalizedTargets.includes(normalizedSource)) throw new InvalidInput('an alias cannot point to itself');
  if (!catchAll && (await getAccount(tx, normalizedSource))) throw new AlreadyExists(`${normalizedSource} is an account`);
  if (await tx.selectFrom('aliases').select('id').where('source', '=', normalizedSource).executeTakeFirst()) {
    throw new AlreadyExists(`alias ${normalizedSource} already exists`);
  }
  const row = await tx
    .insertInto('aliases')
    .values({ source: normalizedSource, domain_id: d.id, targets: JSON.stringify(normalizedTargets) })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toAlias(row);
}

export async function listAliases(tx: Tx, domain?: string): Promise<Alias[]> {
  let q = tx.selectFrom('aliases').selectAll().orderBy('source');
  if (domain !== undefined) {
    const d = await getDomain(tx, domain);
    if (!d) throw new NotFound(`domain ${domain} is not hosted here`);
    q = q.where('domain_id', '=', d.id);
  }
  return (await q.execute()).map(toAlias);
}

export async function removeAlias(tx: Tx, source: string): Promise<void> {
  const res = await tx.deleteFrom('aliases').where('source', '=', source.trim().toLowerCase()).executeTakeFirst();
  if (Number(res.numDeletedRows) === 0) throw new NotFound(`alias ${source} does not exist`);
}

/** RFC 5321 2.4: the local part may be case-sensitive, but we treat every address case-insensitively. */
export async function resolveRecipient(tx: Tx, address: string): Promise<RecipientResolution> {
  let parts: { local: string; domain: string };
  try {
    parts = splitAddress(address);
  } catch {
    return { kind: 'unknown-user' };
  }
  const d = await getDomain(tx, parts.domain);
  if (!d) return { kind: 'unknown-domain' };
  const full = `${parts.local}@${parts.domain}`;
  const account = await getAccount(tx, full);
  if (account) return { kind: 'account', account };
  const alias = await tx
    .selectFrom('aliases')
    .selectAll()
    .where('source', 'in', [full, `@${parts.domain}`])
    // The exact alias wins over the catch-all.
    .orderBy(sql`length(source)`, 'desc')
    .executeTakeFirst();
  if (alias) {
    const a = toAlias(alias);
    return { kind: 'alias', alias: a, targets: a.targets };
  }
  return { kind: 'unknown-user' };
}
