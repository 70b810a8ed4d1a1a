// One mailbox as a Maildir++ folder that Dovecot reads as it is:
// - INBOX is the root (cur/ new/ tmp/); `A/B` is `.A.B` with every level in modified
//   UTF-7 (a `.` inside a level, which Maildir++ cannot hold, is encoded as well), with
//   the `maildirfolder` marker Dovecot writes;
// - one file per message, written in tmp/ and renamed into place (the Maildir rule),
//   named `<time>.M<uid>P<mailbox>.steadymail,S=<size on disk>,W=<size with CRLF>`;
//   its modification time is the internal date (what Dovecot and our importer read);
// - flags in the info suffix `:2,` + D F R S T, keywords as the letters a–z numbered in
//   the folder's `dovecot-keywords` (26 at most per folder: more cannot be written and
//   are counted in the summary);
// - a message still \Recent and without flags goes to new/ without a suffix, as a fresh
//   delivery would; every other message goes to cur/;
// - `dovecot-uidlist` (version 3) maps every file to its UID and records UIDVALIDITY
//   and UIDNEXT, so Dovecot serves the same UIDs and clients need not download again.

import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from '../../store/blobs/blob-store.js';
import type { Mailbox, MessageMeta } from '../../store/types.js';
import { encodeModifiedUtf7 } from '../import/mutf7.js';
import { diskLines } from './lines.js';
import { FileWriter } from './writer.js';

export const MAILDIR_KEYWORD_LIMIT = 26;

/** The folder's directory under the Maildir root. */
export function maildirFolderDir(root: string, name: string): string {
  if (name === 'INBOX') return root;
  return join(root, `.${name.split('/').map((part) => encodeModifiedUtf7(part, '.')).join('.')}`);
}

/** `:2,` + the info letters in ASCII order (as the Maildir specification asks). */
export function maildirInfo(flags: readonly string[], keywordLetters: readonly string[]): string {
  const letters: string[] = [];
  if (flags.includes('\\Draft')) letters.push('D');
  if (flags.includes('\\Flagged')) letters.push('F');
  if (flags.includes('\\Answered')) letters.push('R');
  if (flags.includes('\\Seen')) letters.push('S');
  if (flags.includes('\\Deleted')) letters.push('T');
  return `:2,${letters.join('')}${[...keywordLetters].sort().join('')}`;
}

export interface MaildirFolderResult {
  messages: number;
  bytes: number;
  /** Keywords beyond the 26 a Maildir folder can name, not written. */
  keywordsDropped: string[];
}

export async function writeMaildirFolder(
  root: string,
  blobs: BlobStore,
  box: { mailbox: Mailbox; firstRecentUid: number; messages: Array<Omit<MessageMeta, 'structure'>> },
  onMessage?: () => void,
): Promise<MaildirFolderResult> {
  const dir = maildirFolderDir(root, box.mailbox.name);
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
  if (dir !== root) await writeFile(join(dir, 'maildirfolder'), '', { mode: 0o600 });

  const letters = new Map<string, string>();
  const dropped = new Set<string>();
  for (const m of box.messages) {
    for (const k of m.keywords) {
      if (letters.has(k)) continue;
      if (letters.size < MAILDIR_KEYWORD_LIMIT) letters.set(k, String.fromCharCode(97 + letters.size));
      else dropped.add(k);
    }
  }
  if (letters.size > 0) await writeFile(join(dir, 'dovecot-keywords'), [...letters.keys()].map((k, i) => `${i} ${k}\n`).join(''), { mode: 0o600 });

  const uidlist: string[] = [];
  let bytes = 0;
  for (const m of box.messages) {
    const tmpName = `${Math.floor(m.internalDate.getTime() / 1000)}.M${m.uid}P${box.mailbox.id}.steadymail`;
    const tmpPath = join(dir, 'tmp', tmpName);
    const out = await FileWriter.create(tmpPath);
    let lineEnds = 0;
    try {
      for await (const piece of diskLines(blobs.createReadStream(m.blobId) as AsyncIterable<Buffer>, { quoteFrom: false, hideMboxHeaders: false })) {
        if (piece[piece.length - 1] === 0x0a) lineEnds++;
        await out.write(piece);
      }
      await out.close(m.internalDate);
    } catch (err) {
      await out.abandon();
      throw err;
    }
    const base = `${tmpName},S=${out.written},W=${out.written + lineEnds}`;
    const kw = m.keywords.flatMap((k) => letters.get(k) ?? []);
    const recent = m.uid >= box.firstRecentUid && m.flags.length === 0 && kw.length === 0;
    await rename(tmpPath, recent ? join(dir, 'new', base) : join(dir, 'cur', `${base}${maildirInfo(m.flags, kw)}`));
    uidlist.push(`${m.uid} :${base}\n`);
    bytes += m.size;
    onMessage?.();
  }
  const header = `3 V${box.mailbox.uidValidity} N${box.mailbox.uidNext} G${randomBytes(16).toString('hex')}\n`;
  await writeFile(join(dir, 'dovecot-uidlist'), header + uidlist.join(''), { mode: 0o600 });
  return { messages: box.messages.length, bytes, keywordsDropped: [...dropped] };
}
