// One mailbox's change reads, shared by every session of this process that has
// it selected. When the ChangeBus announces a change, each selected session has
// to learn what changed; reading "changes since modseq X" from the store once per
// session makes one delivery cost sessions × query. The feed coalesces: the first
// session to ask after an event starts the read, the others with the same (or a
// higher) modseq receive the same answer, and each view still applies it to its own
// state (MSNs, flags it reported, pending expunges, \Recent, QRESYNC/CONDSTORE).
//
// Rules:
// - Every change event is counted once per feed (`generation`); the same event
//   object reaches all listeners of one delivery, so it is recognised by identity.
// - A read tagged with generation g started after event g was delivered, and events
//   are delivered after commit: it holds every change of events up to g. A view
//   that was marked dirty at generation d reuses a read only when g >= d and the
//   read's base modseq is not above the view's own (a wider answer is harmless:
//   views drop what they already applied).
// - A failed read is forgotten, so the next session to ask tries again.
// - \Recent: the peek ("anything left to claim?") is shared per generation too, and
//   one claim per generation is made for the whole process. Sessions that heard of
//   the same messages after another session here claimed them find nothing left,
//   as they would have after their own read.

import type { ChangeEvent, Store } from '../store/store.js';
import type { ChangesSince } from '../store/types.js';

export interface RecentRange {
  from: number;
  to: number;
}

const NOTHING: RecentRange = { from: 1, to: 0 };

interface SharedRead<T> {
  generation: number;
  result: Promise<T>;
}

export class MailboxFeed {
  /** How many change events for this mailbox reached this feed. */
  generation = 0;
  private lastEvent: ChangeEvent | undefined;
  private readonly reads = new Map<number, SharedRead<ChangesSince>>();
  private peek: SharedRead<RecentRange> | undefined;
  private claim: { generation: number; done: Promise<boolean> } | undefined;
  private users = 0;

  constructor(
    private readonly store: Store,
    readonly mailboxId: number,
    private readonly release: () => void,
  ) {}

  acquire(): void {
    this.users++;
  }

  /** Drops one user; the last one removes the feed from the registry. */
  unref(): void {
    if (--this.users === 0) this.release();
  }

  /** Counts a change event (once, however many views hear it); returns the generation it makes. */
  note(event: ChangeEvent): number {
    if (event !== this.lastEvent) {
      this.lastEvent = event;
      this.generation++;
      this.reads.clear();
      this.peek = undefined;
    }
    return this.generation;
  }

  /** The changes after `modseq`, from a read that started after event `needed` was delivered. */
  changesSince(modseq: number, needed: number): Promise<ChangesSince> {
    for (const [base, read] of this.reads) {
      if (base <= modseq && read.generation >= needed) return read.result;
    }
    const result = this.store.changesSince(this.mailboxId, modseq);
    const read = { generation: this.generation, result };
    this.reads.set(modseq, read);
    result.catch(() => {
      if (this.reads.get(modseq) === read) this.reads.delete(modseq);
    });
    return result;
  }

  private peekRecent(needed: number): Promise<RecentRange> {
    if (this.peek && this.peek.generation >= needed) return this.peek.result;
    const result = this.store.claimRecent(this.mailboxId, false);
    const peek = { generation: this.generation, result };
    this.peek = peek;
    result.catch(() => {
      if (this.peek === peek) this.peek = undefined;
    });
    return result;
  }

  /**
   * Claims the messages not yet recent anywhere, for one session, as far as events
   * up to `needed` brought them. Another session of this process that claimed
   * after the same event leaves nothing (the store would say the same).
   */
  async claimRecent(needed: number): Promise<RecentRange> {
    const before = this.claimOf(needed);
    if (before && (await before)) return NOTHING;
    const peek = await this.peekRecent(needed);
    if (peek.from > peek.to) return peek;
    // Checked and set with no await in between: one claim per generation.
    const running = this.claimOf(needed);
    if (running && (await running)) return NOTHING;
    const result = this.store.claimRecent(this.mailboxId, true);
    const generation = this.generation;
    this.claim = { generation, done: result.then(() => true, () => false) };
    const r = await result;
    // What the peek saw is taken now: later askers of this generation need not look again.
    if (this.peek && this.peek.generation <= generation) this.peek = { generation, result: Promise.resolve(NOTHING) };
    return r;
  }

  /** The claim made here since event `needed` (resolves false if it failed), if any. */
  private claimOf(needed: number): Promise<boolean> | undefined {
    const c = this.claim;
    return c !== undefined && c.generation >= needed ? c.done : undefined;
  }
}

const feeds = new WeakMap<Store, Map<number, MailboxFeed>>();

/** The feed of a mailbox for this store handle, created on first use; release it with unref(). */
export function acquireFeed(store: Store, mailboxId: number): MailboxFeed {
  let byMailbox = feeds.get(store);
  if (!byMailbox) {
    byMailbox = new Map();
    feeds.set(store, byMailbox);
  }
  const map = byMailbox;
  let feed = map.get(mailboxId);
  if (!feed) {
    const created = new MailboxFeed(store, mailboxId, () => {
      if (map.get(mailboxId) === created) map.delete(mailboxId);
    });
    map.set(mailboxId, created);
    feed = created;
  }
  feed.acquire();
  return feed;
}
