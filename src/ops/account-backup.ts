// Backup and restore of one account, while the server runs and serves everyone else.
//
// A backup directory holds `account.json` (the account, its mailboxes and message
// metadata, read in one snapshot by Store.snapshotAccount), `blobs/<aa>/<sha256>` (the
// bodies, copied after the snapshot: they were durable before the metadata that refers
// to them, and never change) and `backup.json` (driver "account"). Repeating a backup
// into the same directory copies only new bodies.
//
// Restore goes through the store's write path, like an import (ops/import/target.ts):
// an account that does not exist is created with the saved password hash, quota and
// state; into an existing account only the messages it lacks are added (it never
// duplicates, so a restore can be repeated or merged into a live account). Restored
// messages get new UIDs in mailboxes that keep their UIDVALIDITY if they still exist
// and get a new one if they are created: UIDs are never reused, so no client cache goes
// wrong, at the cost of clients downloading the restored messages again.

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AccountSnapshot, Store } from '../store/store.js';
import { NotFound } from '../store/errors.js';
import { BackupError, BACKUP_MANIFEST, readManifest, writeDurably } from './backup.js';
import { ImportTarget, type ImportSummary } from './import/target.js';

export const ACCOUNT_FILE = 'account.json';

interface SavedAccount {
  format: 1;
  address: string;
  passwordHash: string;
  quotaBytes: number;
  disabled: boolean;
  mailboxes: Array<{
    name: string;
    specialUse: string | null;
    subscribed: boolean;
    uidValidity: number;
    messages: Array<{ uid: number; flags: string[]; keywords: string[]; internalDate: string; size: number; blobId: string }>;
  }>;
}

function blobPath(dir: string, id: string): string {
  return join(dir, 'blobs', id.slice(0, 2), id);
}

export async function backupAccount(store: Store, address: string, dir: string, onProgress?: (done: number, total: number) => void): Promise<{ messages: number; blobsCopied: number; blobsKept: number }> {
  const snapshot: AccountSnapshot | undefined = await store.snapshotAccount(address);
  if (!snapshot) throw new NotFound(`account ${address} does not exist`);
  const saved: SavedAccount = {
    format: 1,
    address: snapshot.account.address,
    passwordHash: snapshot.account.passwordHash,
    quotaBytes: snapshot.account.quotaBytes,
    disabled: snapshot.account.disabled,
    mailboxes: snapshot.mailboxes.map(({ mailbox, messages }) => ({
      name: mailbox.name,
      specialUse: mailbox.specialUse,
      subscribed: mailbox.subscribed,
      uidValidity: mailbox.uidValidity,
      messages: messages.map((m) => ({ uid: m.uid, flags: m.flags, keywords: m.keywords, internalDate: m.internalDate.toISOString(), size: m.size, blobId: m.blobId })),
    })),
  };
  const ids = new Map<string, number>();
  for (const b of saved.mailboxes) for (const m of b.messages) ids.set(m.blobId, m.size);
  let blobsCopied = 0;
  let blobsKept = 0;
  for (const [id, size] of ids) {
    const existing = await stat(blobPath(dir, id)).catch(() => undefined);
    if (existing?.size === size) blobsKept++;
    else {
      await writeDurably(blobPath(dir, id), await store.blobs.get(id));
      blobsCopied++;
    }
    onProgress?.(blobsCopied + blobsKept, ids.size);
  }
  await writeDurably(join(dir, ACCOUNT_FILE), Buffer.from(JSON.stringify(saved)));
  const messages = saved.mailboxes.reduce((n, b) => n + b.messages.length, 0);
  await writeDurably(
    join(dir, BACKUP_MANIFEST),
    Buffer.from(`${JSON.stringify({ format: 1, driver: 'account', account: saved.address, createdAt: new Date().toISOString(), messages, blobsCopied, blobsKept }, null, 2)}\n`),
  );
  return { messages, blobsCopied, blobsKept };
}

export interface AccountRestoreResult {
  created: boolean;
  summary: ImportSummary;
  /** Messages in the backup; every one is now in the account (imported or already there). */
  messages: number;
}

/** Restores into `address` (default: the address saved), creating the account if needed. */
export async function restoreAccount(
  store: Store,
  dir: string,
  options: { address?: string; maxMessageBytes: number; onProgress?: (done: number, total: number) => void },
): Promise<AccountRestoreResult> {
  const manifest = await readManifest(dir);
  if (manifest.driver !== 'account') throw new BackupError(`${dir} is a backup of a whole ${manifest.driver} store, not of one account`);
  const saved = JSON.parse(await readFile(join(dir, ACCOUNT_FILE), 'utf8')) as SavedAccount;
  const address = options.address ?? saved.address;
  let account = await store.getAccount(address);
  const created = !account;
  // Created without a quota, so that the restore itself is never refused; the saved
  // quota is set afterwards.
  account ??= await store.createAccount({ address, passwordHash: saved.passwordHash, quotaBytes: 0 });
  // Messages the store once accepted are restored even if the size limit was lowered since.
  const target = await ImportTarget.open(store, address, `backup:${dir}`, saved.mailboxes.reduce((max, b) => b.messages.reduce((mm, m) => Math.max(mm, m.size), max), options.maxMessageBytes));
  const total = saved.mailboxes.reduce((n, b) => n + b.messages.length, 0);
  let done = 0;
  for (const box of saved.mailboxes) {
    const folder = await target.folder(box.name, box.name, box.specialUse ?? undefined);
    if (created && !box.subscribed) await store.setSubscribed(account.id, folder.mailbox, false);
    for (const m of box.messages) {
      const raw = await readFile(blobPath(dir, m.blobId)).catch(() => undefined);
      if (!raw) throw new BackupError(`the backup lacks the body ${m.blobId} of ${box.name} uid ${m.uid}`);
      if (createHash('sha256').update(raw).digest('hex') !== m.blobId) throw new BackupError(`backup body ${m.blobId} is damaged (its bytes do not match its name)`);
      await target.add(folder, { raw, flags: [...m.flags, ...m.keywords], internalDate: new Date(m.internalDate), origin: `${box.name} uid ${m.uid}` });
      options.onProgress?.(++done, total);
    }
  }
  if (created) await store.updateAccount(account.id, { quotaBytes: saved.quotaBytes, disabled: saved.disabled });
  return { created, summary: target.summary, messages: total };
}
