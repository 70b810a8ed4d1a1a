// The maildrop of one POP3 session: the INBOX snapshot taken at login, the
// deletion marks, the wire sizes, and the lock that keeps a second session out.
//
// Rules:
// - The snapshot never changes during the session (RFC 1939 5: message
//   numbers are fixed); mail arriving meanwhile shows at the next login.
// - Deletions are only marks until QUIT (RFC 1939 6, UPDATE state).
// - Wire sizes (what RETR sends, see wire.ts) are computed at most once per
//   blob per process: blobs are content-addressed and immutable, so a size
//   cached by blob id can never be stale, across sessions and accounts.
// - The lock is a store lease (cross-process, cross-node) with a short TTL,
//   renewed while the session lives, so a killed process's lock expires alone.

import type { Store } from '../store/store.js';
import type { Account, MessageMeta } from '../store/types.js';
import { wireSizeOf } from './wire.js';

export interface MaildropMessage {
  /** RFC 1939 message number, 1-based, fixed for the session. */
  readonly number: number;
  readonly uid: number;
  /** RFC 1939 7 UIDL: the store's stable message id (printable, never reused). */
  readonly uidl: string;
  readonly blobId: string;
  /** Stored size in octets (not the wire size). */
  readonly size: number;
  readonly seen: boolean;
  deleted: boolean;
}

/** Process-wide cache of wire sizes by blob id, bounded (least recently used goes first). */
export class WireSizeCache {
  private readonly sizes = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<number>>();
  constructor(private readonly maxEntries = 200_000) {}

  get(blobId: string): number | undefined {
    const v = this.sizes.get(blobId);
    if (v !== undefined) {
      this.sizes.delete(blobId);
      this.sizes.set(blobId, v);
    }
    return v;
  }

  /** The size, computing it from the blob if needed (one computation per blob at a time). */
  async compute(store: Store, blobId: string, storedSize: number): Promise<number> {
    const known = this.get(blobId);
    if (known !== undefined) return known;
    let p = this.inflight.get(blobId);
    if (!p) {
      // Small blobs in one read (fewer system calls), big ones streamed.
      const source = storedSize <= WHOLE_READ_MAX ? oneChunk(store.blobs.get(blobId)) : store.blobs.createReadStream(blobId);
      p = wireSizeOf(source).finally(() => this.inflight.delete(blobId));
      this.inflight.set(blobId, p);
    }
    const size = await p;
    this.set(blobId, size);
    return size;
  }

  private set(blobId: string, size: number): void {
    this.sizes.set(blobId, size);
    if (this.sizes.size > this.maxEntries) {
      const oldest = this.sizes.keys().next().value;
      if (oldest !== undefined) this.sizes.delete(oldest);
    }
  }
}

export const processWireSizes = new WireSizeCache();

const WHOLE_READ_MAX = 1024 * 1024;

async function* oneChunk(data: Promise<Buffer>): AsyncIterable<Buffer> {
  yield await data;
}

const SIZE_CONCURRENCY = 8;

export class Maildrop {
  readonly messages: readonly MaildropMessage[];

  constructor(
    readonly store: Store,
    readonly account: Account,
    readonly inboxId: number,
    snapshot: readonly MessageMeta[],
    private readonly sizes: WireSizeCache,
  ) {
    this.messages = snapshot.map((m, i) => ({
      number: i + 1,
      uid: m.uid,
      uidl: m.messageId,
      blobId: m.blobId,
      size: m.size,
      seen: m.flags.includes('\\Seen'),
      deleted: false,
    }));
  }

  /** A message by its number, or undefined if out of range; deleted ones too (callers check). */
  get(number: number): MaildropMessage | undefined {
    return Number.isSafeInteger(number) && number >= 1 ? this.messages[number - 1] : undefined;
  }

  live(): MaildropMessage[] {
    return this.messages.filter((m) => !m.deleted);
  }

  async wireSize(m: MaildropMessage): Promise<number> {
    return this.sizes.get(m.blobId) ?? this.sizes.compute(this.store, m.blobId, m.size);
  }

  /** Sizes of many messages, reading uncached blobs a few at a time. */
  async wireSizes(list: readonly MaildropMessage[]): Promise<number[]> {
    const out = new Array<number>(list.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < list.length) {
        const i = next++;
        out[i] = await this.wireSize(list[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(SIZE_CONCURRENCY, list.length) }, worker));
    return out;
  }

  deletedUids(): number[] {
    return this.messages.filter((m) => m.deleted).map((m) => m.uid);
  }
}

export const LEASE_TTL_MS = 60_000;
export const LEASE_RENEW_MS = 20_000;

export interface LockLogger {
  warn(o: object, msg?: string): void;
}

/** The maildrop lock: a store lease renewed on a timer until released. */
export class MaildropLock {
  private timer: NodeJS.Timeout | undefined;
  private released = false;
  private renewing: Promise<void> | undefined;
  /** False once a renewal found the lease taken (the session must not delete anything). */
  held = true;

  private constructor(
    private readonly store: Store,
    readonly key: string,
    readonly holder: string,
    private readonly logger: LockLogger,
  ) {}

  static async acquire(store: Store, accountId: number, holder: string, logger: LockLogger): Promise<MaildropLock | undefined> {
    const key = `pop3:${accountId}`;
    if (!(await store.acquireLease(key, holder, LEASE_TTL_MS))) return undefined;
    const lock = new MaildropLock(store, key, holder, logger);
    lock.timer = setInterval(() => {
      lock.renewing = lock.renew();
    }, LEASE_RENEW_MS);
    lock.timer.unref();
    return lock;
  }

  /** Renews now; resolves to whether the lease is still ours. */
  async confirm(): Promise<boolean> {
    await this.renewing;
    await this.renew();
    return this.held;
  }

  private async renew(): Promise<void> {
    if (this.released || !this.held) return;
    try {
      this.held = await this.store.renewLease(this.key, this.holder, LEASE_TTL_MS);
      if (!this.held) this.logger.warn({ key: this.key }, 'POP3 maildrop lease was lost');
    } catch (err) {
      // Temporary store trouble: keep the session; the lease has 60 s of slack.
      this.logger.warn({ key: this.key, err }, 'POP3 maildrop lease renewal failed');
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    await this.renewing;
    if (this.held) await this.store.releaseLease(this.key, this.holder);
  }
}
