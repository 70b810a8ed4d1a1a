// Where imported mail goes: one account of this store, through the same write path as
// delivery and IMAP APPEND (blob first and durable, then the metadata row with its MIME
// index; quota charged by the store). Re-running an import never duplicates: before a
// message is appended, the target mailbox is asked whether it already holds those bytes
// (a multiset of blob ids, so a source holding one message twice keeps both).

import { indexMessage, toStoredStructure } from '../../mime/index.js';
import { NotFound } from '../../store/errors.js';
import type { Store } from '../../store/store.js';
import { SYSTEM_FLAGS, type Account, type Mailbox, type SpecialUse, type SystemFlag } from '../../store/types.js';
import { createHash } from 'node:crypto';

export interface ImportMessage {
  raw: Buffer;
  internalDate?: Date | undefined;
  flags?: Iterable<string>;
  /** Where it came from, for the summary: `INBOX uid 7`, `file.mbox @1234`. */
  origin: string;
}

export interface FolderSummary {
  source: string;
  mailbox: string;
  imported: number;
  duplicates: number;
  tooLarge: number;
}

export interface ImportSummary {
  account: string;
  source: string;
  folders: FolderSummary[];
  imported: number;
  duplicates: number;
  tooLarge: number;
  bytes: number;
  /** Messages skipped for their size, by origin (first 100). */
  skipped: string[];
  reconnects: number;
}

