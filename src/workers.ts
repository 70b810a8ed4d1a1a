// `[server] workers = N`: N worker processes (node:cluster) share the listeners; the
// primary only supervises. Rules:
// - No correctness depends on one process's memory: everything shared is in the store.
// - Change events reach every worker: each worker's bus sends what it publishes to the
//   primary, which relays it to the other workers (embedded mode). In farm mode the
//   PostgreSQL bus already reaches every process.
// - Only the primary reacts to SIGINT (a terminal's Ctrl-C reaches the whole process
//   group); it stops the workers with SIGTERM and exits 0 once all have stopped.
import cluster, { type Worker } from 'node:cluster';
import type { LocalChangeBus } from './store/bus.js';
import type { ChangeEvent } from './store/store.js';
import type { Logger } from './log.js';
import type { ListenAddress } from './config/index.js';

interface ChangeMessage {
  type: 'steadymail:change';
  event: ChangeEvent;
}

export interface ReadyMessage {
  type: 'steadymail:ready';
  addresses: Array<[string, ListenAddress]>;
}

function isMessage<T extends { type: string }>(msg: unknown, type: T['type']): msg is T {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === type;
}

/** The IPC side of a worker (process itself, or a stand-in in tests). */
export interface Channel {
  send?(message: unknown): boolean;
  connected?: boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** In a worker: send local events to the primary, deliver relayed ones locally. */
export function relayBusThroughPrimary(bus: LocalChangeBus, channel: Channel = process): () => void {
  bus.onPublish = (event) => {
    if (channel.connected !== false) channel.send?.({ type: 'steadymail:change', event } satisfies ChangeMessage);
  };
  const onMessage = (msg: unknown): void => {
    if (isMessage<ChangeMessage>(msg, 'steadymail:change')) bus.deliver(msg.event);
  };
  channel.on('message', onMessage);
  return () => {
    channel.off('message', onMessage);
    bus.onPublish = undefined;
  };
}

interface MetricsCollect {
  type: 'steadymail:metrics-collect';
  id: number;
}
interface MetricsRequest {
  type: 'steadymail:metrics-request';
  key: string;
}
interface MetricsResponse {
  type: 'steadymail:metrics-response';
  key: string;
  metrics: unknown;
}
interface MetricsCollected {
  type: 'steadymail:metrics-collected';
  id: number;
  all: unknown[];
}

/** How long the primary waits for the workers' metrics before answering with what it has. */
const METRICS_TIMEOUT_MS = 2000;

/**
 * In a worker: answers the primary's requests for this process's metrics (`local`:
 * prom-client's getMetricsAsJSON()), and gathers every worker's through the primary, so
 * /metrics on any worker is the view of the whole node.
 */
export function shareMetricsThroughPrimary(local: () => Promise<unknown>, channel: Channel = process): { collectAll(): Promise<unknown[]>; stop(): void } {
  let next = 0;
  const waiting = new Map<number, (all: unknown[]) => void>();
  const onMessage = (msg: unknown): void => {
    if (isMessage<MetricsRequest>(msg, 'steadymail:metrics-request')) {
      local().then(
        (metrics) => channel.send?.({ type: 'steadymail:metrics-response', key: msg.key, metrics } satisfies MetricsResponse),
        () => channel.send?.({ type: 'steadymail:metrics-response', key: msg.key, metrics: [] } satisfies MetricsResponse),
      );
    } else if (isMessage<MetricsCollected>(msg, 'steadymail:metrics-collected')) {
      waiting.get(msg.id)?.(msg.all);
      waiting.delete(msg.id);
    }
  };
  channel.on('message', onMessage);
  return {
    collectAll() {
      const id = ++next;
      return new Promise<unknown[]>((resolve) => {
        // The primary always answers; this only covers a primary that is gone.
        const timer = setTimeout(() => {
          waiting.delete(id);
          void local().then((m) => resolve([m]), () => resolve([]));
        }, METRICS_TIMEOUT_MS * 2);
        waiting.set(id, (all) => {
          clearTimeout(timer);
          resolve(all);
        });
        if (channel.connected === false || !channel.send?.({ type: 'steadymail:metrics-collect', id } satisfies MetricsCollect)) {
          clearTimeout(timer);
          waiting.delete(id);
          void local().then((m) => resolve([m]), () => resolve([]));
        }
      });
    },
    stop() {
      channel.off('message', onMessage);
    },
  };
}

/** This worker's place among the node's workers (0 … workers-1); kept by its replacement. */
export function workerIndex(): number {
  return Number(process.env.STEADYMAIL_WORKER_INDEX ?? 0);
}

export function reportReady(addresses: ReadonlyMap<string, ListenAddress>): void {
  process.send?.({ type: 'steadymail:ready', addresses: [...addresses] } satisfies ReadyMessage);
}

/**
 * In the primary: fork the workers, relay change events, restart a worker that dies,
 * stop them all on SIGTERM/SIGINT. `onReady` runs once, when the first worker listens.
 */
export function superviseWorkers(options: {
  count: number;
  logger: Logger;
  onReady: (message: ReadyMessage) => void;
}): void {
  const { count, logger } = options;
  let stopping = false;
  let announced = false;
  let recentDeaths: number[] = [];
  // Each worker's index; a replacement takes the index of the worker it replaces, so
  // work done "once per node" (probes) stays with index 0.
  const indexOf = new Map<number, number>();
  const fork = (index: number): void => {
    const worker = cluster.fork({ STEADYMAIL_WORKER_INDEX: String(index) });
    indexOf.set(worker.id, index);
  };
  const gathering = new Map<string, { from: Worker; id: number; expected: number; all: unknown[]; timer: NodeJS.Timeout }>();
  let gatherings = 0;
  const finishGathering = (key: string): void => {
    const g = gathering.get(key);
    if (!g) return;
    gathering.delete(key);
    clearTimeout(g.timer);
    if (g.from.isConnected()) g.from.send({ type: 'steadymail:metrics-collected', id: g.id, all: g.all } satisfies MetricsCollected);
  };

  cluster.on('message', (from: Worker, msg: unknown) => {
    if (isMessage<MetricsCollect>(msg, 'steadymail:metrics-collect')) {
      const key = `${++gatherings}`;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
      gathering.set(key, { from, id: msg.id, expected: workers.length, all: [], timer: setTimeout(() => finishGathering(key), METRICS_TIMEOUT_MS) });
      for (const worker of workers) worker.send({ type: 'steadymail:metrics-request', key } satisfies MetricsRequest);
      return;
    }
    if (isMessage<MetricsResponse>(msg, 'steadymail:metrics-response')) {
      const g = gathering.get(msg.key);
      if (!g) return;
      g.all.push(msg.metrics);
      if (g.all.length >= g.expected) finishGathering(msg.key);
      return;
    }
    if (isMessage<ChangeMessage>(msg, 'steadymail:change')) {
      for (const worker of Object.values(cluster.workers ?? {})) {
        if (worker && worker !== from && worker.isConnected()) worker.send(msg);
      }
    } else if (isMessage<ReadyMessage>(msg, 'steadymail:ready') && !announced) {
      announced = true;
      options.onReady(msg);
    }
  });

  cluster.on('exit', (worker, code, signal) => {
    if (!stopping && !announced) {
      // A worker that cannot even start (address in use, bad certificate) will not do
      // better on a restart: stop everything with its exit code.
      stopping = true;
      logger.error({ worker: worker.process.pid, code, signal }, 'a worker failed to start; stopping');
      for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGTERM');
      process.exitCode = code || 1;
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit();
      return;
    }
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        logger.info('all workers stopped');
        process.exit();
      }
      return;
    }
    // Backoff: 1 s after an isolated death, doubling (up to 30 s) while workers keep
    // dying within a minute of each other, so a crash loop does not spin the machine.
    const now = Date.now();
    recentDeaths = recentDeaths.filter((t) => now - t < 60_000);
    recentDeaths.push(now);
    const delayMs = Math.min(30_000, 1000 * 2 ** (recentDeaths.length - 1));
    logger.error({ worker: worker.process.pid, code, signal, restartInMs: delayMs }, 'worker died; starting a new one');
    const index = indexOf.get(worker.id) ?? 0;
    indexOf.delete(worker.id);
    setTimeout(() => {
      if (!stopping) fork(index);
    }, delayMs); // not unref'd: with every worker dead, this timer is what keeps the primary alive
  });

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: killing the workers');
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    process.exitCode = 0;
    logger.info({ signal }, 'stopping the workers');
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(0);
    for (const worker of workers) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Certificate reload: each worker re-reads its own files.
  process.on('SIGHUP', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGHUP');
  });

  for (let i = 0; i < count; i++) fork(i);
  logger.info({ workers: count }, `started ${count} worker processes`);
}
