// Maildir trees (Dovecot, Courier): the root's cur/ and new/ are INBOX; Maildir++
// subfolders are the root's `.Name` directories, `.` separating levels, names in
// modified UTF-7. tmp/ holds deliveries in progress and is not read.
//
// Flags come from the file name's info suffix `:2,<letters>` (D draft, F flagged,
// R replied, S seen, T trashed; P "passed" has no IMAP flag); lower-case letters a–z
// are keywords numbered in the folder's `dovecot-keywords` file (`<n> <keyword>`).
// The internal date is the file's modification time (what Dovecot uses).

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeModifiedUtf7 } from './mutf7.js';
import { toCrlf } from './target.js';

export interface MaildirFolder {
  /** Our mailbox name (`/` separated). */
  name: string;
  dir: string;
}

export type MaildirItem =
  | { kind: 'message'; raw: Buffer; internalDate: Date; flags: string[]; origin: string }
  | { kind: 'too-large'; origin: string };

export class MaildirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MaildirError';
  }
}

async function isMaildir(dir: string): Promise<boolean> {
  for (const sub of ['cur', 'new']) {
    if ((await stat(join(dir, sub)).catch(() => undefined))?.isDirectory() === true) return true;
  }
  return false;
}

/** INBOX first, then the Maildir++ subfolders in name order. */
export async function maildirFolders(root: string): Promise<MaildirFolder[]> {
  if (!(await isMaildir(root))) throw new MaildirError(`${root} is not a Maildir (it has neither cur/ nor new/)`);
  const folders: MaildirFolder[] = [{ name: 'INBOX', dir: root }];
  for (const entry of (await readdir(root, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory() || !entry.name.startsWith('.') || entry.name === '.' || entry.name === '..') continue;
    const dir = join(root, entry.name);
    if (!(await isMaildir(dir))) continue;
    const name = entry.name
      .slice(1)
      .split('.')
      .map((part) => decodeModifiedUtf7(part).replace(/\//g, '_'))
      .join('/');
    if (name === '' || name.split('/').includes('')) continue;
    folders.push({ name: name.toUpperCase() === 'INBOX' ? 'INBOX' : name, dir });
  }
  return folders;
}

/** Dovecot's per-folder keyword numbering. */
async function readKeywords(dir: string): Promise<Map<number, string>> {
  const map = new Map<number, string>();
  const text = await readFile(join(dir, 'dovecot-keywords'), 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(\S+)\s*$/.exec(line);
    if (m) map.set(Number(m[1]), m[2]!);
  }
  return map;
}

export function maildirFlags(fileName: string, keywords: ReadonlyMap<number, string>): string[] {
  const info = /[:!]2,([A-Za-z]*)$/.exec(fileName)?.[1] ?? '';
  const flags: string[] = [];
  for (const c of info) {
    switch (c) {
      case 'D':
        flags.push('\\Draft');
        break;
      case 'F':
        flags.push('\\Flagged');
        break;
      case 'R':
        flags.push('\\Answered');
        break;
      case 'S':
        flags.push('\\Seen');
        break;
      case 'T':
        flags.push('\\Deleted');
        break;
      default:
        if (c >= 'a' && c <= 'z') {
          const kw = keywords.get(c.charCodeAt(0) - 97);
          if (kw !== undefined) flags.push(kw);
        }
    }
  }
  return flags;
}

/** The folder's messages, oldest first (by delivery time, then name). */
export async function* readMaildirFolder(folder: MaildirFolder, maxMessageBytes: number): AsyncGenerator<MaildirItem> {
  const keywords = await readKeywords(folder.dir);
  const files: Array<{ path: string; name: string; mtime: Date; size: number }> = [];
  for (const sub of ['new', 'cur']) {
    const names = await readdir(join(folder.dir, sub)).catch(() => [] as string[]);
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const path = join(folder.dir, sub, name);
      const st = await stat(path).catch(() => undefined);
      if (!st?.isFile()) continue;
      files.push({ path, name, mtime: st.mtime, size: st.size });
    }
  }
  files.sort((a, b) => a.mtime.getTime() - b.mtime.getTime() || a.name.localeCompare(b.name));
  for (const f of files) {
    const origin = `${folder.name} ${f.name}`;
    if (f.size > maxMessageBytes) {
      yield { kind: 'too-large', origin };
      continue;
    }
    const raw = toCrlf(await readFile(f.path));
    yield { kind: 'message', raw, internalDate: f.mtime, flags: maildirFlags(f.name, keywords), origin };
  }
}
