// steadymail serve: run the server until SIGTERM or SIGINT. With `[server] workers = N`
// above 1 this process becomes the primary and N workers serve (src/workers.ts).
import cluster from 'node:cluster';
import { formatAddress, type Config, type ListenAddress } from '../config/index.js';
import { prepareFirstRun, readFirstRun } from '../first-run.js';
import { storeOptions } from '../listener.js';
import { createLogger, type Logger } from '../log.js';
import { startServer } from '../server.js';
import { LocalChangeBus } from '../store/bus.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { loadCertificate } from '../tls/index.js';
import { VERSION } from '../version.js';
import { relayBusThroughPrimary, reportReady, shareMetricsThroughPrimary, superviseWorkers, workerIndex } from '../workers.js';
import type { Monitor } from '../monitor/index.js';
import { cliConfig, type ConfigOption } from './context.js';

const SCHEMES: Partial<Record<string, string>> = { http: 'http://' };

/** What a person starting the server wants to know: where it listens and how to log in. */
async function banner(addresses: Iterable<[string, ListenAddress]>, store: Store, config: Config): Promise<string> {
  const lines = [`Steadymail ${VERSION} is running (data in ${config.dataDir})`];
  if (config.server.workers > 1) lines[0] += ` with ${config.server.workers} worker processes`;
  for (const [name, address] of addresses) {
    const host = address.host === '0.0.0.0' || address.host === '::' ? 'localhost' : address.host;
    lines.push(`  ${name.padEnd(12)} ${SCHEMES[name] ?? ''}${formatAddress({ host, port: address.port })}`);
  }
  const demo = await readFirstRun(config);
  if (demo && (await store.getAccount(demo.address))) {
    lines.push(
      process.stderr.isTTY
        ? `Log in as ${demo.address} with password ${demo.password} (from ${demo.file})`
        : `Log in as ${demo.address}; the password is in ${demo.file}`,
    );
  } else if ((await store.listAccounts()).length === 0) {
    lines.push('No accounts yet. Add one with:', '  steadymail domain add example.com', '  steadymail user add you@example.com');
  } else {
    lines.push('Log in with a full address as the user name; manage accounts with `steadymail user`.');
  }
  return lines.join('\n');
}

async function firstRun(store: Store, config: Config, logger: Logger): Promise<void> {
  const created = await prepareFirstRun(store, config);
  if (created) logger.info({ address: created.address, file: created.file }, 'created the demo account');
}

/** The primary of several workers: prepares what must happen once, then supervises. */
async function servePrimary(config: Config, logger: Logger): Promise<void> {
  const store = await openStore(storeOptions(config));
  try {
    await firstRun(store, config, logger);
  } finally {
    await store.close();
  }
  await loadCertificate(config); // generated here once, not raced by the workers
  superviseWorkers({
    count: config.server.workers,
    logger,
    onReady: (ready) => {
      void (async () => {
        const s = await openStore(storeOptions(config));
        try {
          process.stderr.write(`${await banner(ready.addresses, s, config)}\n`);
        } finally {
          await s.close();
        }
      })().catch((err: unknown) => logger.warn({ err }, 'could not print the start-up banner'));
    },
  });
}

export async function serve(options: ConfigOption): Promise<void> {
  const config = cliConfig(options);
  const logger = createLogger(config.log);
  if (config.server.workers > 1 && cluster.isPrimary) return servePrimary(config, logger);

  let bus: LocalChangeBus | undefined;
  if (cluster.isWorker && config.store.driver === 'sqlite') {
    bus = new LocalChangeBus();
    relayBusThroughPrimary(bus);
  }
  // Workers: one /metrics view of the whole node, and probes once per node (worker 0).
  const started: { monitor?: Monitor } = {};
  const sharing = cluster.isWorker ? shareMetricsThroughPrimary(async () => (started.monitor ? started.monitor.localMetrics() : [])) : undefined;
  const handle = await startServer({
    config,
    logger,
    ...(bus ? { bus } : {}),
    ...(sharing ? { worker: { runProbes: workerIndex() === 0, collectMetrics: () => sharing.collectAll() } } : {}),
  });
  if (handle.monitor) started.monitor = handle.monitor;

  let signals = 0;
  const stop = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    logger.info({ signal }, 'stopping');
    handle.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(70);
      },
    );
  };
  process.on('SIGTERM', stop);
  // SIGHUP: re-read the certificate files now (they are also watched).
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading TLS certificates');
    handle.reloadCertificates().catch((err: unknown) => logger.warn({ err }, 'TLS certificate reload failed'));
  });

  if (cluster.isWorker) {
    // Ctrl-C reaches every process of the group; the primary decides, with SIGTERM.
    process.on('SIGINT', () => undefined);
    reportReady(handle.addresses);
    return;
  }
  process.on('SIGINT', stop);
  await firstRun(handle.store, config, logger);
  process.stderr.write(`${await banner(handle.addresses, handle.store, config)}\n`);
}