const SYSTEM = new Set<string>(SYSTEM_FLAGS);
// RFC 9051 atom: no controls, space, ( ) { % * " \ ]
// eslint-disable-next-line no-control-regex -- control characters are exactly what is excluded
const KEYWORD = /^[^\x00-\x20\x7f(){%*"\\\]]{1,100}$/;

/** Splits source flags into our system flags and valid IMAP keywords (\Recent and unknown \flags dropped). */
export function splitFlags(flags: Iterable<string>): { flags: SystemFlag[]; keywords: string[] } {
  const sys = new Set<SystemFlag>();
  const kw = new Set<string>();
  for (const f of flags) {
    const canonical = SYSTEM_FLAGS.find((s) => s.toLowerCase() === f.toLowerCase());
    if (canonical && SYSTEM.has(canonical)) sys.add(canonical);
    else if (!f.startsWith('\\') && KEYWORD.test(f)) kw.add(f);
  }
  return { flags: SYSTEM_FLAGS.filter((f) => sys.has(f)), keywords: [...kw] };
}

/** Bare LF line ends (mbox, Maildir files on disk) become CRLF, as IMAP serves them. */
export function toCrlf(raw: Buffer): Buffer {
  if (!raw.includes(0x0a)) return raw;
  const out: Buffer[] = [];
  let start = 0;
  let extra = 0;
  for (let i = raw.indexOf(0x0a); i !== -1; i = raw.indexOf(0x0a, i + 1)) {
    if (i > 0 && raw[i - 1] === 0x0d) continue;
    out.push(raw.subarray(start, i), CRLF);
    start = i + 1;
    extra++;
  }
  if (extra === 0) return raw;
  out.push(raw.subarray(start));
  return Buffer.concat(out);
}
const CRLF = Buffer.from('\r\n');

export class ImportTarget {
  readonly summary: ImportSummary;
  /** Per target mailbox: blob id → copies not yet matched by a source message (loaded when first needed). */
  private readonly mailboxes = new Map<string, { mailbox: Mailbox; present: Map<string, number> | undefined; folder: FolderSummary }>();

  private constructor(
    private readonly store: Store,
    readonly account: Account,
    source: string,
    readonly maxMessageBytes: number,
  ) {
    this.summary = { account: account.address, source, folders: [], imported: 0, duplicates: 0, tooLarge: 0, bytes: 0, skipped: [], reconnects: 0 };
  }

  static async open(store: Store, address: string, source: string, maxMessageBytes: number): Promise<ImportTarget> {
    const account = await store.getAccount(address);
    if (!account) throw new NotFound(`account ${address} does not exist`);
    return new ImportTarget(store, account, source, maxMessageBytes);
  }

  /**
   * The mailbox a source folder goes to, created (subscribed) when missing. A source
   * folder marked with a special use lands in this account's mailbox of that use.
   */
  async folder(sourceName: string, name: string, specialUse?: string): Promise<FolderSummary> {
    let target = name;
    if (specialUse !== undefined && name !== 'INBOX') {
      const same = (await this.store.listMailboxes(this.account.id)).find((m) => m.specialUse === specialUse);
      if (same) target = same.name;
    }
    const known = this.mailboxes.get(target);
    if (known) return known.folder;
    let mailbox = await this.store.getMailbox(this.account.id, target);
    if (!mailbox) {
      await this.createWithParents(target);
      mailbox = await this.store.getMailbox(this.account.id, target);
      if (!mailbox) throw new NotFound(`mailbox ${target} could not be created`);
    }
    const folder: FolderSummary = { source: sourceName, mailbox: target, imported: 0, duplicates: 0, tooLarge: 0 };
    this.summary.folders.push(folder);
    this.mailboxes.set(target, { mailbox, present: undefined, folder });
    return folder;
  }

  private async loadPresent(mailboxId: number): Promise<Map<string, number>> {
    const present = new Map<string, number>();
    for (const m of await this.store.listMessages(mailboxId, { withoutStructure: true })) present.set(m.blobId, (present.get(m.blobId) ?? 0) + 1);
    return present;
  }

  /**
   * Called before a source is read again from an earlier point (a reconnect that
   * fetches a batch again): what this run imported so far then counts as present, so
   * the messages fetched a second time are recognised.
   */
  forget(): void {
    for (const entry of this.mailboxes.values()) entry.present = undefined;
  }

  private async createWithParents(name: string): Promise<void> {
    const parts = name.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const path = parts.slice(0, i).join('/');
      if (await this.store.getMailbox(this.account.id, path)) continue;
      await this.store.createMailbox(this.account.id, path, { specialUse: null as SpecialUse | null, subscribed: true });
    }
  }

  /** Records a message that is not fetched at all because its announced size is over the limit. */
  tooLarge(folder: FolderSummary, origin: string): void {
    folder.tooLarge++;
    this.summary.tooLarge++;
    if (this.summary.skipped.length < 100) this.summary.skipped.push(origin);
  }

  /** Appends one message to the folder's mailbox unless it is already there. */
  async add(folder: FolderSummary, message: ImportMessage): Promise<'imported' | 'duplicate' | 'too-large'> {
    const entry = this.mailboxes.get(folder.mailbox);
    if (!entry) throw new Error(`folder ${folder.mailbox} was not opened`);
    if (message.raw.length > this.maxMessageBytes) {
      this.tooLarge(folder, message.origin);
      return 'too-large';
    }
    const id = createHash('sha256').update(message.raw).digest('hex');
    entry.present ??= await this.loadPresent(entry.mailbox.id);
    const seen = entry.present.get(id) ?? 0;
    if (seen > 0) {
      entry.present.set(id, seen - 1);
      folder.duplicates++;
      this.summary.duplicates++;
      return 'duplicate';
    }
    const blob = await this.store.blobs.put(message.raw);
    const { flags, keywords } = splitFlags(message.flags ?? []);
    const date = message.internalDate && !Number.isNaN(message.internalDate.getTime()) ? message.internalDate : new Date();
    await this.store.appendMessage(entry.mailbox.id, {
      blobId: blob.id,
      size: blob.size,
      internalDate: date,
      flags,
      keywords,
      structure: toStoredStructure(indexMessage(message.raw)),
    });
    folder.imported++;
    this.summary.imported++;
    this.summary.bytes += blob.size;
    return 'imported';
  }
}
