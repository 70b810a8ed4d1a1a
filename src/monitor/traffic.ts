// Hourly traffic for the console's chart: this process's message counters (./counters.ts)
// are added to the store's hour row once a minute (and at shutdown), so the figures of
// every worker and farm node add up, and survive restarts.

import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { TrafficCounts } from '../store/admin.js';
import type { MessageCounters } from './counters.js';

export interface TrafficRecorder {
  /** Writes what was counted since the last flush. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function startTrafficRecorder(store: Store, counters: MessageCounters, logger: Logger, intervalMs = 60_000): TrafficRecorder {
  const c = counters.counts;
  let written: TrafficCounts = { received: c.received, deliveredLocal: c.deliveredLocal, transmitted: c.transmitted, failed: c.failed };
  let running: Promise<void> | undefined;
  const flush = (): Promise<void> =>
    (running ??= (async () => {
      const now: TrafficCounts = { received: c.received, deliveredLocal: c.deliveredLocal, transmitted: c.transmitted, failed: c.failed };
      const delta: TrafficCounts = {
        received: now.received - written.received,
        deliveredLocal: now.deliveredLocal - written.deliveredLocal,
        transmitted: now.transmitted - written.transmitted,
        failed: now.failed - written.failed,
      };
      if (delta.received + delta.deliveredLocal + delta.transmitted + delta.failed === 0) return;
      try {
        await store.admin.addTraffic(new Date(), delta);
        written = now;
      } catch (err) {
        // Kept for the next flush.
        logger.warn({ err }, 'traffic figures not stored; trying again');
      }
    })().finally(() => {
      running = undefined;
    }));
  const timer = setInterval(() => void flush(), intervalMs);
  timer.unref();
  return {
    flush,
    async stop() {
      clearInterval(timer);
      await running;
      await flush();
    },
  };
}
