// The outbound queue worker: claims due entries with store leases, delivers them
// (attempt.ts), and records the outcome — delivered, deferred with backoff, or failed
// with a DSN to the sender.
//
// Rules:
// - An entry is worked only while its lease is held (Store.claimQueueEntries is atomic
//   across processes and nodes). A worker that dies leaves the lease to expire and the
//   entry is tried again: delivery is at least once, never silently dropped.
// - The DSN is written before the entry is marked failed, for the same reason.
// - Concurrency is bounded overall (`concurrency`) and per destination.
// - Nothing thrown by one entry may reach the timer or another entry.
// - The bytes on the wire are shaped for the peer that takes them (downgrade.ts: 7-bit
//   for a peer without 8BITMIME, encoded words for one without SMTPUTF8) and DKIM-signed
//   after that, so the signature covers what the recipient receives.

import { randomBytes } from 'node:crypto';
import type { Store } from '../../store/store.js';
import type { QueueEntry } from '../../store/types.js';
import type { Logger } from '../deliver.js';
import { attemptDelivery, type MtaStsReport, type Relay } from './attempt.js';
import { returnToSender } from './bounce.js';
import type { Srs } from '../../sieve/srs.js';
import { DEFAULT_DKIM_SELECTOR, signMessage } from './dkim.js';
import { downgrade8Bit, downgradeUtf8, messageNeeds } from './downgrade.js';
import { DestinationLimiter } from './limiter.js';
import { MtaStsPolicies } from './mta-sts.js';
import { createResolver, type MxResolver } from './mx.js';
import { DEFAULT_MAX_AGE_MS, nextAttempt } from './retry.js';
import { SmtpClient, type PeerFeatures, type PreparedMessage } from './smtp-client.js';

export type { Relay, MtaStsReport } from './attempt.js';
export { generateDkimKey, dkimRecord, DEFAULT_DKIM_SELECTOR } from './dkim.js';
export { DEFAULT_MAX_AGE_MS } from './retry.js';

export interface OutboundQueueOptions {
  store: Store;
  logger: Logger;
  /** Our name in EHLO and DSNs. */
  hostname: string;
  /** `[dns] servers`; empty: the system's resolvers. */
  dnsServers?: string[];
  /** Overrides dnsServers (tests). */
  resolver?: MxResolver;
  /** Smarthost: every message goes there instead of the recipient's MX. */
  relay?: Relay;
  /** Port of remote MX hosts; 25 unless testing. */
  port?: number;
  /** Give up (and bounce) after this long in the queue. */
  maxAgeMs?: number;
  /** Where dkim/<domain>.pem keys live; no signing without it. */
  dataDir?: string;
  dkimSelector?: string;
  /** Deliveries in flight at once. */
  concurrency?: number;
  /** Deliveries in flight at once to one domain (or to the relay). */
  maxPerDestination?: number;
  pollIntervalMs?: number;
  /** How long a claim holds; longer than the slowest delivery. */
  leaseMs?: number;
  /** SMTP connect, greeting and socket inactivity timeout. */
  timeoutMs?: number;
  /** Lease holder name; unique per worker. */
  holder?: string;
  /** Bounces of forwarded copies (SRS senders) go to the original sender. */
  srs?: Srs;
  /** How long a connection waits for the next message to its host; 0 closes at once. */
  idleConnectionMs?: number;
  maxMessagesPerConnection?: number;
  /** Extra trusted CA certificates (PEM) for verified TLS and MTA-STS policy fetches. */
  extraCa?: string;
  /** MTA-STS (RFC 8461); absent: not applied. */
  mtaSts?: { port: number; timeoutMs: number; maxBytes: number };
  /** Figures for /metrics (src/monitor/counters.ts implements it). */
  observer?: OutboundObserver;
}

export type DeliveryResult = 'delivered' | 'deferred' | 'bounced';

