// The selected mailbox as one session sees it: the MSN <-> UID map, the flags
// last reported to the client, and the modseq up to which changes are known.
//
// Rules (RFC 9051 7.5.1, RFC 7162 3.2.10):
// - MSNs change only when this view reports it: EXPUNGE/VANISHED shrink the map,
//   EXISTS grows it. Other sessions' changes arrive as "dirty" marks from the
//   ChangeBus and are read back with changesSince() at the moments the session
//   allows (sync()). The read goes through the mailbox's MailboxFeed, shared by
//   all sessions of this process that have the mailbox selected.
// - EXPUNGE is never sent while answering FETCH, STORE or SEARCH: such expunges
//   wait in `pendingExpunge`, the message keeps its MSN, and fetching it returns
//   nothing until the next allowed moment.
// - A flag change is reported once: the cached modseq of the message is the
//   dedup key, so this session's own STORE (already answered) is not repeated.
// - \Recent (RFC 3501 2.3.2): a read-write IMAP4rev1 session claims the new
//   messages in the store (one session only gets them); EXAMINE shows them without
//   claiming; IMAP4rev2 sessions neither see nor claim them (RFC 9051 removed it).

import type { Store } from '../store/store.js';
import { acquireFeed, type MailboxFeed } from './mailbox-feed.js';
import type { Mailbox, MessageMeta, SystemFlag } from '../store/types.js';
import { hasNumberAbove, resolveSequenceSet, type SequenceSet } from './parser/index.js';
import { bad } from './errors.js';
import { flagList, formatSequenceSet, untagged } from './respond.js';

export interface MessageFlags {
  flags: SystemFlag[];
  keywords: string[];
  modseq: number;
}

export interface SyncOptions {
  /** False while answering FETCH/STORE/SEARCH (RFC 9051 7.5.1). */
  allowExpunge: boolean;
  /** CONDSTORE enabled: unsolicited FETCH carries MODSEQ (RFC 7162 3.1.4). */
  condstore: boolean;
  /** QRESYNC enabled: VANISHED instead of EXPUNGE (RFC 7162 3.2.10). */
  qresync: boolean;
}

export const SYSTEM_FLAG_LIST = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

/** How a view treats \Recent: claim it (SELECT), show it (EXAMINE), or not at all (IMAP4rev2). */
export type RecentMode = 'claim' | 'peek' | 'off';

