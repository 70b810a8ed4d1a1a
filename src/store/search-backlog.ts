// The search index's backlog pass: after migration 0008 (or a new extractor
// version), messages stored before are indexed in the background, a batch at a
// time with a pause between batches so serving stays responsive. One process at a
// time does it (a store lease); the others wait and take over if it stops.
// Until a message is indexed, SEARCH scans it, so nothing depends on this finishing.

import type { Store } from './store.js';

export interface SearchBacklogOptions {
  /** Who holds the lease (host and pid). */
  holder: string;
  onError(err: unknown): void;
  /** Called once the pass has gone through every message. */
  onDone?(indexed: number): void;
  batch?: number;
  pauseMs?: number;
  /** How long a waiting process sleeps before trying for the lease again. */
  retryMs?: number;
}

const LEASE = 'search-backlog';
const LEASE_TTL_MS = 120_000;

export interface SearchBacklog {
  /** Resolves when the pass is stopped or done. */
  readonly finished: Promise<void>;
  stop(): Promise<void>;
}

export function startSearchBacklog(store: Store, o: SearchBacklogOptions): SearchBacklog {
  let stopped = false;
  const pause: { wake: (() => void) | null } = { wake: null };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      pause.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  const run = async (): Promise<void> => {
    let total = 0;
    while (!stopped) {
      let held = false;
      try {
        held = await store.acquireLease(LEASE, o.holder, LEASE_TTL_MS);
        if (held) {
          let next: number | null = 0;
          while (next !== null && !stopped) {
            const step: { indexed: number; next: number | null } = await store.indexSearchBacklog(next, o.batch ?? 200);
            total += step.indexed;
            next = step.next;
            if (!(await store.renewLease(LEASE, o.holder, LEASE_TTL_MS))) break;
            if (next !== null) await sleep(o.pauseMs ?? 50);
          }
          if (next === null) {
            await store.releaseLease(LEASE, o.holder);
            o.onDone?.(total);
            return;
          }
        }
      } catch (err) {
        if (!stopped) o.onError(err);
      }
      if (held) await store.releaseLease(LEASE, o.holder).catch(() => undefined);
      if (!stopped) await sleep(o.retryMs ?? 60_000);
    }
  };
  const finished = run();
  return {
    finished,
    async stop() {
      stopped = true;
      pause.wake?.();
      await finished;
    },
  };
}