export interface OutboundObserver {
  /** One attempt's outcome for a queue entry; seconds since the entry was queued. */
  delivery(result: DeliveryResult, seconds: number): void;
  mtaStsFailure(report: MtaStsReport): void;
  connection(reused: boolean): void;
}

export interface OutboundQueue {
  start(): void;
  /** Stops claiming; waits up to graceMs for deliveries in flight. */
  stop(graceMs: number): Promise<void>;
  /** One claim-and-deliver round; resolves with the number of entries worked. */
  runOnce(): Promise<number>;
}

/** The failed attempt after which the sender gets one delay DSN (about 4 hours in, see retry.ts). */
export const DELAY_NOTICE_ATTEMPT = 6;

export function createOutboundQueue(o: OutboundQueueOptions): OutboundQueue {
  const resolver = o.resolver ?? createResolver(o.dnsServers ?? []);
  const concurrency = o.concurrency ?? 16;
  const leaseMs = o.leaseMs ?? 10 * 60_000;
  const maxAgeMs = o.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const holder = o.holder ?? `${o.hostname}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const limiter = new DestinationLimiter(o.maxPerDestination ?? 4);
  const client = new SmtpClient({
    hostname: o.hostname,
    timeoutMs: o.timeoutMs ?? 60_000,
    idleMs: o.idleConnectionMs ?? 5_000,
    maxMessagesPerConnection: o.maxMessagesPerConnection ?? 100,
    ...(o.extraCa ? { extraCa: o.extraCa } : {}),
    onConnection: (reused) => o.observer?.connection(reused),
  });
  const mtaSts = o.mtaSts ? new MtaStsPolicies({ store: o.store, resolver, ...o.mtaSts, ...(o.extraCa ? { extraCa: o.extraCa } : {}) }) : undefined;
  const attemptDeps = {
    hostname: o.hostname,
    resolver,
    port: o.port ?? 25,
    client,
    ...(o.relay ? { relay: o.relay } : {}),
    ...(mtaSts ? { mtaSts } : {}),
    onMtaStsFailure: (r: MtaStsReport) => {
      o.observer?.mtaStsFailure(r);
      o.logger.warn({ domain: r.domain, mode: r.mode, reason: r.reason, error: r.detail }, 'MTA-STS failure');
    },
  };

  /** The message as this peer can take it, then signed (RFC 6531, RFC 6152, RFC 6376). */
  async function prepare(entry: QueueEntry, original: Buffer, peer: PeerFeatures): Promise<PreparedMessage> {
    const envelope = { from: entry.mailFrom, to: entry.recipients };
    const needs = messageNeeds(envelope, original);
    let message = original;
    if (needs.smtputf8 && !peer.smtputf8) message = downgradeUtf8(envelope, message);
    const eightBit = messageNeeds(envelope, message).eightBit;
    if (eightBit && !peer.eightBitMime) message = downgrade8Bit(message);
    const signDomain = entry.mailFrom.slice(entry.mailFrom.lastIndexOf('@') + 1).toLowerCase();
    const signed = o.dataDir && entry.mailFrom !== '' ? await signMessage(o.dataDir, o.dkimSelector ?? DEFAULT_DKIM_SELECTOR, signDomain, message) : message;
    return { message: signed, smtputf8: needs.smtputf8 && peer.smtputf8, eightBit: eightBit && peer.eightBitMime };
  }
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let polling = false;

  async function work(entry: QueueEntry): Promise<void> {
    const started = Date.now();
    const original = await o.store.blobs.get(entry.blobId);
    const outcome = await limiter.run(o.relay ? 'relay' : entry.domain, () => attemptDelivery(attemptDeps, entry, (peer) => prepare(entry, original, peer)));
    const age = (Date.now() - entry.createdAt.getTime()) / 1000;
    const log = { id: entry.id, domain: entry.domain, attempt: entry.attempts + 1, ms: Date.now() - started };
    const failed = [...outcome.failed];
    if (outcome.deferred.length > 0) {
      const error = outcome.deferred[0]!.error;
      const next = nextAttempt(entry.createdAt, entry.attempts + 1, maxAgeMs);
      if (next === undefined) {
        // RFC 3463 4.4.7: delivery time expired.
        for (const d of outcome.deferred) failed.push({ recipient: d.recipient, status: '4.4.7', diagnostic: `gave up after ${entry.attempts + 1} attempts: ${d.error.message}`, ...(d.error.remoteMta ? { remoteMta: d.error.remoteMta } : {}) });
      } else if (outcome.delivered.length === 0 && failed.length === 0) {
        if (entry.attempts + 1 === DELAY_NOTICE_ATTEMPT) {
          // Once, after about four hours of retries: the sender learns the mail is late.
          const late = outcome.deferred.map((d) => ({ recipient: d.recipient, status: d.error.status, diagnostic: d.error.message, ...(d.error.remoteMta ? { remoteMta: d.error.remoteMta } : {}) }));
          await returnToSender(o, { mailFrom: entry.mailFrom, createdAt: entry.createdAt, message: original }, late, { willRetryUntil: new Date(entry.createdAt.getTime() + maxAgeMs) });
        }
        await o.store.deferQueueEntry(entry.id, error.message, next);
        o.observer?.delivery('deferred', age);
        o.logger.info({ ...log, next: next.toISOString(), error: error.message }, 'outbound delivery deferred');
        return;
      } else {
        // Some recipients are done: the rest continue as a new entry for the same blob.
        const rest = outcome.deferred.map((d) => d.recipient);
        const [split] = await o.store.enqueueOutbound({ blobId: entry.blobId, size: entry.size, mailFrom: entry.mailFrom, recipients: rest, accountId: entry.accountId });
        if (split) await o.store.deferQueueEntry(split.id, error.message, next);
        o.logger.info({ ...log, split: split?.id, deferred: rest }, 'outbound delivery partly deferred');
      }
    }
    if (failed.length > 0) {
      await returnToSender(o, { mailFrom: entry.mailFrom, createdAt: entry.createdAt, message: original }, failed);
    }
    if (outcome.delivered.length === 0 && failed.length > 0) {
      await o.store.failQueueEntry(entry.id, failed[0]!.diagnostic);
      o.observer?.delivery('bounced', age);
      o.logger.warn({ ...log, failed: failed.map((f) => `${f.recipient} ${f.status}`) }, 'outbound delivery failed');
    } else {
      await o.store.completeQueueEntry(entry.id);
      o.observer?.delivery('delivered', age);
      o.logger.info({ ...log, delivered: outcome.delivered, failed: failed.map((f) => f.recipient) }, 'outbound delivery done');
    }
  }

  function track(entry: QueueEntry): Promise<void> {
    const p = work(entry)
      .catch((err: unknown) => {
        // The lease expires and the entry is tried again; nothing is lost.
        o.logger.error({ id: entry.id, err: err instanceof Error ? err.message : String(err) }, 'outbound queue entry failed unexpectedly');
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    return p;
  }

  async function runOnce(): Promise<number> {
    const room = concurrency - inFlight.size;
    if (room <= 0) return 0;
    const entries = await o.store.claimQueueEntries(holder, room, leaseMs);
    await Promise.all(entries.map(track));
    return entries.length;
  }

  async function poll(): Promise<void> {
    if (polling || stopped) return;
    polling = true;
    try {
      const room = concurrency - inFlight.size;
      if (room > 0) {
        const entries = await o.store.claimQueueEntries(holder, room, leaseMs);
        for (const e of entries) void track(e).then(() => (stopped ? undefined : poll()));
      }
    } catch (err) {
      o.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'outbound queue poll failed');
    } finally {
      polling = false;
    }
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      timer = setInterval(() => void poll(), o.pollIntervalMs ?? 5000);
      void poll();
    },
    async stop(graceMs: number) {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      let t: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all([...inFlight]), new Promise((r) => (t = setTimeout(r, graceMs)))]);
      clearTimeout(t);
      client.closeIdle();
    },
    runOnce,
  };
}
