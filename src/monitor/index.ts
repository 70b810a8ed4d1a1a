// Self-monitoring: probes against this node's own listeners on a schedule, their history
// and derived component status, /readyz, /metrics and the public status page.
//
// Rules: a probe run never throws (every failure is a recorded step); runs never overlap;
// stop() waits for the run in flight so no socket outlives the server.
import type { ListenAddress, ListenerName } from '../config/index.js';
import type { HttpFeature } from '../http/app.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { FilterStatus } from '../filter/index.js';
import { Gauge } from 'prom-client';
import { ProbeHistory } from './history.js';
import { createMetrics, type MonitorMetrics } from './metrics.js';
import { runProbes, type Component, type ProbePlan, type ProbeResult } from './probes/index.js';
import { checkReadiness } from './readiness.js';
import { renderStatusPage, summarize } from './status-page.js';

export { deriveStatus, ProbeHistory, type ComponentStatus } from './history.js';
export type { ProbeResult } from './probes/index.js';

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
}

export interface Monitor {
  readonly history: ProbeHistory;
  readonly metrics: MonitorMetrics;
  /** Registers /readyz, /metrics, /status and /status.json. */
  readonly httpFeature: HttpFeature;
  /** Runs the probes now (the scheduler's run when one is in flight). */
  runOnce(): Promise<ProbeResult[]>;
  /** The first run starts at once, then every interval. */
  start(): void;
  stop(): Promise<void>;
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
  return list;
}

export function createMonitor(options: MonitorOptions): Monitor {
  const { store, logger } = options;
  const history = new ProbeHistory(options.historySize ?? 100);
  const metrics = createMetrics(store);
  const filterStatus = options.filterStatus;
  if (filterStatus) {
    new Gauge({
      name: 'steadymail_filter_engine_up',
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

  const plan = (): ProbePlan => ({
    hostname: options.hostname,
    listeners: options.listeners(),
    credentials: options.credentials,
    timeoutMs: options.timeoutMs ?? 10_000,
    signal: abort.signal,
  });

  const run = async (): Promise<ProbeResult[]> => {
    const results = await runProbes(plan());
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
      for (const [protocol, open] of options.connections?.() ?? []) if (open !== undefined) metrics.setConnections(protocol, open);
      const body = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(body);
    });
    const summary = () => summarize(history, expectedComponents(options.listeners(), options.credentials !== null));
    // The filter's engines: a filter failing open still delivers, so its state shows here.
    // The page is public: engine states without their error texts (those name internal addresses; they are in the log).
    app.get('/status.json', () => {
      const filter = filterStatus?.();
      if (!filter) return summary();
      const engines = Object.fromEntries(Object.entries(filter.engines).map(([name, e]) => [name, { ok: e.ok, since: e.since.toISOString() }]));
      return { ...summary(), filter: { status: filter.status, engines } };
    });
    app.get('/status', async (_request, reply) => reply.type('text/html; charset=utf-8').send(renderStatusPage(summary(), options.hostname)));
  };

  return {
    history,
    metrics,
    httpFeature,
    runOnce,
    start() {
      stopped = false;
      abort = new AbortController();
      schedule(0);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      abort.abort();
      await running?.catch(() => undefined);
    },
  };
}
