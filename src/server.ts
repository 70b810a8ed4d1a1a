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
import { configureLoginThrottle } from './auth/throttle.js';
import { setIndexLimits } from './mime/index.js';
import { startSearchBacklog, type SearchBacklog } from './store/search-backlog.js';
import { hostname } from 'node:os';
import type { ChangeBus, Store } from './store/store.js';
import type { ServerCertificate } from './tls/index.js';
import { CertificateStore, certificateSummaries, setActiveCertificateStore } from './tls/cert-store.js';
import { registerAcmeMetrics, registerCertificateMetrics } from './tls/metrics.js';
import { createAcmeManager, type AcmeManager } from './tls/acme.js';
import { acmeChallengeFeature } from './tls/acme-http.js';
import { hostname as osHostname } from 'node:os';
import { createHttpListener } from './http/listener.js';
import { PROTOCOL_LISTENERS, createFilter, createOutbound, webmailSubmission } from './listeners.js';
import type { FilterService } from './filter/index.js';
import { createMonitor, type Monitor } from './monitor/index.js';
import { countingStore, MessageCounters } from './monitor/counters.js';
import { SessionRecorder } from './sessions/recorder.js';
import { snmpListener } from './snmp/index.js';
import { adminStatic, webmailStatic } from './http/webmail-static.js';
import { webmailApi } from './http/api/index.js';
import { adminApi } from './http/admin/index.js';
import { startTrafficRecorder, type TrafficRecorder } from './monitor/traffic.js';
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
  /** Every certificate served (SNI, reload, expiry); see docs/tls.md. */
  readonly certificates: CertificateStore;
  /** Re-reads the certificate files now (SIGHUP). */
  reloadCertificates(): Promise<void>;
  /** Obtains and renews certificates ([acme] enabled), or only loads those in the store. */
  readonly acme: AcmeManager | undefined;
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
  /** How often the ACME client polls the CA while it validates (tests shorten it). */
  acmePollMs?: number;
  /** A worker process of `[server] workers > 1`: whether it probes, and every worker's metrics. */
  worker?: { runProbes: boolean; collectMetrics: () => Promise<unknown[]> };
}

