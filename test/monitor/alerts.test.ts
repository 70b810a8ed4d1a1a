// Status across nodes from the stored history, and alerting on a real SQLite store with a
// local HTTP server as the webhook: damping, one announcement per change across nodes,
// mail through the outbound queue, automatic incidents and their recovery update.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import { createAlerter } from '../../src/monitor/alerts.js';
import { ProbeHistory } from '../../src/monitor/history.js';
import { buildSummary, type StatusSummary } from '../../src/monitor/status.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';

let dir: string;
let store: Store;
let hook: Server;
let hookUrl: string;
const received: Array<{ component: string; status: string; previous: string | null; node: string }> = [];
const logger = createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() }));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'steadymail-alerts-'));
  store = await openStore({ driver: 'sqlite', dataDir: dir });
  hook = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      received.push(JSON.parse(text) as (typeof received)[number]);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const a = hook.address();
  assert.ok(a && typeof a === 'object');
  hookUrl = `http://127.0.0.1:${a.port}/`;
});

after(async () => {
  await store.close();
  await new Promise((r) => hook.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function summaryOf(statuses: Record<string, StatusSummary['components'][number]['status']>): StatusSummary {
  return {
    status: 'operational',
    updatedAt: new Date().toISOString(),
    complete: true,
    components: Object.entries(statuses).map(([id, status]) => ({
      id,
      name: id.toUpperCase(),
      status,
      nodes: {},
      lastProbeAt: null,
      lastLatencyMs: null,
      recentLatenciesMs: [],
      uptimePercent: null,
      uptimeDays: [],
    })),
    maintenance: [],
    openIncidents: [],
    pastIncidents: [],
  };
}

test('two nodes in the stored history: one failing is a partial outage; a node gone quiet no longer counts', async () => {
  const now = Date.now();
  const record = (node: string, ok: boolean, agoMs: number) => ({ node, component: 'imap', at: new Date(now - agoMs), ok, ms: 20, steps: 2, failedSteps: ok ? [] : ['imap:banner', 'imap:capability'] });
  await store.monitoring.recordProbes([record('a', true, 60_000), record('b', false, 60_000), record('a', true, 30_000), record('b', false, 30_000), record('old', false, 40 * 60_000)]);
  const sources = { store, history: new ProbeHistory(), components: () => ['imap' as const], intervalSeconds: 30, uptimeDays: 90 };
  const s = await buildSummary(sources);
  const imap = s.components.find((c) => c.id === 'imap');
  assert.deepEqual(imap?.nodes, { a: 'operational', b: 'major outage' });
  assert.equal(imap?.status, 'partial outage');
  assert.equal(imap?.uptimePercent, 40, '2 of 5 runs today passed');
  await store.monitoring.recordProbes([record('b', true, 0)]);
  assert.equal((await buildSummary(sources)).components.find((c) => c.id === 'imap')?.nodes.b, 'degraded performance', 'recovered, recent failure');
});

test('alerts: damped, announced once across nodes, by webhook and by mail through the queue', async () => {
  const options = { store, logger, hostname: 'mx.alerts.test', webhook: hookUrl, email: 'noc@ops.test', afterSeconds: 60, minIntervalSeconds: 300, autoIncidentMinutes: 0, leaseMs: 60_000 };
  const a = createAlerter({ ...options, node: 'a' });
  const b = createAlerter({ ...options, node: 'b' });
  const t0 = Date.UTC(2026, 10, 20, 10);
  const at = (s: number) => new Date(t0 + s * 1000);
  await a.evaluate(summaryOf({ pop3: 'operational' }), at(0));
  assert.equal(received.length, 0, 'the first status, operational, is not news');
  await a.evaluate(summaryOf({ pop3: 'major outage' }), at(30));
  assert.equal(received.length, 0, 'not held for alert_after_seconds yet');
  await a.evaluate(summaryOf({ pop3: 'operational' }), at(45));
  await a.evaluate(summaryOf({ pop3: 'major outage' }), at(50));
  await a.evaluate(summaryOf({ pop3: 'major outage' }), at(100));
  assert.equal(received.length, 0, 'flapping restarts the hold time');
  await a.evaluate(summaryOf({ pop3: 'major outage' }), at(111));
  await b.evaluate(summaryOf({ pop3: 'major outage' }), at(112));
  await a.evaluate(summaryOf({ pop3: 'major outage' }), at(140));
  assert.deepEqual(received, [{ type: 'component.status', component: 'pop3', name: 'POP3', status: 'major outage', previous: 'operational', since: at(50).toISOString(), hostname: 'mx.alerts.test', node: 'a' }]);

  // Back to operational quickly: held, but within the minimum interval of the last announcement.
  await a.evaluate(summaryOf({ pop3: 'operational' }), at(200));
  await a.evaluate(summaryOf({ pop3: 'operational' }), at(300));
  assert.equal(received.length, 1);
  await a.evaluate(summaryOf({ pop3: 'operational' }), at(420));
  assert.deepEqual(received.slice(1).map((r) => [r.status, r.previous]), [['operational', 'major outage']]);

  const mails = await store.listQueue({ state: 'queued' });
  assert.equal(mails.length, 2, 'one mail per announcement');
  assert.equal(mails[0]?.mailFrom, '', 'the null sender');
  assert.deepEqual(mails[0]?.recipients, ['noc@ops.test']);
  const chunks: Buffer[] = [];
  for await (const c of store.blobs.createReadStream(mails[0].blobId)) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString();
  assert.match(text, /^Subject: \[mx\.alerts\.test\] POP3: major outage\r$/m);
  assert.match(text, /^Auto-Submitted: auto-generated\r$/m);
});

test('automatic incidents: opened after the outage lasts, moved to monitoring when checks pass', async () => {
  const c = createAlerter({ store, logger, node: 'a', hostname: 'mx.alerts.test', webhook: null, email: null, afterSeconds: 0, minIntervalSeconds: 0, autoIncidentMinutes: 5, leaseMs: 60_000, subscribers: ['sub@customers.test'] });
  const t0 = Date.UTC(2026, 10, 21, 10);
  const at = (s: number) => new Date(t0 + s * 1000);
  await c.evaluate(summaryOf({ smtp: 'operational' }), at(0));
  await c.evaluate(summaryOf({ smtp: 'partial outage' }), at(10));
  await c.evaluate(summaryOf({ smtp: 'partial outage' }), at(200));
  assert.equal((await store.monitoring.listIncidents({ open: true })).filter((i) => i.components.includes('smtp')).length, 0, 'not yet 5 minutes');
  await c.evaluate(summaryOf({ smtp: 'partial outage' }), at(320));
  await c.evaluate(summaryOf({ smtp: 'major outage' }), at(400));
  await c.evaluate(summaryOf({ smtp: 'major outage' }), at(800));
  const open = (await store.monitoring.listIncidents({ open: true })).filter((i) => i.components.includes('smtp'));
  assert.equal(open.length, 1, 'one incident, not one per run');
  assert.equal(open[0]?.automatic, true);
  assert.equal(open[0]?.stage, 'investigating');
  assert.equal(open[0]?.impact, 'minor');
  await c.evaluate(summaryOf({ smtp: 'operational' }), at(900));
  const after = await store.monitoring.getIncident(open[0].id);
  assert.equal(after?.stage, 'monitoring');
  assert.equal(after?.resolvedAt, null, 'an operator resolves it');
  assert.match(after?.updates.at(-1)?.body ?? '', /pass again/);
  const notices = (await store.listQueue()).filter((e) => e.recipients.includes('sub@customers.test'));
  assert.equal(notices.length, 2, 'subscribers told of the opening and of the recovery');
});

test('certificates: one expiring makes the status page degraded, one expired an outage', async () => {
  let list: Array<{ names: string[]; status: 'ok' | 'expiring' | 'expired' }> = [{ names: ['mail.a.test'], status: 'ok' }];
  const sources = { store, history: new ProbeHistory(), components: () => [] as const, intervalSeconds: 30, uptimeDays: 90, certificates: () => list };
  const component = async () => {
    const s = await buildSummary(sources);
    return { overall: s.status, certificates: s.components.find((c) => c.id === 'certificates')?.status };
  };
  // (The store also holds the earlier tests' probe records: only the worst case decides the overall status here.)
  assert.equal((await component()).certificates, 'operational');
  list = [...list, { names: ['mail.b.test'], status: 'expiring' }];
  assert.equal((await component()).certificates, 'degraded performance');
  list = [...list, { names: ['mail.c.test'], status: 'expired' }];
  assert.deepEqual(await component(), { overall: 'partial outage', certificates: 'partial outage' });
});