export class MailboxView {
  readonly mailboxId: number;
  /** Follows RENAMEs done elsewhere. */
  name: string;
  /** Another session deleted the mailbox: the session must end (as Dovecot does). */
  deleted = false;
  readonly uidValidity: number;
  readonly readOnly: boolean;
  /** Highest modseq whose changes this view has applied. */
  modseq: number;
  uidNext: number;
  private uids: number[] = [];
  private readonly flags = new Map<number, MessageFlags>();
  private readonly pendingExpunge = new Set<number>();
  readonly keywords = new Set<string>();
  private dirty = false;
  /** The feed generation of the last change event this view heard (reads must be at least this fresh). */
  private dirtyGeneration = 0;
  /** dirtyGeneration as it was when the running sync started. */
  private dirtyGenerationOfSync = 0;
  /** The messages that are \Recent in this session. */
  readonly recent = new Set<number>();
  private recentMode: RecentMode = 'off';
  private recentFrom = Number.MAX_SAFE_INTEGER;
  private claimedTo = 0;
  private unsubscribe: () => void = () => undefined;
  /** UIDs reported by EXISTS since the last takeAdded() (NOTIFY MessageNew fetch attributes). */
  private added: number[] = [];
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly store: Store,
    private readonly feed: MailboxFeed,
    mailbox: Mailbox,
    readOnly: boolean,
  ) {
    this.mailboxId = mailbox.id;
    this.name = mailbox.name;
    this.uidValidity = mailbox.uidValidity;
    this.readOnly = readOnly;
    this.modseq = mailbox.highestModseq;
    this.uidNext = mailbox.uidNext;
  }

  /** Subscribes first, then reads: a change between the two is seen twice and deduplicated, never lost. */
  static async open(store: Store, mailbox: Mailbox, readOnly: boolean, onChange: () => void, recent: RecentMode = 'off'): Promise<MailboxView> {
    const feed = acquireFeed(store, mailbox.id);
    const view = new MailboxView(store, feed, mailbox, readOnly);
    view.recentMode = recent;
    const unsubscribe = store.bus.subscribe(mailbox.accountId, (ev) => {
      if ('mailboxId' in ev) {
        if (ev.mailboxId !== view.mailboxId) return;
        view.dirtyGeneration = feed.note(ev);
        view.dirty = true;
        onChange();
      } else if (ev.kind === 'mailbox-deleted' && ev.name === view.name) {
        view.deleted = true;
        onChange();
      } else if (ev.kind === 'mailbox-renamed' && ev.newName !== undefined) {
        if (view.name === ev.name) view.name = ev.newName;
        else if (view.name.startsWith(ev.name + '/')) view.name = ev.newName + view.name.slice(ev.name.length);
      }
    });
    view.unsubscribe = () => {
      unsubscribe();
      feed.unref();
    };
    try {
      const fresh = (await store.getMailboxById(mailbox.id)) ?? mailbox;
      view.modseq = fresh.highestModseq;
      view.uidNext = fresh.uidNext;
      const metas = await store.listMessages(mailbox.id, { withoutStructure: true });
      for (const m of metas) view.add(m);
      if (recent !== 'off') {
        const r = await store.claimRecent(mailbox.id, recent === 'claim');
        view.recentFrom = r.from;
        view.claimedTo = r.to;
        view.markRecent(view.uids);
      }
    } catch (err) {
      view.close();
      throw err;
    }
    return view;
  }

  close(): void {
    this.unsubscribe();
    this.unsubscribe = () => undefined;
  }

  get count(): number {
    return this.uids.length;
  }

  get highestUid(): number {
    return this.uids[this.uids.length - 1] ?? 0;
  }

  allUids(): readonly number[] {
    return this.uids;
  }

  uidAt(msn: number): number | undefined {
    return this.uids[msn - 1];
  }

  /** 1-based MSN of a UID, or 0 when the view does not hold it. */
  msnOf(uid: number): number {
    let lo = 0;
    let hi = this.uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.uids[mid] as number;
      if (v === uid) return mid + 1;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  flagsOf(uid: number): MessageFlags | undefined {
    return this.flags.get(uid);
  }

  /** The UIDs that EXISTS responses announced since the last call. */
  takeAdded(): number[] {
    const out = this.added.filter((u) => this.msnOf(u) > 0);
    this.added = [];
    return out;
  }

  isPendingExpunge(uid: number): boolean {
    return this.pendingExpunge.has(uid);
  }

  /** Records flags this session reported itself (STORE, FETCH setting \Seen). */
  setFlags(uid: number, f: MessageFlags): void {
    const cur = this.flags.get(uid);
    if (cur && cur.modseq > f.modseq) return;
    this.flags.set(uid, f);
    for (const k of f.keywords) this.keywords.add(k);
  }

  /**
   * Resolves a sequence set to the UIDs it names, ascending. Message numbers
   * beyond the mailbox are a client error (RFC 9051 6.4.8; Dovecot answers BAD);
   * UIDs that do not exist are ignored. `saved` is the SEARCHRES `$` result.
   */
  resolve(set: SequenceSet, uid: boolean, saved: readonly number[] | null): number[] {
    if (set.kind === 'saved') {
      return (saved ?? []).filter((u) => this.msnOf(u) > 0);
    }
    if (!uid) {
      // A range reaching `*` is fine even on an empty mailbox (`FETCH 1:*` then matches nothing).
      if (hasNumberAbove(set.ranges.filter((r) => r.from !== '*' && r.to !== '*'), this.count)) throw bad('Invalid message sequence number');
      const out: number[] = [];
      for (const [a, b] of resolveSequenceSet(set.ranges, this.count)) {
        for (let i = a; i <= b; i++) out.push(this.uids[i - 1] as number);
      }
      return out;
    }
    const out: number[] = [];
    for (const [a, b] of resolveSequenceSet(set.ranges, this.highestUid, false)) {
      let i = this.lowerBound(a);
      while (i < this.uids.length && (this.uids[i] as number) <= b) out.push(this.uids[i++] as number);
    }
    return out;
  }

  private lowerBound(uid: number): number {
    let lo = 0;
    let hi = this.uids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.uids[mid] as number) < uid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds the given UIDs that are recent for this session (claimed, or shown by EXAMINE). */
  private markRecent(uids: readonly number[]): void {
    for (const uid of uids) {
      if (uid >= this.recentFrom && (this.recentMode === 'peek' || uid <= this.claimedTo)) this.recent.add(uid);
    }
  }

  /** New messages past what this session claimed: claim again (another session may have them). */
  private async claimNew(uids: number[]): Promise<void> {
    if (this.recentMode === 'claim' && uids.some((u) => u > this.claimedTo)) {
      // A read first: when many sessions have the mailbox selected, only the first
      // to arrive finds anything to take, and the others need no write.
      // The feed makes that read (and the claim) once per change for the whole process.
      const r = await this.feed.claimRecent(this.dirtyGenerationOfSync);
      if (r.from <= r.to) {
        for (const uid of uids) if (uid >= r.from && uid <= r.to) this.recent.add(uid);
        this.claimedTo = Math.max(this.claimedTo, r.to);
      }
    }
    this.markRecent(uids);
  }

  /** The flags as this session reports them (\Recent included). */
  flagNames(uid: number, f: { flags: readonly string[]; keywords: readonly string[] }): string[] {
    return this.recent.has(uid) ? [...f.flags, '\\Recent', ...f.keywords] : [...f.flags, ...f.keywords];
  }

  private add(m: MessageMeta): boolean {
    if (m.uid <= this.highestUid) return false;
    this.uids.push(m.uid);
    this.flags.set(m.uid, { flags: m.flags, keywords: m.keywords, modseq: m.modseq });
    if (m.uid >= this.uidNext) this.uidNext = m.uid + 1;
    let newKeyword = false;
    for (const k of m.keywords) {
      if (!this.keywords.has(k)) newKeyword = true;
      this.keywords.add(k);
    }
    return newKeyword;
  }

  /** Removes UIDs this session expunged itself (EXPUNGE, MOVE) and returns the responses. */
  removeUids(uids: Iterable<number>, qresync: boolean): Buffer[] {
    const gone: number[] = [];
    const out: Buffer[] = [];
    // Highest MSN first: each EXPUNGE then names a number the client still has (RFC 9051 7.5.1).
    const sorted = [...new Set(uids)].sort((a, b) => b - a);
    for (const uid of sorted) {
      const msn = this.msnOf(uid);
      this.pendingExpunge.delete(uid);
      if (msn === 0) continue;
      this.uids.splice(msn - 1, 1);
      this.flags.delete(uid);
      this.recent.delete(uid);
      gone.push(uid);
      if (!qresync) out.push(untagged(`${msn} EXPUNGE`));
    }
    // RFC 7162 3.2.10: with QRESYNC enabled, VANISHED replaces EXPUNGE.
    if (qresync && gone.length > 0) out.push(untagged(`VANISHED ${formatSequenceSet(gone)}`));
    return out;
  }

  fetchFlagsLine(uid: number, f: MessageFlags, condstore: boolean): Buffer {
    const mod = condstore ? ` MODSEQ (${f.modseq})` : '';
    return untagged(`${this.msnOf(uid)} FETCH (UID ${uid} FLAGS ${flagList(this.flagNames(uid, f))}${mod})`);
  }

  flagsResponse(): Buffer {
    return untagged(`FLAGS ${flagList([...SYSTEM_FLAG_LIST, ...this.keywords])}`);
  }

  /** Brings the view up to date and returns the untagged responses that say so. Serialised. */
  sync(opts: SyncOptions): Promise<Buffer[]> {
    const run = this.chain.then(() => this.syncNow(opts));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async syncNow(opts: SyncOptions): Promise<Buffer[]> {
    const out: Buffer[] = [];
    if (this.dirty) {
      this.dirty = false;
      this.dirtyGenerationOfSync = this.dirtyGeneration;
      const changes = await this.feed.changesSince(this.modseq, this.dirtyGeneration);
      for (const uid of changes.vanished) if (this.msnOf(uid) > 0) this.pendingExpunge.add(uid);
      const added: number[] = [];
      let newKeyword = false;
      const changed = [...changes.changed].sort((a, b) => a.uid - b.uid);
      const flagLines: Array<{ uid: number; f: MessageFlags }> = [];
      for (const m of changed) {
        if (this.pendingExpunge.has(m.uid)) continue;
        if (m.uid > this.highestUid) {
          if (this.add(m)) newKeyword = true;
          added.push(m.uid);
          continue;
        }
        const cur = this.flags.get(m.uid);
        if (!cur || cur.modseq >= m.modseq) continue;
        const f = { flags: m.flags, keywords: m.keywords, modseq: m.modseq };
        this.setFlags(m.uid, f);
        if (m.keywords.some((k) => !cur.keywords.includes(k))) newKeyword = true;
        flagLines.push({ uid: m.uid, f });
      }
      if (changes.highestModseq > this.modseq) this.modseq = changes.highestModseq;
      if (opts.allowExpunge && this.pendingExpunge.size > 0) out.push(...this.removeUids([...this.pendingExpunge], opts.qresync));
      if (newKeyword) out.push(this.flagsResponse());
      if (added.length > 0) {
        this.added.push(...added);
        out.push(untagged(`${this.count} EXISTS`));
        if (this.recentMode !== 'off') {
          await this.claimNew(added);
          out.push(untagged(`${this.recent.size} RECENT`));
        }
      }
      for (const { uid, f } of flagLines) out.push(this.fetchFlagsLine(uid, f, opts.condstore));
      return out;
    }
    if (opts.allowExpunge && this.pendingExpunge.size > 0) out.push(...this.removeUids([...this.pendingExpunge], opts.qresync));
    return out;
  }
}
