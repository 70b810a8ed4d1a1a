// Accounts: list with quota usage, create, disable/enable, password reset, quota,
// remove (audited by the store), one account's folders and aliases, aliases add/remove,
// and the CSV bulk import.
//
// The import checks every row before it creates any: one bad row and nothing is created,
// and every row says what was wrong with it. Each account is then created in its own
// transaction (with its default folders), so none is ever half-created.

import { AddressError, domainOf, normalizeAddress, normalizeAliasSource, normalizeDomain } from '../../address/index.js';
import { hashPassword } from '../../auth/password.js';
import type { Account } from '../../store/types.js';
import { audit, auditContext, body, int, invalid, notFound, str, type AdminCall } from './common.js';
import { CsvError, parseCsv, parseQuota } from './csv.js';
import type { AccountInfo, ImportRowResult } from './types.js';

const info = (a: Account): AccountInfo => ({ address: a.address, quotaBytes: a.quotaBytes, usedBytes: a.usedBytes, disabled: a.disabled, createdAt: a.createdAt.toISOString() });

async function existing(call: AdminCall): Promise<Account> {
  const address = normalizeAddress(call.params.address ?? '');
  const account = await call.ctx.store.getAccount(address);
  if (!account) throw notFound(`account ${address}`);
  return account;
}

function password(value: unknown): string {
  const p = str(value, 'password', { max: 1024 });
  if (p === '') throw invalid('the password must not be empty');
  return p;
}

export async function listAccounts(call: AdminCall): Promise<{ accounts: AccountInfo[] }> {
  const domain = str(call.query.domain, 'domain', { max: 253, optional: true });
  return { accounts: (await call.ctx.store.listAccounts(domain === undefined || domain === '' ? undefined : normalizeDomain(domain))).map(info) };
}

export async function createAccount(call: AdminCall): Promise<AccountInfo> {
  const b = body(call);
  const address = normalizeAddress(str(b.address, 'address', { max: 320 }));
  const quotaBytes = int(b.quotaBytes, 'quotaBytes', 0, 0, Number.MAX_SAFE_INTEGER);
  const passwordHash = await hashPassword(password(b.password));
  const account = await call.ctx.store.createAccount({ address, passwordHash, quotaBytes });
  await audit(call, 'account.create', address, { quotaBytes }, account.id);
  return info(account);
}

export async function showAccount(call: AdminCall): Promise<AccountInfo & { folders: Array<{ name: string; specialUse: string | null; messages: number; unseen: number; bytes: number }>; aliases: Array<{ source: string; targets: string[] }> }> {
  const account = await existing(call);
  const [boxes, aliases] = await Promise.all([call.ctx.store.listMailboxes(account.id), call.ctx.store.listAliases(domainOf(account.address))]);
  return {
    ...info(account),
    folders: boxes.map((m) => ({ name: m.name, specialUse: m.specialUse, messages: m.messages, unseen: m.unseen, bytes: m.bytes })),
    aliases: aliases.filter((a) => a.targets.includes(account.address) || a.source === account.address).map((a) => ({ source: a.source, targets: a.targets })),
  };
}

export async function setPassword(call: AdminCall): Promise<{ ok: true }> {
  const account = await existing(call);
  const passwordHash = await hashPassword(password(body(call).password));
  await call.ctx.store.updateAccount(account.id, { passwordHash });
  await audit(call, 'account.password', account.address, {}, account.id);
  return { ok: true };
}

export async function setQuota(call: AdminCall): Promise<AccountInfo> {
  const account = await existing(call);
  const quotaBytes = int(body(call).quotaBytes, 'quotaBytes', -1, 0, Number.MAX_SAFE_INTEGER);
  if (quotaBytes < 0) throw invalid('quotaBytes is required (0 = unlimited)');
  const updated = await call.ctx.store.updateAccount(account.id, { quotaBytes });
  await audit(call, 'account.quota', account.address, { from: account.quotaBytes, to: quotaBytes }, account.id);
  return info(updated);
}

export const setDisabled =
  (disabled: boolean) =>
  async (call: AdminCall): Promise<AccountInfo> => {
    const account = await existing(call);
    const updated = await call.ctx.store.updateAccount(account.id, { disabled });
    // A disabled account's webmail sessions end at their next request (the session check reads the flag).
    await audit(call, disabled ? 'account.disable' : 'account.enable', account.address, {}, account.id);
    return info(updated);
  };

