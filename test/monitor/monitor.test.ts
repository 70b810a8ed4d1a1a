// The monitor against a real server: every listener on 127.0.0.1:0, a probe account in
// the store, probes speaking the real protocols. Then listeners and the store are taken
// away and the probes, /readyz, /metrics and the status page must show it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { hashPassword } from '../../src/auth/password.js';
import { loadConfig, type ListenAddress, type ListenerName } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { LISTENERS, startServer, type Listener, type ListenerFactory, type ServerHandle } from '../../src/server.js';
import { openStore } from '../../src/store/open.js';

const ACCOUNT = 'probe@monitor.test';
const PASSWORD = 'probe-secret';
let dataDir: string;
let server: ServerHandle;
const real = new Map<ListenerName, Listener>();

function quietLogger() {
  return createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() }));
}

/** LISTENERS, keeping each listener so a test can stop one behind the server's back. */
function capturing(): Partial<Record<ListenerName, ListenerFactory>> {
  return Object.fromEntries(
    Object.entries(LISTENERS).map(([name, factory]) => [
      name,
      (context: Parameters<ListenerFactory>[0], address: ListenAddress) => {
        const listener = factory(context, address);
        real.set(name as ListenerName, listener);
        return listener;
      },
    ]),
  );
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'steadymail-monitor-'));
  const store = await openStore({ driver: 'sqlite', dataDir });
  await store.createDomain('monitor.test');
  await store.createAccount({ address: ACCOUNT, passwordHash: await hashPassword(PASSWORD) });
  await store.close();
  const listen = Object.fromEntries(
    ['SMTP', 'SUBMISSION', 'SUBMISSIONS', 'POP3', 'POP3S', 'IMAP', 'IMAPS', 'HTTP', 'MANAGESIEVE'].map((n) => [`STEADYMAIL_LISTEN_${n}`, '127.0.0.1:0']),
  );
  const config = loadConfig({
    cwd: dataDir,
    env: {
      ...listen,
      STEADYMAIL_LISTEN_SNMP: 'off',
      STEADYMAIL_DATA_DIR: dataDir,
      STEADYMAIL_HOSTNAME: 'mx.monitor.test',
      STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '1',
      STEADYMAIL_MONITOR_PROBE_INTERVAL_SECONDS: '3600',
      STEADYMAIL_MONITOR_PROBE_ACCOUNT: ACCOUNT,
      STEADYMAIL_MONITOR_PROBE_PASSWORD: PASSWORD,
    },
  });
  server = await startServer({ config, logger: quietLogger(), listeners: capturing() });
});

