// Message counters of this process, counted where every message passes: the store.
// countingStore() wraps the Store the protocol servers and the queue worker use, so the
// counts need no hook inside SMTP, IMAP or the queue:
//   - deliverMessage: a message delivered to local mailboxes (SMTP, DSNs), per mailbox
//   - enqueueOutbound: a message accepted for remote recipients (one per call)
//   - completeQueueEntry / failQueueEntry / deferQueueEntry: a remote delivery's outcome
// IMAP APPEND (appendMessage) is a client storing its own copy, not mail received.
import type { Store } from '../store/store.js';

export interface MessageCounts {
  /** Messages accepted: delivered locally or queued for remote recipients. */
  received: number;
  receivedBytes: number;
  /** Local mailbox deliveries (one per recipient mailbox). */
  deliveredLocal: number;
  /** Local deliveries refused (over quota, mailbox gone). */
  rejectedLocal: number;
  /** Queue entries created (one per recipient domain). */
  queued: number;
  /** Remote deliveries completed, failed for good, deferred. */
  transmitted: number;
  transmittedBytes: number;
  failed: number;
  deferred: number;
}

export class MessageCounters {
  readonly counts: MessageCounts = {
    received: 0,
    receivedBytes: 0,
    deliveredLocal: 0,
    rejectedLocal: 0,
    queued: 0,
    transmitted: 0,
    transmittedBytes: 0,
    failed: 0,
    deferred: 0,
  };
}

/** The store, counting the messages that pass through it into `counters`. */
export function countingStore(store: Store, counters: MessageCounters): Store {
  const c = counters.counts;
  const wrapped: Partial<Store> = {
    async deliverMessage(targets, message) {
      const results = await store.deliverMessage(targets, message);
      const ok = results.filter((r) => !(r instanceof Error)).length;
      if (ok > 0) {
        c.received++;
        c.receivedBytes += message.size;
      }
      c.deliveredLocal += ok;
      c.rejectedLocal += results.length - ok;
      return results;
    },
    async enqueueOutbound(message) {
      const entries = await store.enqueueOutbound(message);
      c.received++;
      c.receivedBytes += message.size;
      c.queued += entries.length;
      return entries;
    },
    async completeQueueEntry(id) {
      const entry = await store.completeQueueEntry(id);
      c.transmitted++;
      c.transmittedBytes += entry.size;
      return entry;
    },
    async failQueueEntry(id, error) {
      const entry = await store.failQueueEntry(id, error);
      c.failed++;
      return entry;
    },
    async deferQueueEntry(id, error, next) {
      const entry = await store.deferQueueEntry(id, error, next);
      c.deferred++;
      return entry;
    },
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      if (typeof property === 'string' && Object.hasOwn(wrapped, property)) return wrapped[property as keyof Store];
      const value: unknown = Reflect.get(target, property, receiver);
      // Methods run on the real store (its private state is not on the proxy).
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