export async function removeAccount(call: AdminCall): Promise<{ ok: true }> {
  const account = await existing(call);
  await call.ctx.store.deleteAccount(account.id, auditContext(call));
  return { ok: true };
}

export async function addAlias(call: AdminCall): Promise<{ source: string; targets: string[] }> {
  const b = body(call);
  const source = normalizeAliasSource(str(b.source, 'source', { max: 320 }));
  if (!Array.isArray(b.targets) || b.targets.length === 0 || b.targets.length > 100 || !b.targets.every((t) => typeof t === 'string')) throw invalid('targets must be 1 to 100 addresses');
  const targets = [...new Set((b.targets).map(normalizeAddress))];
  const alias = await call.ctx.store.addAlias(source, targets);
  await audit(call, 'alias.add', alias.source, { targets });
  return { source: alias.source, targets: alias.targets };
}

export async function removeAlias(call: AdminCall): Promise<{ ok: true }> {
  const source = normalizeAliasSource(call.params.source ?? '');
  await call.ctx.store.removeAlias(source);
  await audit(call, 'alias.remove', source);
  return { ok: true };
}

/** Passwords hashed at once during an import (the libuv thread pool has a few threads). */
const HASH_BATCH = 4;

export async function importAccounts(call: AdminCall): Promise<{ created: number; rows: ImportRowResult[] }> {
  const { store, config } = call.ctx;
  const text = str(body(call).csv, 'csv', { max: config.admin.importMaxRows * 2200 });
  let table: string[][];
  try {
    table = parseCsv(text, { maxRows: config.admin.importMaxRows, maxFieldLength: 1024 });
  } catch (err) {
    if (err instanceof CsvError) throw invalid(err.message);
    throw err;
  }
  const header = (table[0] ?? []).map((h) => h.trim().toLowerCase());
  const col = (name: string): number => header.indexOf(name);
  if (col('address') < 0 || col('password') < 0) throw invalid('the first row must name the columns: address,password[,quota]');
  const rows = table.slice(1);
  if (rows.length === 0) throw invalid('no rows after the header');

  const seen = new Set<string>();
  const domains = new Set((await store.listDomains()).map((d) => d.name));
  const planned: Array<{ line: number; address: string; password: string; quotaBytes: number }> = [];
  const results: ImportRowResult[] = [];
  for (const [i, row] of rows.entries()) {
    const line = i + 2;
    const raw = (row[col('address')] ?? '').trim();
    let address = raw;
    const fail = (error: string): void => void results.push({ line, address, status: 'invalid', error });
    try {
      address = normalizeAddress(raw);
    } catch (err) {
      fail(err instanceof AddressError ? err.message : 'not an address');
      continue;
    }
    const pw = row[col('password')] ?? '';
    const quota = col('quota') >= 0 ? parseQuota(row[col('quota')] ?? '') : 0;
    if (pw === '') fail('the password is empty');
    else if (quota === undefined) fail(`invalid quota ${JSON.stringify(row[col('quota')])}`);
    else if (!domains.has(domainOf(address))) fail(`domain ${domainOf(address)} is not hosted here`);
    else if (seen.has(address)) fail('the address appears twice in the file');
    else if (await store.getAccount(address)) fail('the account already exists');
    else {
      seen.add(address);
      planned.push({ line, address, password: pw, quotaBytes: quota });
      results.push({ line, address, status: 'not-created' });
    }
  }
  if (results.some((r) => r.status === 'invalid')) return { created: 0, rows: results };

  // Hashing is the slow part: a few at a time, on libuv's thread pool.
  const hashes = new Map<number, string>();
  for (let i = 0; i < planned.length; i += HASH_BATCH) {
    await Promise.all(planned.slice(i, i + HASH_BATCH).map(async (p) => hashes.set(p.line, await hashPassword(p.password))));
  }
  let created = 0;
  for (const p of planned) {
    const result = results.find((r) => r.line === p.line)!;
    try {
      const account = await store.createAccount({ address: p.address, passwordHash: hashes.get(p.line)!, quotaBytes: p.quotaBytes });
      result.status = 'created';
      created++;
      await audit(call, 'account.create', p.address, { quotaBytes: p.quotaBytes, import: true }, account.id);
    } catch (err) {
      // Another request created it meanwhile: this row only.
      result.status = 'failed';
      result.error = err instanceof Error ? err.message : String(err);
    }
  }
  return { created, rows: results };
}