export async function startServer(options: StartServerOptions): Promise<ServerHandle> {
  const { config, logger } = options;
  const factories = options.listeners ?? LISTENERS;
  const graceMs = config.server.shutdownGraceSeconds * 1000;
  const opened = storeOptions(config);
  const counters = new MessageCounters();
  const rawStore = await openStore(
    opened.driver === 'postgres'
      ? { ...opened, onBackgroundError: (err: unknown) => logger.error({ err }, 'store: background error (PostgreSQL connection)') }
      : { ...opened, ...(options.bus ? { bus: options.bus } : {}) },
  );
  // Counts the messages that pass through the store, for /metrics and SNMP.
  const store = countingStore(rawStore, counters);
  setIndexLimits({ maxParts: config.limits.mimeMaxParts, maxDepth: config.limits.mimeMaxDepth, maxHeaderBytes: config.limits.mimeMaxHeaderBytes });
  // Every login checked against this store (any protocol) shares these limits.
  configureLoginThrottle(
    store,
    {
      maxFailuresPerIp: config.auth.maxFailuresPerIp,
      maxFailuresPerAccount: config.auth.maxFailuresPerAccount,
      windowMs: config.auth.failureWindowSeconds * 1000,
      failuresBeforeDelay: config.limits.authFailuresBeforeDelay,
      baseDelayMs: 500,
      maxDelayMs: config.auth.maxFailureDelayMs,
    },
    logger,
  );
  const started: Listener[] = [];
  const addresses = new Map<ListenerName, ListenAddress>();
  // Every session of every listener reports here: history, traces, live list, counters.
  const sessions = new SessionRecorder({
    store,
    logger,
    node: `${config.monitor.nodeName}:${process.pid}`,
    limits: {
      historyDays: config.sessions.historyDays,
      historyMaxPerAccount: config.sessions.historyMaxPerAccount,
      traceMaxBytes: config.sessions.traceMaxBytes,
      traceTotalMaxBytes: config.sessions.traceTotalMaxBytes,
      traceKeepHours: config.sessions.traceKeepHours,
    },
  });

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
          node: config.monitor.nodeName,
          certificates: () => certificateSummaries(),
          ...(options.worker ? { runProbes: options.worker.runProbes, workerMetrics: options.worker.collectMetrics } : {}),
          probeHistoryDays: config.monitor.probeHistoryDays,
          uptimeDays: config.monitor.uptimeDays,
          alerts: {
            webhook: config.monitor.alertWebhook,
            email: config.monitor.alertEmail,
            afterSeconds: config.monitor.alertAfterSeconds,
            minIntervalSeconds: config.monitor.alertMinIntervalSeconds,
            autoIncidentMinutes: config.monitor.autoIncidentMinutes,
            subscribers: config.monitor.subscribers,
            webhookAttempts: config.monitor.alertWebhookAttempts,
            webhookRetryMs: config.monitor.alertWebhookRetrySeconds * 1000,
          },
          counters,
          sessionCounters: sessions.counters,
          listeners: () => addresses,
          connections: () => started.map((l) => [l.name, l.connections?.()] as [ListenerName, number | undefined]),
          filterStatus: () => filter?.health.status(),
        });

  let outbound: OutboundQueue | null = null;
  let filter: FilterService | null = null;
  let acme: AcmeManager | undefined;
  let searchBacklog: SearchBacklog | null = null;
  let traffic: TrafficRecorder | undefined = undefined;

  const stopAll = async (): Promise<void> => {
    await monitor?.stop();
    await searchBacklog?.stop();
    // An ACME order in flight gets the grace period, alongside the listeners.
    const acmeStopped = acme?.stop(graceMs);
    const queueStopped = outbound?.stop(graceMs);
    const results = await Promise.allSettled(started.map((l) => l.stop(graceMs)));
    results.forEach((r, i) => {
      if (r.status === 'rejected') logger.error({ err: r.reason as unknown, listener: started[i]?.name }, 'listener did not stop cleanly');
    });
    await sessions.stop();
    // Deliveries still running after the grace period keep their leases until those expire; then they are retried.
    await queueStopped;
    await acmeStopped;
    await filter?.close();
    await traffic?.stop();
    await store.close();
  };

  let certificate: ServerCertificate;
  let certificates: CertificateStore | undefined;
  try {
    certificates = await CertificateStore.open(config, logger);
    certificate = certificates.initial;
    const days = Math.floor((certificate.notAfter.getTime() - Date.now()) / 86400000);
    logger.info(
      { cert: certificate.certPath, notAfter: certificate.notAfter.toISOString(), selfSigned: certificate.selfSigned },
      certificate.generated ? `generated a self-signed certificate for ${config.hostname}` : `TLS certificate valid for ${days} more days`,
    );

    const legacy = config.tls.legacyVersionsOn.filter((name) => config.listen[name] !== null);
    if (legacy.length > 0) {
      logger.warn(
        { listeners: legacy },
        `TLS 1.0 and 1.1 are accepted on ${legacy.join(', ')} (tls.legacy_versions_on): these versions are deprecated (RFC 8996) and weak; passwords sent over them are at risk`,
      );
    }
    await certificates.watch();
    setActiveCertificateStore(certificates);
    if (monitor) {
      registerCertificateMetrics(monitor.metrics.registry, certificates);
      if (config.acme.enabled) registerAcmeMetrics(monitor.metrics.registry);
    }
    // Any node answers HTTP-01 validation from the store, whether or not it orders certificates itself.
    // The webmail SPA comes last: it serves only / and /assets/, never a path taken before it.
    filter = createFilter({ config, logger, store });
    const learner = filter?.learner;
    const httpFeatures = [
      ...(monitor ? [monitor.httpFeature] : []),
      acmeChallengeFeature,
      // Junk moves in the webmail teach the filter, as they do over IMAP.
      webmailApi(webmailSubmission({ config, store, logger }), learner ? (t) => learner.transferred(t) : undefined),
      adminApi({
        ...(monitor ? { summary: () => monitor.summary() } : {}),
        connections: () => started.map((l) => [l.name, l.connections?.()] as [ListenerName, number | undefined]),
        listeners: () => addresses,
      }),
      adminStatic(),
      webmailStatic(),
    ];
    const context: ServerContext = { config, logger, store, certificate, certificates, httpFeatures, boundAddresses: () => addresses, sessions, counters, ...(filter ? { filter } : {}) };
    // Without acme.enabled the node still serves what other nodes obtained (a farm may order on a few nodes only).
    acme = createAcmeManager({
      order: config.acme.enabled,
      settings: config.acme,
      store,
      certificates,
      logger,
      holder: `${osHostname()}:${process.pid}`,
      ...(options.acmePollMs !== undefined ? { pollMs: options.acmePollMs } : {}),
    });
    await acme.loadStored();
    const snmp = snmpListener(config, logger, monitor);
    for (const name of LISTENER_NAMES) {
      const address = config.listen[name];
      const factory = name === 'snmp' && snmp ? () => snmp : factories[name];
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
    if (config.acme.enabled && !addresses.has('http')) logger.warn('acme.enabled, but the HTTP listener is off: HTTP-01 validation cannot reach this node');
    acme.start();
    outbound = createOutbound(context);
    if (outbound) {
      outbound.start();
      logger.info({ relay: config.outbound.relay ? formatAddress(config.outbound.relay) : null }, 'outbound queue started');
    }
  } catch (err) {
    certificates?.close();
    await stopAll();
    throw err;
  }
  const certStore = certificates;

  monitor?.start();
  sessions.start();
  traffic = startTrafficRecorder(rawStore, counters, logger);
  // Messages stored before the search index existed (docs/imap.md, Search).
  searchBacklog = startSearchBacklog(store, {
    holder: `${hostname()}:${process.pid}`,
    onError: (err) => logger.warn({ err }, 'search index: the backlog pass failed; trying again later'),
    onDone: (indexed) => {
      if (indexed > 0) logger.info({ indexed }, 'search index: older messages indexed');
    },
  });
  let closing: Promise<void> | undefined;
  return {
    store,
    certificate,
    certificates: certStore,
    reloadCertificates: () => certStore.reload('reload requested'),
    acme,
    addresses,
    monitor,
    close() {
      closing ??= (async () => {
        logger.info({ graceSeconds: config.server.shutdownGraceSeconds }, 'shutting down');
        certStore.close();
        await stopAll();
        logger.info('stopped');
      })();
      return closing;
    },
  };
}
