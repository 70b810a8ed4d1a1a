// Prometheus metrics on an own Registry (never prom-client's global one, so two servers in
// one process — tests — do not collide). Store figures are read when scraped; probe
// figures are set after each probe run.
//
// With several worker processes, /metrics answers with every worker's figures merged
// (src/workers.ts gathers them; prom-client's AggregatorRegistry merges): per-process
// counts (connections, messages, memory) are summed; figures every worker reads from the
// shared store are taken once (`aggregator: 'max'`, or 'min' for "up" gauges).
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ListenerName } from '../config/index.js';
import type { Store, StoreStats } from '../store/store.js';
import type { QueueState } from '../store/types.js';
import type { MessageCounters, MessageCounts } from './counters.js';
import type { ProbeResult } from './probes/index.js';
import type { SessionCounters } from '../sessions/recorder.js';

const QUEUE_STATES: QueueState[] = ['queued', 'delivered', 'failed'];
/** listQueue() returns entries, not a count; this bounds what one scrape reads. */
const QUEUE_SCAN_LIMIT = 100_000;

export interface MonitorMetrics {
  registry: Registry;
  recordProbe(result: ProbeResult): void;
  setConnections(protocol: ListenerName, open: number): void;
}

/** The protocols with a steadymail_<protocol>_commands_total family. */
const COMMAND_FAMILIES = ['imap', 'pop3', 'smtp', 'managesieve'] as const;
const FAMILY_NAMES: Record<(typeof COMMAND_FAMILIES)[number], string> = { imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP', managesieve: 'ManageSieve' };

/**
 * Per-protocol session figures of this process (src/sessions), read at scrape time. They
 * are Counters, so across workers they are summed. Label values are bounded: command
 * names come from a fixed list per protocol ("other" for the rest).
 */
function registerSessionCounters(registry: Registry, c: SessionCounters): void {
  for (const protocol of COMMAND_FAMILIES) {
    new Counter({
      name: `steadymail_${protocol}_commands_total`,
      help: `${FAMILY_NAMES[protocol]} commands received, by command ("other": not a known command)`,
      labelNames: ['command'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [command, n] of c.commands.get(protocol) ?? []) this.inc({ command }, n);
      },
    });
  }
  new Counter({
    name: 'steadymail_command_errors_total',
    help: 'Error replies per protocol: IMAP NO/BAD, POP3 -ERR, SMTP 4xx/5xx, ManageSieve NO/BYE, webmail sign-in refused (4xx)',
    labelNames: ['protocol', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [protocol, kinds] of c.errors) for (const [kind, n] of kinds) this.inc({ protocol, kind }, n);
    },
  });
  new Counter({
    name: 'steadymail_auth_failures_total',
    help: 'Failed logins per protocol (wrong password, unknown account, disabled, throttled)',
    labelNames: ['protocol'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [protocol, n] of c.authFailures) this.inc({ protocol }, n);
    },
  });
  new Counter({
    name: 'steadymail_sessions_total',
    help: 'Sessions ended, per protocol and how they ended (quit, timeout, error, dropped, shutdown, killed)',
    labelNames: ['protocol', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [protocol, reasons] of c.ended) for (const [reason, n] of reasons) this.inc({ protocol, reason }, n);
    },
  });
}

