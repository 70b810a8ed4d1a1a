// Import from mbox files and Maildir trees on this machine.

import { basename, join } from 'node:path';
import type { ImportProgress } from './imap.js';
import { maildirFolders, readMaildirFolder } from './maildir.js';
import { readMbox, type MboxFormat } from './mbox.js';
import type { ImportTarget } from './target.js';
import { readdir, stat } from 'node:fs/promises';

/** The mailbox an mbox file goes to when none is named: its file name without `.mbox`/`.mbx`. */
export function mailboxForMbox(path: string): string {
  const name = basename(path).replace(/\.(mbox|mbx)$/i, '');
  return name.toUpperCase() === 'INBOX' || name === '' ? 'INBOX' : name;
}

/**
 * The mbox files under a directory (as `steadymail export mbox` writes them): every
 * `*.mbox` file, its mailbox named by its path (`Archive/2024.mbox` → Archive/2024).
 */
export async function mboxTree(dir: string): Promise<Array<{ file: string; mailbox: string }>> {
  const found: Array<{ file: string; mailbox: string }> = [];
  const walk = async (sub: string): Promise<void> => {
    const entries = (await readdir(join(dir, sub), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const rel = sub === '' ? e.name : `${sub}/${e.name}`;
      if (e.isDirectory()) await walk(rel);
      else if (e.isFile() && /\.mbox$/i.test(e.name)) {
        const name = rel.replace(/\.mbox$/i, '');
        found.push({ file: join(dir, rel), mailbox: name.toUpperCase() === 'INBOX' ? 'INBOX' : name });
      }
    }
  };
  await walk('');
  return found.sort((a, b) => (a.mailbox === 'INBOX' ? -1 : b.mailbox === 'INBOX' ? 1 : a.mailbox < b.mailbox ? -1 : 1));
}

export async function importMbox(paths: string[], options: { mailbox?: string; format: MboxFormat }, target: ImportTarget, progress: ImportProgress): Promise<void> {
  const files: Array<{ file: string; mailbox: string }> = [];
  for (const path of paths) {
    if ((await stat(path)).isDirectory()) files.push(...(await mboxTree(path)));
    else files.push({ file: path, mailbox: mailboxForMbox(path) });
  }
  for (const { file, mailbox } of files) {
    const total = (await stat(file)).size;
    const folder = await target.folder(file, options.mailbox ?? mailbox);
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
