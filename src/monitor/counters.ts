// Message counters of this process, counted where every message passes: the store.
// countingStore() wraps the Store the protocol servers and the queue worker use, so the
// counts need no hook inside SMTP, IMAP or the queue:
//   - deliverMessage: a message delivered to local mailboxes (SMTP, DSNs), per mailbox
//   - enqueueOutbound: a message accepted for remote recipients (one per call)
//   - completeQueueEntry / failQueueEntry / deferQueueEntry: a remote delivery's outcome
// IMAP APPEND (appendMessage) is a client storing its own copy, not mail received.
import { Counter, Histogram } from 'prom-client';
import type { Store } from '../store/store.js';
import type { DeliveryResult, MtaStsReport, OutboundObserver } from '../smtp/queue/index.js';

/**
 * The outbound queue's figures (it calls these as it works). prom-client metrics that
 * belong to no registry until createMetrics() registers them, so that two servers in
 * one process (tests) keep apart.
 */
export class OutboundMetrics implements OutboundObserver {
  readonly deliveries = new Counter({ name: 'steadymail_outbound_deliveries_total', help: 'Outbound delivery attempts by result: delivered, deferred (retried later), bounced (failed for good)', labelNames: ['result'], registers: [] });
  readonly latency = new Histogram({
    name: 'steadymail_outbound_delivery_seconds',
    help: 'Time from queueing to the final outcome of a queue entry (delivered or bounced)',
    labelNames: ['result'],
    buckets: [0.1, 0.5, 1, 5, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 5 * 24 * 3600],
    registers: [],
  });
  readonly mtaStsFailures = new Counter({ name: 'steadymail_outbound_mta_sts_failures_total', help: 'MTA-STS failures by policy mode and reason (fetch, mx_mismatch, tls)', labelNames: ['mode', 'reason'], registers: [] });
  readonly connections = new Counter({ name: 'steadymail_outbound_connections_total', help: 'SMTP connections used for outbound delivery: opened anew or reused', labelNames: ['kind'], registers: [] });

  constructor() {
    for (const result of ['delivered', 'deferred', 'bounced']) this.deliveries.inc({ result }, 0);
    for (const kind of ['opened', 'reused']) this.connections.inc({ kind }, 0);
  }

  delivery(result: DeliveryResult, seconds: number): void {
    this.deliveries.inc({ result });
    if (result !== 'deferred') this.latency.observe({ result }, seconds);
  }
  mtaStsFailure(report: MtaStsReport): void {
    this.mtaStsFailures.inc({ mode: report.mode, reason: report.reason });
  }
  connection(reused: boolean): void {
    this.connections.inc({ kind: reused ? 'reused' : 'opened' });
  }
}

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
  readonly outbound = new OutboundMetrics();
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
