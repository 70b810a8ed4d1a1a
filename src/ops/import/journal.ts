// What an import from a live server has already done, kept in a small JSON file so
// that a re-run (after a crash, a dropped connection or to pick up new mail) fetches
// only what is new. IMAP: per folder the source's UIDVALIDITY and the highest UID
// imported; if UIDVALIDITY changed, the folder is read again from the start and the
// target's duplicate check keeps it from being imported twice. POP3: the UIDLs done.
// The file is only an optimisation for fetching: losing it never duplicates mail.

import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface ImapFolderState {
  uidValidity: string;
  /** Every source UID up to this one is in the target. */
  lastUid: number;
}

export interface JournalData {
  format: 1;
  source: string;
  account: string;
  imap: Record<string, ImapFolderState>;
  pop3: string[];
  updatedAt: string;
}

export class ImportJournal {
  private constructor(
    readonly path: string,
    readonly data: JournalData,
  ) {}

  static async load(path: string, source: string, account: string): Promise<ImportJournal> {
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    const empty: JournalData = { format: 1, source, account, imap: {}, pop3: [], updatedAt: new Date().toISOString() };
    if (text === undefined) return new ImportJournal(path, empty);
    const parsed = JSON.parse(text) as Partial<JournalData>;
    return new ImportJournal(path, {
      ...empty,
      imap: typeof parsed.imap === 'object' && parsed.imap !== null ? parsed.imap : {},
      pop3: Array.isArray(parsed.pop3) ? parsed.pop3.filter((u): u is string => typeof u === 'string') : [],
    });
  }

  /** Writes the file atomically (temp file, fsync, rename). */
  async save(): Promise<void> {
    this.data.updatedAt = new Date().toISOString();
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp-${process.pid}`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(`${JSON.stringify(this.data, null, 1)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
  }
}
