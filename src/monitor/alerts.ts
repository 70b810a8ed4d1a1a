// Alerts and automatic incidents, evaluated after each probe run on the status every node
// sees. In a farm one node at a time evaluates (a store lease), and the shared alert state
// makes one change one announcement.
//
// Flap damping: a new status is announced only once it has held for alertAfterSeconds,
// and a component is announced at most once per alertMinIntervalSeconds; a status that
// changes back before then is never announced. The first status ever seen is recorded
// without an announcement when it is operational (a starting server is not news).
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { ComponentStatus } from './history.js';
import { notifySubscribers } from './notify.js';
import type { StatusSummary } from './status.js';

export interface AlertOptions {
  store: Store;
  logger: Logger;
  node: string;
  hostname: string;
  webhook: string | null;
  email: string | null;
  afterSeconds: number;
  minIntervalSeconds: number;
  /** 0: never. */
  autoIncidentMinutes: number;
  /** Told by email when an incident is opened or updated automatically. */
  subscribers?: readonly string[];
  /** Evaluation lease time; a node that stops evaluating is replaced after it. */
  leaseMs: number;
  timeoutMs?: number;
  /** Webhook deliveries tried per alert (default 4): network errors and 5xx answers are retried. */
  webhookAttempts?: number;
  /** Delay before the first retry (default 2000 ms); each next one waits twice as long. */
  webhookRetryMs?: number;
}

export interface AlertEvent {
  component: string;
  name: string;
  status: ComponentStatus;
  previous: string | null;
  since: string;
  hostname: string;
  node: string;
}

const OUTAGE: ReadonlySet<ComponentStatus> = new Set(['partial outage', 'major outage']);

/** A webhook answer that retrying will not change (4xx): the request itself is refused. */
class WebhookRefused extends Error {}

async function postOnce(url: string, body: string, delivery: string, attempt: number, timeoutMs: number): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    // The same delivery id on every attempt: a receiver that saw a request whose answer we
    // never got (a timeout) can drop the repeat.
    headers: { 'content-type': 'application/json', 'user-agent': 'steadymail-monitor', 'x-steadymail-delivery': delivery, 'x-steadymail-attempt': String(attempt) },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  await res.body?.cancel();
  if (res.status >= 400 && res.status < 500) throw new WebhookRefused(`the webhook answered ${res.status}`);
  if (!res.ok) throw new Error(`the webhook answered ${res.status}`);
}

/**
 * Posts the event; network errors, timeouts and 5xx answers are retried with exponential
 * backoff up to `attempts` in all. A 2xx ends it (never posted again); a 4xx is not retried.
 */
export async function postWebhook(url: string, event: AlertEvent, o: { timeoutMs: number; attempts: number; retryMs: number; log?: { warn(obj: object, msg: string): void } }): Promise<number> {
  const body = JSON.stringify({ type: 'component.status', ...event });
  const delivery = randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      await postOnce(url, body, delivery, attempt, o.timeoutMs);
      return attempt;
    } catch (err) {
      if (err instanceof WebhookRefused || attempt >= o.attempts) throw err;
      const waitMs = o.retryMs * 2 ** (attempt - 1);
      o.log?.warn({ err, attempt, retryInMs: waitMs }, 'alert webhook failed; retrying');
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}

