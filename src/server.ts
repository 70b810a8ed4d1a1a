// Starts every configured listener over one store, and stops them gracefully.
//
// A listener is anything that accepts connections (SMTP, POP3, IMAP, HTTP, ...). Each
// protocol adds one factory to LISTENERS; a listener whose address is `off` is never
// created. Stopping: every listener stops accepting at once, in-flight work gets the
// grace period, then the store closes.
import type { Config, ListenAddress, ListenerName } from './config/index.js';
import { formatAddress, LISTENER_NAMES } from './config/index.js';
import type { Logger } from './log.js';
import { openStore } from './store/open.js';
import type { ChangeBus, Store } from './store/store.js';
import { loadCertificate, type ServerCertificate } from './tls/index.js';
import { createHttpListener } from './http/listener.js';
import { webmailStatic } from './http/webmail-static.js';
import { PROTOCOL_LISTENERS, createOutbound, webmailSubmission } from './listeners.js';
import { createMonitor, type Monitor } from './monitor/index.js';
import { webmailApi } from './http/api/index.js';
import type { OutboundQueue } from './smtp/queue/index.js';
import { ListenError, storeOptions, type Listener, type ServerContext } from './listener.js';

export { ListenError, storeOptions, type Listener, type ServerContext } from './listener.js';

export type ListenerFactory = (context: ServerContext, address: ListenAddress) => Listener;

/** The protocols this build serves. Names without a factory are not implemented yet. */
export const LISTENERS: Partial<Record<ListenerName, ListenerFactory>> = {
  ...PROTOCOL_LISTENERS,
  http: createHttpListener,
};

export interface ServerHandle {
  readonly store: Store;
  readonly certificate: ServerCertificate;
  /** The addresses actually bound, by listener. */
  readonly addresses: ReadonlyMap<ListenerName, ListenAddress>;
  /** Probes, /readyz, /metrics and /status; present when the HTTP listener is on. */
  readonly monitor: Monitor | undefined;
  /** Graceful stop within config.server.shutdownGraceSeconds; safe to call twice. */
  close(): Promise<void>;
}

export interface StartServerOptions {
  config: Config;
  logger: Logger;
  /** Replaces LISTENERS (tests). */
  listeners?: Partial<Record<ListenerName, ListenerFactory>>;
  /** false: no probes and no monitor routes even with HTTP on (tests of other things). */
  monitor?: boolean;
  /** The embedded store's change bus (a worker passes one relayed through the primary). */
  bus?: ChangeBus;
}

export async function startServer(options: StartServerOptions): Promise<ServerHandle> {
  const { config, logger } = options;
  const factories = options.listeners ?? LISTENERS;
  const graceMs = config.server.shutdownGraceSeconds * 1000;
  const opened = storeOptions(config);
  const store = await openStore(
    opened.driver === 'postgres'
      ? { ...opened, onBackgroundError: (err: unknown) => logger.error({ err }, 'store: background error (PostgreSQL connection)') }
      : { ...opened, ...(options.bus ? { bus: options.bus } : {}) },
  );
  const started: Listener[] = [];
  const addresses = new Map<ListenerName, ListenAddress>();

  // Probes run only where their results can be read: on the HTTP listener.
  const monitor =
    config.listen.http === null || !factories.http || options.monitor === false
      ? undefined
      : createMonitor({
          hostname: config.hostname,
          store,
          logger,
          intervalSeconds: config.monitor.probeIntervalSeconds,
          credentials: config.monitor.probe,
          listeners: () => addresses,
          connections: () => started.map((l) => [l.name, l.connections?.()] as [ListenerName, number | undefined]),
        });

  let outbound: OutboundQueue | null = null;

  const stopAll = async (): Promise<void> => {
    await monitor?.stop();
    const queueStopped = outbound?.stop(graceMs);
    const results = await Promise.allSettled(started.map((l) => l.stop(graceMs)));
    results.forEach((r, i) => {
      if (r.status === 'rejected') logger.error({ err: r.reason as unknown, listener: started[i]?.name }, 'listener did not stop cleanly');
    });
    // Deliveries still running after the grace period keep their leases until those expire; then they are retried.
    await queueStopped;
    await store.close();
  };

  let certificate: ServerCertificate;
  try {
    certificate = await loadCertificate(config);
    const days = Math.floor((certificate.notAfter.getTime() - Date.now()) / 86400000);
    logger.info(
      { cert: certificate.certPath, notAfter: certificate.notAfter.toISOString(), selfSigned: certificate.selfSigned },
      certificate.generated ? `generated a self-signed certificate for ${config.hostname}` : `TLS certificate valid for ${days} more days`,
    );
    if (days < 14) logger.warn({ notAfter: certificate.notAfter.toISOString() }, 'the TLS certificate expires soon');

    // The webmail SPA comes last: it serves only / and /assets/, never a path taken before it.
    const httpFeatures = [...(monitor ? [monitor.httpFeature] : []), webmailApi(webmailSubmission({ config, store, logger })), webmailStatic()];
    const context: ServerContext = { config, logger, store, certificate, httpFeatures };
    for (const name of LISTENER_NAMES) {
      const address = config.listen[name];
      const factory = factories[name];
      if (address === null) continue;
      if (!factory) {
        logger.debug({ listener: name }, `${name} is not implemented yet; not listening`);
        continue;
      }
      const listener = factory(context, address);
      let bound: ListenAddress;
      try {
        bound = await listener.start();
      } catch (err) {
        throw new ListenError(name, address, err);
      }
      started.push(listener);
      addresses.set(name, bound);
      logger.info({ listener: name, host: bound.host, port: bound.port }, `${name} listening on ${formatAddress(bound)}`);
    }
    outbound = createOutbound(context);
    if (outbound) {
      outbound.start();
      logger.info({ relay: config.outbound.relay ? formatAddress(config.outbound.relay) : null }, 'outbound queue started');
    }
  } catch (err) {
    await stopAll();
    throw err;
  }

  monitor?.start();
  let closing: Promise<void> | undefined;
  return {
    store,
    certificate,
    addresses,
    monitor,
    close() {
      closing ??= (async () => {
        logger.info({ graceSeconds: config.server.shutdownGraceSeconds }, 'shutting down');
        await stopAll();
        logger.info('stopped');
      })();
      return closing;
    },
  };
}
