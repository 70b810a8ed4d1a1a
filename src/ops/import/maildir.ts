// Maildir trees (Dovecot, Courier): the root's cur/ and new/ are INBOX; Maildir++
// subfolders are the root's `.Name` directories, `.` separating levels, names in
// modified UTF-7. tmp/ holds deliveries in progress and is not read.
//
// Flags come from the file name's info suffix `:2,<letters>` (D draft, F flagged,
// R replied, S seen, T trashed; P "passed" has no IMAP flag); lower-case letters a–z
// are keywords numbered in the folder's `dovecot-keywords` file (`<n> <keyword>`).
// Courier-IMAP keeps keywords in the folder's `courierimapkeywords/` directory instead:
// `:list` names the keywords (one a line), then after an empty line maps messages
// (`<file name without :2,…>:<n> <n>…`); a later change to one message is a file of
// its own holding all its keywords, one a line: `<name>` or `.<counter>.<name>` (the
// plain name wins, then the highest counter). Both kinds are read and merged.
// The internal date is the file's modification time (what Dovecot uses).

import { open, readdir, readFile, stat } from 'node:fs/promises';
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

/** The Maildir base name of a message file: without its info (`:2,…`, `!2,…`). */
export function maildirBaseName(fileName: string): string {
  return fileName.replace(/[:!]2,.*$/, '');
}

/** A small file's text; an absent one is empty, a larger one than `maxBytes` is refused. */
async function readSmall(path: string, maxBytes: number): Promise<string> {
  const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!fh) return '';
  try {
    const { size } = await fh.stat();
    if (size > maxBytes) throw new MaildirError(`${path} is larger than ${maxBytes} bytes (limits.max_message_bytes)`);
    return (await fh.readFile()).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Courier-IMAP's keywords of a folder: message base name → keywords. */
export async function readCourierKeywords(dir: string, maxBytes: number): Promise<Map<string, string[]>> {
  const kwDir = join(dir, 'courierimapkeywords');
  const byName = new Map<string, string[]>();
  const list = (await readSmall(join(kwDir, ':list'), maxBytes)).split('\n');
  const names: string[] = [];
  let i = 0;
  for (; i < list.length && list[i] !== ''; i++) names.push(list[i]!);
  for (i++; i < list.length; i++) {
    const m = /^(.+):([\d ]*)$/.exec(list[i]!);
    if (!m) continue;
    const keywords = m[2]!.split(' ').flatMap((n) => (n === '' ? [] : (names[Number(n)] ?? [])));
    byName.set(m[1]!, keywords);
  }
  // Per-message updates: the plain name overrides `.<n>.<name>`, the highest n wins among those.
  const updates = new Map<string, { file: string; rank: number }>();
  for (const file of await readdir(kwDir).catch(() => [] as string[])) {
    if (file === ':list' || file.startsWith(':')) continue;
    const counted = /^\.(\d+)\.(.+)$/.exec(file);
    const base = counted ? counted[2]! : file;
    if (!counted && file.startsWith('.')) continue;
    const rank = counted ? Number(counted[1]) : Number.POSITIVE_INFINITY;
    const known = updates.get(base);
    if (!known || rank > known.rank) updates.set(base, { file, rank });
  }
  for (const [base, { file }] of updates) {
    byName.set(
      base,
      (await readSmall(join(kwDir, file), maxBytes)).split('\n').map((k) => k.trim()).filter((k) => k !== ''),
    );
  }
  return byName;
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
  const courier = await readCourierKeywords(folder.dir, maxMessageBytes);
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
    const flags = maildirFlags(f.name, keywords);
    for (const k of courier.get(maildirBaseName(f.name)) ?? []) if (!flags.includes(k)) flags.push(k);
    yield { kind: 'message', raw, internalDate: f.mtime, flags, origin };
  }
}