after(async () => {
  await server?.close().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

function url(path: string): string {
  return `http://127.0.0.1:${server.addresses.get('http')?.port ?? 0}${path}`;
}

test('the scheduler runs the probes by itself once the server is up', async () => {
  const monitor = server.monitor;
  assert.ok(monitor);
  const deadline = Date.now() + 10_000;
  while (monitor.history.latest('delivery') === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(monitor.history.latest('smtp'), 'a run started with the server');
  assert.ok(monitor.history.latest('delivery'));
});

test('every component passes, including the round trip, and the message is gone afterwards', async () => {
  const monitor = server.monitor;
  assert.ok(monitor);
  const results = await monitor.runOnce();
  const byComponent = new Map(results.map((r) => [r.component, r]));
  assert.deepEqual([...byComponent.keys()].sort(), ['delivery', 'http', 'imap', 'pop3', 'smtp', 'store', 'submission']);
  for (const r of results) assert.ok(r.ok, `${r.component}: ${JSON.stringify(r.steps.filter((s) => !s.ok))}`);
  const delivery = byComponent.get('delivery');
  assert.deepEqual(delivery?.steps.map((s) => s.name), ['submit', 'imap-arrival', 'pop3-collect']);
  assert.ok(byComponent.get('pop3')?.steps.some((s) => s.name === 'pop3s:login'));
  assert.ok(byComponent.get('imap')?.steps.some((s) => s.name === 'imap:starttls'));
  assert.deepEqual(
    byComponent.get('submission')?.steps.map((s) => s.name),
    ['submission:banner', 'submission:ehlo', 'submission:starttls', 'submission:auth', 'submissions:banner', 'submissions:ehlo', 'submissions:auth'],
  );
  assert.ok((byComponent.get('smtp')?.certificateDaysLeft?.smtp ?? 0) > 0);
  assert.equal(monitor.history.status('delivery'), 'operational');

  const account = await server.store.getAccount(ACCOUNT);
  assert.ok(account);
  const inbox = await server.store.getMailbox(account.id, 'INBOX');
  assert.equal(inbox?.messages, 0, 'the probe deleted its message');
});

test('/metrics exposes store, queue, connection and probe figures', async () => {
  const res = await fetch(url('/metrics'));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const text = await res.text();
  assert.match(text, /^steadymail_store_up 1$/m);
  assert.match(text, /^steadymail_store_accounts 1$/m);
  assert.match(text, /^steadymail_store_domains 1$/m);
  assert.match(text, /^steadymail_queue_entries\{state="queued"\} 0$/m);
  assert.match(text, /^steadymail_queue_oldest_age_seconds 0$/m);
  assert.match(text, /^steadymail_probe_success\{component="delivery"\} 1$/m);
  assert.match(text, /^steadymail_probe_step_duration_seconds\{component="delivery",step="imap-arrival"\} [0-9.e-]+$/m);
  assert.match(text, /^steadymail_connections\{protocol="imap"\} \d+$/m);
  assert.match(text, /^steadymail_tls_certificate_days_left\{listener="submissions"\} \d+$/m);
  assert.match(text, /^steadymail_process_cpu_user_seconds_total /m);
  // The round trip delivered its message into the probe account's INBOX.
  const delivered = Number(/^steadymail_messages_delivered_total\{destination="local"\} (\d+)$/m.exec(text)?.[1]);
  assert.ok(delivered >= 1, `local deliveries counted: ${delivered}`);
  assert.match(text, /^steadymail_messages_received_total \d+$/m);
  assert.match(text, /^steadymail_messages_delivered_total\{destination="remote"\} 0$/m);
});

test('/status and /status.json show every component as operational', async () => {
  const json = (await (await fetch(url('/status.json'))).json()) as { status: string; components: Array<{ id: string; status: string; lastLatencyMs: number }> };
  assert.equal(json.status, 'operational');
  // The six probed components, the store, and the certificates served.
  assert.equal(json.components.length, 8);
  assert.ok(json.components.some((c) => c.id === 'certificates'));
  for (const c of json.components) assert.equal(c.status, 'operational', c.id);
  const page = await fetch(url('/status'));
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  const html = await page.text();
  assert.match(html, /All systems operational/);
  assert.match(html, /End-to-end delivery/);
  assert.doesNotMatch(html, /<script/i);
});

test('/readyz is 200 while everything is up', async () => {
  const res = await fetch(url('/readyz'));
  assert.equal(res.status, 200);
  const body = (await res.json()) as { ready: boolean; store: string; listeners: Record<string, string> };
  assert.equal(body.ready, true);
  assert.equal(body.listeners.pop3s, 'up');
});

test('a stopped listener: /readyz 503 and the probe marks the component down', async () => {
  await real.get('pop3s')?.stop(0);
  const ready = await fetch(url('/readyz'));
  assert.equal(ready.status, 503);
  const body = (await ready.json()) as { ready: boolean; listeners: Record<string, string> };
  assert.equal(body.listeners.pop3s, 'down');
  assert.equal(body.listeners.pop3, 'up');

  const monitor = server.monitor;
  assert.ok(monitor);
  const pop3 = (await monitor.runOnce()).find((r) => r.component === 'pop3');
  assert.equal(pop3?.ok, false);
  assert.equal(pop3?.steps.find((s) => s.name === 'pop3s:banner')?.ok, false);
  assert.equal(monitor.history.status('pop3'), 'partial outage', 'pop3 still answers, pop3s does not');

  await real.get('pop3')?.stop(0);
  await monitor.runOnce();
  await monitor.runOnce();
  assert.equal(monitor.history.status('pop3'), 'major outage');
  assert.equal(monitor.history.status('delivery'), 'partial outage', 'submit and IMAP still pass');
  const metrics = await (await fetch(url('/metrics'))).text();
  assert.match(metrics, /^steadymail_probe_success\{component="pop3"\} 0$/m);
  const status = (await (await fetch(url('/status.json'))).json()) as { status: string };
  assert.equal(status.status, 'major outage');
});

test('a closed store: /readyz 503, and the status page (from the memory of this node) shows the store down', async () => {
  await server.store.close();
  const res = await fetch(url('/readyz'));
  assert.equal(res.status, 503);
  assert.equal(((await res.json()) as { store: string }).store, 'unavailable');
  const monitor = server.monitor;
  assert.ok(monitor);
  await monitor.runOnce();
  await monitor.runOnce();
  const status = (await (await fetch(url('/status.json'))).json()) as { complete: boolean; components: Array<{ id: string; status: string }> };
  assert.equal(status.complete, false);
  assert.equal(status.components.find((c) => c.id === 'store')?.status, 'major outage');
  assert.equal(status.components.find((c) => c.id === 'smtp')?.status, 'operational', 'SMTP greets without the store');
  const html = await (await fetch(url('/status'))).text();
  assert.match(html, /Mail storage<\/th>\s*<td class="status">major outage/);
  assert.match(html, /from this server only/);
});
