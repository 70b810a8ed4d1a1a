// steadymail export: accounts to mbox files or Maildir++ trees, while the server runs.
//
// Each account is read in one snapshot (Store.snapshotAccount: one read transaction),
// so a message moved or expunged meanwhile is exported exactly once or not at all; the
// bodies are read after the snapshot, which is safe because blobs are immutable and
// are removed only by garbage collection after its grace period. Nothing is written to
// the store.
//
// Layout under the destination (which must be empty or absent):
//   mbox:    <name>.mbox per mailbox, `/` levels as directories (INBOX.mbox,
//            Archive.mbox, Archive/2024.mbox); names stay UTF-8
//   maildir: the account's Maildir++ root (INBOX) and its .Sub.Folders
// With several accounts (or all), each gets <destination>/<address>/.

import { mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NotFound } from '../../store/errors.js';
import type { AccountSnapshot, Store } from '../../store/store.js';
import { maildirFolderDir, writeMaildirFolder } from './maildir.js';
import { writeMboxMessage } from './mbox.js';
import { FileWriter } from './writer.js';

export type ExportFormat = 'mbox' | 'maildir';

export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

export interface ExportOptions {
  format: ExportFormat;
  dest: string;
  /** Addresses; undefined: every account. */
  accounts?: string[];
  /** Each account into <dest>/<address>/ (always so for every account). */
  perAccountDirs?: boolean;
  /** Only this mailbox (exact name). */
  folder?: string;
  onProgress?: (phase: string, done: number, total: number) => void;
}

export interface ExportedFolder {
  mailbox: string;
  path: string;
  messages: number;
  bytes: number;
  keywordsDropped: string[];
  /** What a reader of the export should know about this folder. */
  warnings: string[];
}

export interface ExportSummary {
  format: ExportFormat;
  dest: string;
  accounts: Array<{ account: string; path: string; folders: ExportedFolder[] }>;
  messages: number;
  bytes: number;
}

/** A mailbox level as a file or directory name: never `.`, `..`, empty or hidden. */
function safeLevel(level: string): string {
  return level === '' || level.startsWith('.') ? `_${level}` : level;
}

export function mboxPath(root: string, mailbox: string): string {
  const levels = mailbox.split('/').map(safeLevel);
  const last = levels.pop() ?? 'INBOX';
  return join(root, ...levels, `${last}.mbox`);
}

async function ensureEmpty(dir: string): Promise<void> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  if (entries.length > 0) throw new ExportError(`${dir} is not empty: export writes into a new or empty directory`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

async function exportMbox(store: Store, snapshot: AccountSnapshot, root: string, progress: () => void): Promise<ExportedFolder[]> {
  const folders: ExportedFolder[] = [];
  for (const box of snapshot.mailboxes) {
    const path = mboxPath(root, box.mailbox.name);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const out = await FileWriter.create(path);
    let bytes = 0;
    try {
      for (const m of box.messages) {
        await writeMboxMessage(out, store.blobs, m);
        bytes += m.size;
        progress();
      }
      await out.close();
    } catch (err) {
      await out.abandon();
      throw err;
    }
    folders.push({ mailbox: box.mailbox.name, path, messages: box.messages.length, bytes, keywordsDropped: [], warnings: [] });
  }
  return folders;
}

async function exportMaildir(store: Store, snapshot: AccountSnapshot, root: string, progress: () => void): Promise<ExportedFolder[]> {
  const folders: ExportedFolder[] = [];
  // The root is INBOX: it exists even when only another folder is exported.
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(root, sub), { recursive: true, mode: 0o700 });
  for (const box of snapshot.mailboxes) {
    const r = await writeMaildirFolder(root, store.blobs, box, progress);
    const warnings: string[] = [];
    if (r.keywordsDropped.length > 0) warnings.push(`keywords not written (a Maildir folder names 26 at most): ${r.keywordsDropped.join(' ')}`);
    if (box.mailbox.name.includes('.')) {
      warnings.push('the name holds a ".", the Maildir++ separator: written as "&AC4-", which steadymail import reads back but Dovecot cannot open; rename the folder for Dovecot');
    }
    folders.push({ mailbox: box.mailbox.name, path: maildirFolderDir(root, box.mailbox.name), messages: r.messages, bytes: r.bytes, keywordsDropped: r.keywordsDropped, warnings });
  }
  return folders;
}

export async function exportAccounts(store: Store, options: ExportOptions): Promise<ExportSummary> {
  await ensureEmpty(options.dest);
  const all = options.accounts === undefined;
  const addresses = options.accounts ?? (await store.listAccounts()).map((a) => a.address);
  const summary: ExportSummary = { format: options.format, dest: options.dest, accounts: [], messages: 0, bytes: 0 };
  for (const address of addresses) {
    const snapshot = await store.snapshotAccount(address);
    if (!snapshot) throw new NotFound(`account ${address} does not exist`);
    if (options.folder !== undefined) {
      snapshot.mailboxes = snapshot.mailboxes.filter((b) => b.mailbox.name === options.folder);
      if (snapshot.mailboxes.length === 0 && !all) throw new NotFound(`${address} has no mailbox ${options.folder}`);
    }
    const root = all || options.perAccountDirs === true ? join(options.dest, address) : options.dest;
    await mkdir(root, { recursive: true, mode: 0o700 });
    const total = snapshot.mailboxes.reduce((n, b) => n + b.messages.length, 0);
    let done = 0;
    const progress = () => options.onProgress?.(address, ++done, total);
    const folders = options.format === 'mbox' ? await exportMbox(store, snapshot, root, progress) : await exportMaildir(store, snapshot, root, progress);
    summary.accounts.push({ account: address, path: root, folders });
    for (const f of folders) {
      summary.messages += f.messages;
      summary.bytes += f.bytes;
    }
  }
  return summary;
}
