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

  cluster.on('message', (from: Worker, msg: unknown) => {
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
    setTimeout(() => {
      if (!stopping) cluster.fork();
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

  for (let i = 0; i < count; i++) cluster.fork();
  logger.info({ workers: count }, `started ${count} worker processes`);
}
