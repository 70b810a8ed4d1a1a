// Self-monitoring: probes against this node's own listeners on a schedule, their history
// (in memory and in the store, shared by every node), the derived component status,
// alerts, /readyz, /metrics, the public status page with its JSON API and Atom feed.
//
// Rules: a probe run never throws (every failure is a recorded step); runs never overlap;
// stop() waits for the run in flight so no socket outlives the server.
import type { ListenAddress, ListenerName } from '../config/index.js';
import type { FastifyReply } from 'fastify';
import type { HttpFeature } from '../http/app.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { FilterStatus } from '../filter/index.js';
import { AggregatorRegistry, Gauge, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { SnmpSnapshot } from '../snmp/agent.js';
import { createAlerter, type Alerter } from './alerts.js';
import type { MessageCounters } from './counters.js';
import type { SessionCounters } from '../sessions/recorder.js';
import { ProbeHistory } from './history.js';
import { createMetrics, type MonitorMetrics } from './metrics.js';
import { COMPONENTS, runProbes, type Component, type ProbePlan, type ProbeResult } from './probes/index.js';
import { StepRecorder } from './probes/types.js';
import { checkReadiness } from './readiness.js';
import { renderAtomFeed, renderStatusPage } from './status-page.js';
import { buildSummary, type StatusSummary } from './status.js';

export { deriveStatus, ProbeHistory, type ComponentStatus } from './history.js';
export type { ProbeResult } from './probes/index.js';
export type { StatusSummary } from './status.js';

export interface MonitorAlertOptions {
  webhook: string | null;
  email: string | null;
  afterSeconds: number;
  minIntervalSeconds: number;
  autoIncidentMinutes: number;
  subscribers?: readonly string[];
  webhookAttempts?: number;
  webhookRetryMs?: number;
}

export interface MonitorOptions {
  hostname: string;
  store: Store;
  logger: Logger;
  intervalSeconds: number;
  credentials: { account: string; password: string } | null;
  /** The listeners this node bound, read at each run (filled in while the server starts). */
  listeners: () => ReadonlyMap<ListenerName, ListenAddress | null>;
  /** Open connections per listener, when the listener counts them. */
  connections?: () => Iterable<[ListenerName, number | undefined]>;
  /** Per step; default 10 s. */
  timeoutMs?: number;
  /** The inbound filter's engines (rspamd, ClamAV); undefined when filtering is off. */
  filterStatus?: () => FilterStatus | undefined;
  historySize?: number;
  /** This node's name in the shared history; default: hostname. */
  node?: string;
  /** Days of single results kept in the store (default 7) and of the uptime roll-up (default 90). */
  probeHistoryDays?: number;
  uptimeDays?: number;
  /** Alerts and automatic incidents; absent: none. */
  alerts?: MonitorAlertOptions;
  /** How long /status and its API reuse one summary; default 5 s. */
  summaryCacheMs?: number;
  /** Messages counted by the store wrapper (countingStore). */
  counters?: MessageCounters;
  /** Commands, error replies, failed logins and ended sessions per protocol (src/sessions). */
  sessionCounters?: SessionCounters;
  /** The certificates served (certificateSummaries() of src/tls): expiry shows on the status page. */
  certificates?: () => ReadonlyArray<{ names: readonly string[]; status: 'ok' | 'expiring' | 'expired' }>;
  /** false: this process does not probe (another worker of the node does); default true. */
  runProbes?: boolean;
  /** Several workers: every worker's getMetricsAsJSON(), merged into one /metrics view. */
  workerMetrics?: () => Promise<unknown[]>;
}

export interface Monitor {
  readonly history: ProbeHistory;
  readonly metrics: MonitorMetrics;
  /** Registers /readyz, /metrics, /status, /status.json, /status/api/v1/* and /status/feed.atom. */
  readonly httpFeature: HttpFeature;
  /** The status as the page shows it (cached for a few seconds unless `fresh`). */
  summary(fresh?: boolean): Promise<StatusSummary>;
  /** The components this node probes. */
  components(): Component[];
  /** What the SNMP agent serves. */
  snmpSnapshot(): Promise<SnmpSnapshot>;
  /** Runs the probes now (the scheduler's run when one is in flight). */
  runOnce(): Promise<ProbeResult[]>;
  /** The first run starts at once, then every interval. */
  start(): void;
  stop(): Promise<void>;
  /** This process's metrics as prom-client JSON (for merging across workers). */
  localMetrics(): Promise<unknown>;
}

function expectedComponents(listeners: ReadonlyMap<ListenerName, unknown>, withAccount: boolean): Component[] {
  const has = (...names: ListenerName[]) => names.some((n) => listeners.has(n));
  const list: Component[] = [];
  if (has('smtp')) list.push('smtp');
  if (has('submission', 'submissions')) list.push('submission');
  if (has('pop3', 'pop3s')) list.push('pop3');
  if (has('imap', 'imaps')) list.push('imap');
  if (has('http')) list.push('http');
  if (withAccount && has('submission', 'submissions') && has('imap', 'imaps') && has('pop3', 'pop3s')) list.push('delivery');
  list.push('store');
  return list;
}

export function createMonitor(options: MonitorOptions): Monitor {
  const { store, logger } = options;
  const history = new ProbeHistory(options.historySize ?? 100);
  const metrics = createMetrics(store, options.counters, options.sessionCounters);
  const filterStatus = options.filterStatus;
  if (filterStatus) {
    new Gauge({
      name: 'steadymail_filter_engine_up',
      aggregator: 'min',
      help: '1 when the filter engine (rspamd, clamav) answered its last request',
      labelNames: ['engine'],
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const [engine, state] of Object.entries(filterStatus()?.engines ?? {})) this.set({ engine }, state.ok ? 1 : 0);
      },
    });
  }
  const log = logger.child({ component: 'monitor' });
  let running: Promise<ProbeResult[]> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let abort = new AbortController();
  const node = options.node ?? options.hostname;
  const uptimeDays = options.uptimeDays ?? 90;
  const probeHistoryDays = options.probeHistoryDays ?? 7;
  let lastPrune = 0;
  const alerter: Alerter | undefined = options.alerts
    ? createAlerter({
        store,
        logger,
        node,
        hostname: options.hostname,
        ...options.alerts,
        leaseMs: Math.max(60_000, 3 * options.intervalSeconds * 1000),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      })
    : undefined;
  const components = () => expectedComponents(options.listeners(), options.credentials !== null);

  let cached: { at: number; value: Promise<StatusSummary> } | undefined;
  const summary = (fresh = false): Promise<StatusSummary> => {
    const now = Date.now();
    if (fresh || !cached || now - cached.at > (options.summaryCacheMs ?? 5000)) {
      cached = { at: now, value: buildSummary({ store, history, components, intervalSeconds: options.intervalSeconds, uptimeDays, ...(options.certificates ? { certificates: options.certificates } : {}) }) };
    }
    return cached.value;
  };

  const COMPONENT_OF: Partial<Record<ListenerName, Component>> = {
    smtp: 'smtp',
    submission: 'submission',
    submissions: 'submission',
    pop3: 'pop3',
    pop3s: 'pop3',
    imap: 'imap',
    imaps: 'imap',
    http: 'http',
  };
  /**
   * With several workers each process counts only its own connections and messages: SNMP
   * answers with the node's figures, summed from every worker's metrics (as /metrics does).
   */
  const nodeFigures = async (): Promise<{ connections: Array<[ListenerName, number]>; counts: SnmpSnapshot['messages'] } | undefined> => {
    if (!options.workerMetrics) return undefined;
    const all = (await options.workerMetrics()) as MetricObjectWithValues<MetricValue<string>>[][];
    const sum = (name: string, labels: Record<string, string> = {}): number => {
      let total = 0;
      for (const worker of all) {
        for (const metric of worker) {
          if (metric.name !== name) continue;
          for (const v of metric.values) if (Object.entries(labels).every(([k, want]) => v.labels[k] === want)) total += v.value;
        }
      }
      return total;
    };
    const protocols = new Set<string>();
    for (const worker of all) for (const m of worker) if (m.name === 'steadymail_connections') for (const v of m.values) protocols.add(String(v.labels['protocol']));
    return {
      connections: [...protocols].map((p) => [p as ListenerName, sum('steadymail_connections', { protocol: p })]),
      counts: {
        received: sum('steadymail_messages_received_total'),
        receivedBytes: sum('steadymail_messages_received_bytes_total'),
        deliveredLocal: sum('steadymail_messages_delivered_total', { destination: 'local' }),
        transmitted: sum('steadymail_messages_delivered_total', { destination: 'remote' }),
        transmittedBytes: sum('steadymail_messages_transmitted_bytes_total'),
        failed: sum('steadymail_messages_rejected_total', { destination: 'remote' }),
        queued: sum('steadymail_queue_entries_created_total'),
      },
    };
  };

  const snmpSnapshot = async (): Promise<SnmpSnapshot> => {
    const current = await summary();
    const node = await nodeFigures().catch(() => undefined);
    const connections = node?.connections ?? [...(options.connections?.() ?? [])].filter((e): e is [ListenerName, number] => e[1] !== undefined);
    const perComponent = new Map<string, number>();
    for (const [listener, open] of connections) {
      const component = COMPONENT_OF[listener];
      if (component) perComponent.set(component, (perComponent.get(component) ?? 0) + open);
    }
    const now = Date.now();
    let queue = { queued: 0, failed: 0, oldestAgeSeconds: 0 };
    let storeFigures = { up: false, domains: 0, accounts: 0, messages: 0, bytes: 0 };
    try {
      const [queued, failed, stats] = await Promise.all([store.listQueue({ state: 'queued', limit: 100_000 }), store.listQueue({ state: 'failed', limit: 100_000 }), store.stats()]);
      const oldest = queued.reduce((min, e) => Math.min(min, e.createdAt.getTime()), now);
      queue = { queued: queued.length, failed: failed.length, oldestAgeSeconds: Math.round((now - oldest) / 1000) };
      storeFigures = { up: true, ...stats };
    } catch {
      // smStoreStatus says down
    }
    const counts = options.counters?.counts;
    return {
      components: current.components.map((c) => {
        const known = (COMPONENTS as readonly string[]).indexOf(c.id);
        return {
          index: known >= 0 ? known + 1 : 100 + current.components.indexOf(c),
          id: c.id,
          name: c.name,
          status: c.status,
          latencyMs: c.lastLatencyMs,
          lastProbeAgeSeconds: c.lastProbeAt === null ? null : Math.round((now - Date.parse(c.lastProbeAt)) / 1000),
          uptimeHundredths: c.uptimePercent === null ? null : Math.round(c.uptimePercent * 100),
          connections: perComponent.get(c.id) ?? 0,
        };
      }),
      connections: connections.map(([protocol, open]) => ({ protocol, open })),
      queue,
      store: storeFigures,
      messages: node?.counts ?? {
        received: counts?.received ?? 0,
        receivedBytes: counts?.receivedBytes ?? 0,
        deliveredLocal: counts?.deliveredLocal ?? 0,
        transmitted: counts?.transmitted ?? 0,
        transmittedBytes: counts?.transmittedBytes ?? 0,
        failed: counts?.failed ?? 0,
        queued: counts?.queued ?? 0,
      },
    };
  };

  /** The store as a component: it answers a ping and takes a probe result. */
  const probeStore = async (): Promise<ProbeResult> => {
    const recorder = new StepRecorder();
    await recorder.attempt(() =>
      recorder.step('ping', () =>
        Promise.race([store.ping(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), options.timeoutMs ?? 10_000).unref())]),
      ),
    );
    return recorder.result('store');
  };

  const persist = async (results: readonly ProbeResult[]): Promise<void> => {
    try {
      await store.monitoring.recordProbes(
        results.map((r) => ({ node, component: r.component, at: r.at, ok: r.ok, ms: r.ms, steps: r.steps.length, failedSteps: r.steps.filter((s) => !s.ok).map((s) => s.name) })),
      );
      if (Date.now() - lastPrune > 3600_000) {
        lastPrune = Date.now();
        const today = Math.floor(Date.now() / 86_400_000);
        const pruned = await store.monitoring.pruneProbes({ recordsBefore: new Date(Date.now() - probeHistoryDays * 86_400_000), daysBefore: today - uptimeDays });
        if (pruned.records + pruned.days > 0) log.debug(pruned, 'old probe history pruned');
      }
    } catch (err) {
      log.warn({ err }, 'probe results not stored');
    }
  };

  const plan = (): ProbePlan => ({
    hostname: options.hostname,
    listeners: options.listeners(),
    credentials: options.credentials,
    timeoutMs: options.timeoutMs ?? 10_000,
    signal: abort.signal,
  });

  const run = async (): Promise<ProbeResult[]> => {
    const [results, storeResult] = await Promise.all([runProbes(plan()), probeStore()]);
    results.push(storeResult);
    for (const result of results) {
      const before = history.status(result.component);
      history.add(result);
      metrics.recordProbe(result);
      const after = history.status(result.component);
      if (after !== before) {
        const failed = result.steps.filter((s) => !s.ok).map((s) => `${s.name}: ${s.error ?? 'failed'}`);
        const level = after === 'operational' ? 'info' : 'warn';
        log[level]({ probe: result.component, status: after, was: before, failed }, `${result.component} is now ${after}`);
      }
    }
    await persist(results);
    const current = await summary(true);
    await alerter?.evaluate(current);
    return results;
  };

  const runOnce = (): Promise<ProbeResult[]> => {
    running ??= run().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      runOnce()
        .catch((err: unknown) => log.error({ err }, 'probe run failed'))
        .finally(() => schedule(options.intervalSeconds * 1000));
    }, delayMs);
    timer.unref();
  };

  const httpFeature: HttpFeature = (app) => {
    app.get('/readyz', async (_request, reply) => {
      const readiness = await checkReadiness(store, options.listeners());
      return reply.code(readiness.ready ? 200 : 503).send(readiness);
    });
    app.get('/metrics', async (_request, reply) => {
      if (options.workerMetrics) {
        const all = (await options.workerMetrics()) as MetricObjectWithValues<MetricValue<string>>[][];
        return reply.type(metrics.registry.contentType).send(await AggregatorRegistry.aggregate(all).metrics());
      }
      for (const [protocol, open] of options.connections?.() ?? []) if (open !== undefined) metrics.setConnections(protocol, open);
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
    // Public and cacheable for a few seconds: no cookies, no user data.
    const json = async (reply: FastifyReply, body: unknown) => reply.header('cache-control', 'public, max-age=5').header('access-control-allow-origin', '*').send(body);
    // The filter's engines: a filter failing open still delivers, so its state shows here.
    // The page is public: engine states without their error texts (those name internal addresses; they are in the log).
    const withFilter = <T extends object>(s: T) => {
      const filter = filterStatus?.();
      if (!filter) return s;
      const engines = Object.fromEntries(Object.entries(filter.engines).map(([name, e]) => [name, { ok: e.ok, since: e.since.toISOString() }]));
      return { ...s, filter: { status: filter.status, engines } };
    };
    app.get('/status.json', async (_request, reply) => json(reply, withFilter(await summary())));
    app.get('/status/api/v1/summary', async (_request, reply) => json(reply, withFilter(await summary())));
    app.get('/status/api/v1/components', async (_request, reply) => {
      const s = await summary();
      return json(reply, { updatedAt: s.updatedAt, components: s.components });
    });
    app.get('/status/api/v1/incidents', async (_request, reply) => {
      const s = await summary();
      return json(reply, { updatedAt: s.updatedAt, open: s.openIncidents, past: s.pastIncidents, maintenance: s.maintenance });
    });
    app.get('/status/feed.atom', async (request, reply) => {
      const base = `${request.protocol}://${request.host}`;
      return reply.type('application/atom+xml; charset=utf-8').header('cache-control', 'public, max-age=30').send(renderAtomFeed(await summary(), options.hostname, base));
    });
    app.get('/status', async (_request, reply) =>
      reply.type('text/html; charset=utf-8').header('cache-control', 'public, max-age=5').send(renderStatusPage(await summary(), options.hostname)),
    );
  };

  return {
    history,
    metrics,
    httpFeature,
    summary,
    components,
    snmpSnapshot,
    runOnce,
    start() {
      if (options.runProbes === false) return;
      stopped = false;
      abort = new AbortController();
      schedule(0);
    },
    async localMetrics() {
      for (const [protocol, open] of options.connections?.() ?? []) if (open !== undefined) metrics.setConnections(protocol, open);
      return metrics.registry.getMetricsAsJSON();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      abort.abort();
      await running?.catch(() => undefined);
    },
  };
}