function headerSafe(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

export function alertMessage(event: AlertEvent, to: string, now = new Date()): Buffer {
  const subject = `[${event.hostname}] ${event.name}: ${event.status}`;
  const body = [
    `${event.name} (${event.component}) is now: ${event.status}`,
    `Previously: ${event.previous ?? 'not known'}`,
    `Since: ${event.since}`,
    `Reported by node: ${event.node}`,
    '',
    `Status page: http://${event.hostname}/status`,
    '',
  ].join('\r\n');
  const headers = [
    `From: Steadymail monitor <monitor@${headerSafe(event.hostname)}>`,
    `To: <${headerSafe(to)}>`,
    `Subject: ${headerSafe(subject)}`,
    `Date: ${now.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <monitor.${now.getTime()}.${Math.random().toString(36).slice(2)}@${headerSafe(event.hostname)}>`,
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
  ];
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}`, 'utf8');
}

export interface Alerter {
  /** Evaluates the summary; never throws. */
  evaluate(summary: StatusSummary, now?: Date): Promise<void>;
}

export function createAlerter(options: AlertOptions): Alerter {
  const { store } = options;
  const m = store.monitoring;
  const log = options.logger.child({ component: 'monitor-alerts' });
  const leaseKey = 'monitor:alerts';

  const announce = async (event: AlertEvent): Promise<void> => {
    const jobs: Array<Promise<void>> = [];
    if (options.webhook) {
      jobs.push(
        postWebhook(options.webhook, event, { timeoutMs: options.timeoutMs ?? 10_000, attempts: options.webhookAttempts ?? 4, retryMs: options.webhookRetryMs ?? 2000, log }).then(() => undefined),
      );
    }
    if (options.email) {
      const to = options.email;
      jobs.push(
        (async () => {
          const blob = await store.blobs.put(alertMessage(event, to));
          // The null sender: an automatic notice must not bounce back to anyone.
          await store.enqueueOutbound({ blobId: blob.id, size: blob.size, mailFrom: '', recipients: [to] });
        })(),
      );
    }
    const results = await Promise.allSettled(jobs);
    for (const r of results) if (r.status === 'rejected') log.warn({ err: r.reason as unknown, component: event.component }, 'alert not sent');
    log.info({ component: event.component, status: event.status, previous: event.previous }, `alert: ${event.name} is ${event.status}`);
  };

  const autoIncident = async (component: string, name: string, status: ComponentStatus, since: Date, now: Date): Promise<void> => {
    if (options.autoIncidentMinutes === 0) return;
    const open = (await m.listIncidents({ open: true, limit: 100 })).filter((i) => i.components.includes(component));
    const automatic = open.find((i) => i.automatic);
    if (OUTAGE.has(status)) {
      if (open.length > 0 || now.getTime() - since.getTime() < options.autoIncidentMinutes * 60_000) return;
      const incident = await m.openIncident({
        title: `${name}: ${status}`,
        impact: status === 'major outage' ? 'major' : 'minor',
        components: [component],
        body: `Our checks of ${name} have been failing since ${since.toISOString()}. We are investigating.`,
        author: 'monitor',
        automatic: true,
        at: now,
      });
      log.warn({ incident: incident.id, component }, 'incident opened automatically');
      await notifySubscribers(store, options.hostname, options.subscribers ?? [], incident);
    } else if (status === 'operational' && automatic && (automatic.stage === 'investigating' || automatic.stage === 'identified')) {
      const updated = await m.updateIncident(automatic.id, { stage: 'monitoring', body: `Our checks of ${name} pass again. We are monitoring.`, author: 'monitor', at: now });
      await notifySubscribers(store, options.hostname, options.subscribers ?? [], updated);
      log.info({ incident: automatic.id, component }, 'incident moved to monitoring: checks pass again');
    }
  };

  return {
    async evaluate(summary, now = new Date()) {
      if (!summary.complete) return; // the store is not readable: nothing shared to act on
      try {
        if (!(await store.acquireLease(leaseKey, options.node, options.leaseMs))) return;
        for (const c of summary.components) {
          if (c.status === 'unknown') continue;
          const state = await m.setAlertStatus(c.id, c.status, now);
          if (state.notifiedStatus === c.status) {
            await autoIncident(c.id, c.name, c.status, state.since, now);
            continue;
          }
          const quiet = state.notifiedStatus === null && c.status === 'operational';
          if (!quiet && now.getTime() - state.since.getTime() < options.afterSeconds * 1000) continue;
          // A silent first record is stamped at the epoch: it does not hold back the first real announcement.
          const claimed = quiet ? await m.claimAlertNotification(c.id, c.status, new Date(0), 0) : await m.claimAlertNotification(c.id, c.status, now, options.minIntervalSeconds * 1000);
          if (!claimed) continue;
          if (!quiet) {
            await announce({
              component: c.id,
              name: c.name,
              status: c.status,
              previous: state.notifiedStatus,
              since: state.since.toISOString(),
              hostname: options.hostname,
              node: options.node,
            });
          }
          await autoIncident(c.id, c.name, c.status, state.since, now);
        }
      } catch (err) {
        log.warn({ err }, 'alert evaluation failed');
      }
    },
  };
}
