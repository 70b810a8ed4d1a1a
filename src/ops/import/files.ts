// Import from mbox files and Maildir trees on this machine.

import { basename } from 'node:path';
import type { ImportProgress } from './imap.js';
import { maildirFolders, readMaildirFolder } from './maildir.js';
import { readMbox, type MboxFormat } from './mbox.js';
import type { ImportTarget } from './target.js';
import { stat } from 'node:fs/promises';

/** The mailbox an mbox file goes to when none is named: its file name without `.mbox`/`.mbx`. */
export function mailboxForMbox(path: string): string {
  const name = basename(path).replace(/\.(mbox|mbx)$/i, '');
  return name.toUpperCase() === 'INBOX' || name === '' ? 'INBOX' : name;
}

export async function importMbox(files: string[], options: { mailbox?: string; format: MboxFormat }, target: ImportTarget, progress: ImportProgress): Promise<void> {
  for (const file of files) {
    const total = (await stat(file)).size;
    const folder = await target.folder(file, options.mailbox ?? mailboxForMbox(file));
    for await (const item of readMbox(file, { format: options.format, maxMessageBytes: target.maxMessageBytes, label: basename(file) })) {
      if (item.kind === 'too-large') target.tooLarge(folder, item.origin);
      else await target.add(folder, item);
      progress(basename(file), item.offset, total);
    }
    progress(basename(file), total, total);
  }
}

export async function importMaildir(root: string, target: ImportTarget, progress: ImportProgress): Promise<void> {
  for (const source of await maildirFolders(root)) {
    const folder = await target.folder(source.dir, source.name);
    let n = 0;
    for await (const item of readMaildirFolder(source, target.maxMessageBytes)) {
      if (item.kind === 'too-large') target.tooLarge(folder, item.origin);
      else await target.add(folder, item);
      progress(source.name, ++n, n);
    }
  }
}