export function createMetrics(store: Store, counters?: MessageCounters, sessionCounters?: SessionCounters): MonitorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'steadymail_' });

  // prom-client collects every metric in parallel: all store gauges share one read per scrape.
  let pending: Promise<{ up: boolean; pingSeconds: number; stats: StoreStats | null }> | undefined;
  const readStore = () =>
    (pending ??= (async () => {
      const started = performance.now();
      try {
        await store.ping();
        const pingSeconds = (performance.now() - started) / 1000;
        return { up: true, pingSeconds, stats: await store.stats() };
      } catch {
        return { up: false, pingSeconds: (performance.now() - started) / 1000, stats: null };
      }
    })().finally(() => {
      pending = undefined;
    }));
  const storeGauge = (name: string, help: string, value: (s: Awaited<ReturnType<typeof readStore>>) => number | null) =>
    new Gauge({
      name: `steadymail_store_${name}`,
      help,
      registers: [registry],
      aggregator: name === 'up' ? 'min' : 'max',
      async collect() {
        const v = value(await readStore());
        if (v === null) this.reset();
        else this.set(v);
      },
    });
  storeGauge('up', '1 when the store answered its ping at scrape time', (s) => (s.up ? 1 : 0));
  storeGauge('ping_seconds', 'Time the store took to answer its ping at scrape time', (s) => s.pingSeconds);
  storeGauge('domains', 'Hosted domains', (s) => s.stats?.domains ?? null);
  storeGauge('accounts', 'Accounts', (s) => s.stats?.accounts ?? null);
  storeGauge('messages', 'Stored messages', (s) => s.stats?.messages ?? null);
  storeGauge('bytes', 'Bytes of stored messages', (s) => s.stats?.bytes ?? null);

  new Gauge({
    name: 'steadymail_queue_entries',
    help: 'Outbound queue entries by state',
    aggregator: 'max',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      for (const state of QUEUE_STATES) {
        try {
          this.set({ state }, (await store.listQueue({ state, limit: QUEUE_SCAN_LIMIT })).length);
        } catch {
          // store_up says why
        }
      }
    },
  });

  new Gauge({
    name: 'steadymail_queue_oldest_age_seconds',
    aggregator: 'max',
    help: 'Age of the oldest entry still queued for delivery (0: none)',
    registers: [registry],
    async collect() {
      try {
        const queued = await store.listQueue({ state: 'queued', limit: QUEUE_SCAN_LIMIT });
        const oldest = queued.reduce((min, e) => Math.min(min, e.createdAt.getTime()), Date.now());
        this.set((Date.now() - oldest) / 1000);
      } catch {
        this.reset();
      }
    },
  });

  if (counters) {
    const o = counters.outbound;
    registry.registerMetric(o.deliveries);
    registry.registerMetric(o.latency);
    registry.registerMetric(o.mtaStsFailures);
    registry.registerMetric(o.connections);
    const counter = (name: string, help: string, value: (c: MessageCounts) => number, labels?: Record<string, string>) => ({ name, help, value, labels });
    const families: Array<{ name: string; help: string; series: Array<ReturnType<typeof counter>> }> = [
      {
        name: 'steadymail_messages_received_total',
        help: 'Messages accepted by this process: delivered to local mailboxes or queued for remote recipients',
        series: [counter('', '', (c) => c.received)],
      },
      { name: 'steadymail_messages_received_bytes_total', help: 'Bytes of the messages accepted', series: [counter('', '', (c) => c.receivedBytes)] },
      {
        name: 'steadymail_messages_delivered_total',
        help: 'Deliveries: to local mailboxes (one per mailbox) and to remote hosts (one per queue entry)',
        series: [counter('', '', (c) => c.deliveredLocal, { destination: 'local' }), counter('', '', (c) => c.transmitted, { destination: 'remote' })],
      },
      {
        name: 'steadymail_messages_rejected_total',
        help: 'Deliveries refused: local (over quota, mailbox gone) and remote (failed for good)',
        series: [counter('', '', (c) => c.rejectedLocal, { destination: 'local' }), counter('', '', (c) => c.failed, { destination: 'remote' })],
      },
      { name: 'steadymail_messages_transmitted_bytes_total', help: 'Bytes of the messages delivered to remote hosts', series: [counter('', '', (c) => c.transmittedBytes)] },
      { name: 'steadymail_queue_entries_created_total', help: 'Outbound queue entries created (one per recipient domain)', series: [counter('', '', (c) => c.queued)] },
      { name: 'steadymail_queue_deferrals_total', help: 'Remote delivery attempts that failed temporarily', series: [counter('', '', (c) => c.deferred)] },
    ];
    for (const family of families) {
      const labelNames = Object.keys(family.series[0]?.labels ?? {});
      new Counter({
        name: family.name,
        help: family.help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          for (const s of family.series) {
            const v = s.value(counters.counts);
            if (s.labels) this.inc(s.labels, v);
            else this.inc(v);
          }
        },
      });
    }
  }

  if (sessionCounters) registerSessionCounters(registry, sessionCounters);

  const connections = new Gauge({ name: 'steadymail_connections', help: 'Open client connections per listener', labelNames: ['protocol'], registers: [registry] });
  const probeUp = new Gauge({ name: 'steadymail_probe_success', help: '1 when the last probe of the component passed', labelNames: ['component'], registers: [registry] });
  const probeSeconds = new Gauge({ name: 'steadymail_probe_duration_seconds', help: 'Duration of the last probe of the component', labelNames: ['component'], registers: [registry] });
  const stepUp = new Gauge({ name: 'steadymail_probe_step_success', help: '1 when the step passed in the last probe', labelNames: ['component', 'step'], registers: [registry] });
  const stepSeconds = new Gauge({ name: 'steadymail_probe_step_duration_seconds', help: 'Duration of the step in the last probe', labelNames: ['component', 'step'], registers: [registry] });
  const probeRuns = new Counter({ name: 'steadymail_probe_runs_total', help: 'Probe runs by component and result', labelNames: ['component', 'result'], registers: [registry] });
  const certDays = new Gauge({ name: 'steadymail_tls_certificate_days_left', help: 'Days until the certificate a listener presents expires', labelNames: ['listener'], registers: [registry] });
  const lastRun = new Gauge({ name: 'steadymail_probe_last_run_timestamp_seconds', help: 'When the component was last probed', labelNames: ['component'], registers: [registry] });

  return {
    registry,
    recordProbe(result) {
      const component = result.component;
      probeUp.set({ component }, result.ok ? 1 : 0);
      probeSeconds.set({ component }, result.ms / 1000);
      probeRuns.inc({ component, result: result.ok ? 'success' : 'failure' });
      lastRun.set({ component }, result.at.getTime() / 1000);
      for (const step of result.steps) {
        stepUp.set({ component, step: step.name }, step.ok ? 1 : 0);
        stepSeconds.set({ component, step: step.name }, step.ms / 1000);
      }
      for (const [listener, days] of Object.entries(result.certificateDaysLeft ?? {})) certDays.set({ listener }, days);
    },
    setConnections(protocol, open) {
      connections.set({ protocol }, open);
    },
  };
}
