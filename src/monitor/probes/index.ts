// One probe run: every component checked against the listeners this node actually bound,
// the components in parallel, the steps within one in order.
import type { ListenAddress, ListenerName } from '../../config/index.js';
import { probeHost } from './line-client.js';
import { probeImap, probePop3, type Credentials, type MailboxTarget } from './mailbox.js';
import { probeRoundTrip } from './round-trip.js';
import { probeSmtp } from './smtp.js';
import { StepRecorder, type ProbeResult } from './types.js';

export { COMPONENTS, COMPONENT_TITLES, type Component, type ProbeResult, type StepResult } from './types.js';

export interface ProbePlan {
  hostname: string;
  /** The listeners that should be up, with the address each bound (null: configured but not bound). */
  listeners: ReadonlyMap<ListenerName, ListenAddress | null>;
  credentials: Credentials | null;
  timeoutMs: number;
  /** Aborted when the monitor stops: an HTTP probe in flight gives up at once. */
  signal?: AbortSignal;
}

const IMPLICIT_TLS: ReadonlySet<ListenerName> = new Set(['submissions', 'pop3s', 'imaps']);

function target(plan: ProbePlan, name: ListenerName): MailboxTarget | undefined {
  if (!plan.listeners.has(name)) return undefined;
  const address = plan.listeners.get(name);
  // A listener that should be up but has no address fails at connect (port 0 is refused).
  return { name, host: probeHost(address?.host ?? '127.0.0.1'), port: address?.port ?? 0, implicitTls: IMPLICIT_TLS.has(name) };
}

function targets(plan: ProbePlan, names: ListenerName[]): MailboxTarget[] {
  return names.map((n) => target(plan, n)).filter((t): t is MailboxTarget => t !== undefined);
}

async function smtpComponent(plan: ProbePlan, component: 'smtp' | 'submission', names: ListenerName[]): Promise<ProbeResult | undefined> {
  const list = targets(plan, names);
  if (list.length === 0) return undefined;
  const recorder = new StepRecorder();
  const certificateDaysLeft: Record<string, number> = {};
  for (const t of list) {
    const credentials = component === 'submission' ? plan.credentials : null;
    const days = await probeSmtp(t, recorder, { hostname: plan.hostname, timeoutMs: plan.timeoutMs, credentials });
    if (days !== undefined) certificateDaysLeft[t.name] = days;
  }
  return recorder.result(component, { certificateDaysLeft });
}

async function mailboxComponent(plan: ProbePlan, component: 'pop3' | 'imap', names: ListenerName[]): Promise<ProbeResult | undefined> {
  const list = targets(plan, names);
  if (list.length === 0) return undefined;
  const recorder = new StepRecorder();
  const probe = component === 'pop3' ? probePop3 : probeImap;
  for (const t of list) await probe(t, recorder, { timeoutMs: plan.timeoutMs, credentials: plan.credentials });
  return recorder.result(component);
}

async function httpComponent(plan: ProbePlan): Promise<ProbeResult | undefined> {
  const t = target(plan, 'http');
  if (!t) return undefined;
  const recorder = new StepRecorder();
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  await recorder.attempt(() =>
    recorder.step('http:healthz', async () => {
      const res = await fetch(`http://${host}:${t.port}/healthz`, { signal: plan.signal ? AbortSignal.any([plan.signal, AbortSignal.timeout(plan.timeoutMs)]) : AbortSignal.timeout(plan.timeoutMs) });
      await res.body?.cancel();
      if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`);
    }),
  );
  return recorder.result('http');
}

async function deliveryComponent(plan: ProbePlan): Promise<ProbeResult | undefined> {
  const credentials = plan.credentials;
  if (!credentials) return undefined;
  const submission = target(plan, 'submission') ?? target(plan, 'submissions');
  const imap = target(plan, 'imap') ?? target(plan, 'imaps');
  const pop3 = target(plan, 'pop3') ?? target(plan, 'pop3s');
  if (!submission || !imap || !pop3) return undefined;
  const recorder = new StepRecorder();
  await probeRoundTrip({ submission, imap, pop3 }, recorder, { credentials, timeoutMs: plan.timeoutMs, hostname: plan.hostname });
  return recorder.result('delivery');
}

export async function runProbes(plan: ProbePlan): Promise<ProbeResult[]> {
  const results = await Promise.all([
    smtpComponent(plan, 'smtp', ['smtp']),
    smtpComponent(plan, 'submission', ['submission', 'submissions']),
    mailboxComponent(plan, 'pop3', ['pop3', 'pop3s']),
    mailboxComponent(plan, 'imap', ['imap', 'imaps']),
    httpComponent(plan),
    deliveryComponent(plan),
  ]);
  return results.filter((r): r is ProbeResult => r !== undefined);
}
