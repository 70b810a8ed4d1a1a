// The status page against a real server: incidents and maintenance created with the
// command line (a separate store handle, as an operator's shell would be) appear on
// /status, its JSON API and the Atom feed (parsed by Python's XML parser); the probe
// history is stored and gives uptime; a stopped listener reaches the alert webhook.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { hashPassword } from '../../src/auth/password.js';
import { runCli } from '../../src/cli/program.js';
import { loadConfig, type ListenAddress, type ListenerName } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { LISTENERS, startServer, type Listener, type ListenerFactory, type ServerHandle } from '../../src/server.js';
import { openStore } from '../../src/store/open.js';

const ACCOUNT = 'probe@status.test';
const PASSWORD = 'probe-secret';
let dataDir: string;
let server: ServerHandle;
let hook: Server;
const received: Array<Record<string, unknown>> = [];
const real = new Map<ListenerName, Listener>();
let serverContext: Parameters<ListenerFactory>[0] | undefined;
const extra: Listener[] = [];

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'steadymail-status-'));
  hook = createServer((req, res) => {
    void body(req).then((text) => {
      received.push({ ...(JSON.parse(text) as Record<string, unknown>), method: req.method, contentType: req.headers['content-type'] });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const hookAddress = hook.address();
  assert.ok(hookAddress && typeof hookAddress === 'object');

  const store = await openStore({ driver: 'sqlite', dataDir });
  await store.createDomain('status.test');
  await store.createAccount({ address: ACCOUNT, passwordHash: await hashPassword(PASSWORD) });
  await store.close();
  const listen = Object.fromEntries(['SMTP', 'SUBMISSION', 'POP3', 'IMAP', 'HTTP'].map((n) => [`STEADYMAIL_LISTEN_${n}`, '127.0.0.1:0']));
  const config = loadConfig({
    cwd: dataDir,
    env: {
      ...listen,
      STEADYMAIL_LISTEN_SUBMISSIONS: 'off',
      STEADYMAIL_LISTEN_MANAGESIEVE: 'off',
      STEADYMAIL_LISTEN_POP3S: 'off',
      STEADYMAIL_LISTEN_IMAPS: 'off',
      STEADYMAIL_LISTEN_SNMP: 'off',
      STEADYMAIL_DATA_DIR: dataDir,
      STEADYMAIL_HOSTNAME: 'mx.status.test',
      STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '1',
      STEADYMAIL_MONITOR_PROBE_INTERVAL_SECONDS: '3600',
      STEADYMAIL_MONITOR_PROBE_ACCOUNT: ACCOUNT,
      STEADYMAIL_MONITOR_PROBE_PASSWORD: PASSWORD,
      STEADYMAIL_MONITOR_NODE_NAME: 'node-a',
      STEADYMAIL_MONITOR_ALERT_WEBHOOK: `http://127.0.0.1:${hookAddress.port}/hook`,
      STEADYMAIL_MONITOR_ALERT_AFTER_SECONDS: '0',
      STEADYMAIL_MONITOR_ALERT_MIN_INTERVAL_SECONDS: '0',
      STEADYMAIL_MONITOR_AUTO_INCIDENT_MINUTES: '0',
    },
  });
  const listeners = Object.fromEntries(
    Object.entries(LISTENERS).map(([name, factory]) => [
      name,
      (context: Parameters<ListenerFactory>[0], address: ListenAddress) => {
        serverContext = context;
        const listener = factory(context, address);
        real.set(name as ListenerName, listener);
        return listener;
      },
    ]),
  );
  server = await startServer({ config, logger: createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() })), listeners });
});

after(async () => {
  for (const l of extra) await l.stop(0);
  await server?.close().catch(() => undefined);
  await new Promise((r) => hook?.close(r));
  rmSync(dataDir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['node', 'steadymail', ...args], {
    stdin: Readable.from(['']),
    env: { STEADYMAIL_DATA_DIR: dataDir, STEADYMAIL_HOSTNAME: 'mx.status.test', STEADYMAIL_MONITOR_SUBSCRIBERS: 'alice@customer.test,bob@other.test' },
    out: (line) => (out += `${line}\n`),
    write: (text) => (out += text),
    error: (text) => (err += text),
  });
  return { code, out, err };
}

function url(path: string): string {
  return `http://127.0.0.1:${server.addresses.get('http')?.port ?? 0}${path}`;
}

interface Summary {
  status: string;
  complete: boolean;
  components: Array<{ id: string; status: string; nodes: Record<string, string>; uptimePercent: number | null; uptimeDays: Array<{ date: string; runs: number }> }>;
  openIncidents: Array<{ id: number; title: string; stage: string; issues: Array<{ title: string; state: string }>; updates: Array<{ at: string; stage: string; body: string }> }>;
  pastIncidents: Array<{ id: number; stage: string }>;
  maintenance: Array<{ id: number; title: string; active: boolean }>;
}

async function summary(): Promise<Summary> {
  const res = await fetch(url('/status/api/v1/summary'));
  assert.equal(res.status, 200);
  return (await res.json()) as Summary;
}

test('probe results are stored per node and give uptime and status', async () => {
  const monitor = server.monitor;
  assert.ok(monitor);
  await monitor.runOnce();
  await monitor.runOnce();
  const stored = await server.store.monitoring.recentProbes({ since: new Date(Date.now() - 60_000), component: 'delivery' });
  assert.ok(stored.length >= 2);
  assert.ok(stored.every((r) => r.node === 'node-a' && r.ok));
  const s = await summary();
  assert.equal(s.complete, true);
  assert.equal(s.status, 'operational');
  const imap = s.components.find((c) => c.id === 'imap');
  assert.deepEqual(imap?.nodes, { 'node-a': 'operational' });
  assert.equal(imap?.uptimePercent, 100);
  assert.equal(imap?.uptimeDays.length, 90);
  assert.ok((imap?.uptimeDays.at(-1)?.runs ?? 0) >= 2);
  assert.equal(imap?.uptimeDays.at(-1)?.date, new Date().toISOString().slice(0, 10));
});

test('an incident through the command line: on /status, in the API and the Atom feed, then resolved', async () => {
  const opened = await cli([
    'incident',
    'open',
    'POP3 logins fail for some customers',
    '--impact',
    'major',
    '--component',
    'pop3',
    '--issue',
    'POP3 errors in Outlook',
    '-m',
    'We are investigating reports of failed POP3 logins.',
  ]);
  assert.equal(opened.code, 0, opened.err);
  const id = Number(/opened incident (\d+)/.exec(opened.out)?.[1]);
  assert.ok(id > 0);
  assert.match(opened.out, /^queued a notice to 2 subscriber\(s\)$/m);
  // One message, one queue entry per recipient domain, from the null sender; nobody named in the headers.
  const notices = (await server.store.listQueue()).filter((e) => e.mailFrom === '');
  assert.deepEqual(notices.map((e) => e.recipients).sort(), [['alice@customer.test'], ['bob@other.test']]);
  const chunks: Buffer[] = [];
  for await (const c of server.store.blobs.createReadStream(notices[0]!.blobId)) chunks.push(c as Buffer);
  const notice = Buffer.concat(chunks).toString();
  assert.match(notice, /^To: undisclosed-recipients:;\r$/m);
  assert.match(notice, /^Subject: \[mx\.status\.test status\] POP3 logins fail for some customers - investigating\r$/m);
  assert.match(notice, /We are investigating reports of failed POP3 logins\./);
  assert.doesNotMatch(notice, /alice@customer\.test/);
  const updated = await cli(['incident', 'update', String(id), '--stage', 'identified', '--issue', 'POP3 errors in Outlook=resolved', '-m', 'An expired certificate <on> one node.']);
  assert.equal(updated.code, 0, updated.err);
  assert.equal((await cli(['incident', 'update', String(id), '--stage', 'bogus', '-m', 'x'])).code, 64);
  assert.equal((await cli(['incident', 'update', '999', '-m', 'x'])).code, 67);
  assert.match((await cli(['incident', 'list', '--open'])).out, new RegExp(`^${id}\\tidentified\\tmajor\\tpop3\\t`, 'm'));

  await server.monitor?.summary(true);
  const s = await summary();
  const incident = s.openIncidents.find((i) => i.id === id);
  assert.equal(incident?.stage, 'identified');
  assert.deepEqual(incident?.issues, [{ title: 'POP3 errors in Outlook', state: 'resolved' }]);
  assert.deepEqual(incident?.updates.map((u) => u.stage), ['identified', 'investigating'], 'newest first');

  const html = await (await fetch(url('/status'))).text();
  assert.match(html, /<section id="open-incidents"><h2>Current incidents<\/h2>/);
  assert.match(html, /POP3 logins fail for some customers <span class="stage identified">identified/);
  assert.match(html, /An expired certificate &#60;on&#62; one node\./);
  assert.match(html, /POP3 errors in Outlook — <span class="stage resolved">resolved/);
  assert.match(html, /<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">/);

  const feed = await fetch(url('/status/feed.atom'));
  assert.match(feed.headers.get('content-type') ?? '', /application\/atom\+xml/);
  const xml = await feed.text();
  // A real XML parser must accept it and find the Atom structure.
  const parsed = execFileSync(
    'python3',
    [
      '-c',
      `import sys, xml.etree.ElementTree as ET
ns = {'a': 'http://www.w3.org/2005/Atom'}
root = ET.fromstring(sys.stdin.buffer.read())
assert root.tag == '{http://www.w3.org/2005/Atom}feed'
for req in ('a:id', 'a:title', 'a:updated'):
    assert root.find(req, ns) is not None, req
for e in root.findall('a:entry', ns):
    print(e.find('a:id', ns).text, e.find('a:title', ns).text, e.find('a:updated', ns).text, sep='|')`,
    ],
    { input: xml },
  ).toString();
  assert.match(parsed, new RegExp(`^tag:mx\\.status\\.test,\\d{4}-\\d\\d-\\d\\d:incident/${id}\\|POP3 logins fail for some customers \\[identified\\]\\|`, 'm'));

  const resolved = await cli(['incident', 'resolve', String(id), '--no-notify']);
  assert.equal(resolved.code, 0);
  assert.doesNotMatch(resolved.out, /subscriber/);
  await server.monitor?.summary(true);
  const after = await summary();
  assert.equal(after.openIncidents.length, 0);
  assert.equal(after.pastIncidents.find((i) => i.id === id)?.stage, 'resolved');
  const shown = await cli(['incident', 'show', String(id)]);
  assert.match(shown.out, /known issue: POP3 errors in Outlook — resolved/);
  assert.match(shown.out, /resolved \(cli:[^)]+\): This incident has been resolved\./);
});

test('a maintenance window puts its component under maintenance, and cancelling ends it', async () => {
  const start = new Date(Date.now() - 60_000).toISOString();
  const end = new Date(Date.now() + 3600_000).toISOString();
  const scheduled = await cli(['maintenance', 'schedule', 'IMAP upgrade', '--start', start, '--end', end, '--component', 'imap', '-m', 'Short interruptions.']);
  assert.equal(scheduled.code, 0, scheduled.err);
  const id = Number(/scheduled maintenance (\d+)/.exec(scheduled.out)?.[1]);
  assert.equal((await cli(['maintenance', 'schedule', 'x', '--start', end, '--end', start])).code, 65);
  assert.equal((await cli(['maintenance', 'schedule', 'x', '--start', 'soon', '--end', end])).code, 64);
  await server.monitor?.summary(true);
  const s = await summary();
  assert.equal(s.components.find((c) => c.id === 'imap')?.status, 'under maintenance');
  assert.equal(s.components.find((c) => c.id === 'pop3')?.status, 'operational');
  assert.deepEqual(s.maintenance.map((m) => [m.id, m.title, m.active]), [[id, 'IMAP upgrade', true]]);
  const html = await (await fetch(url('/status'))).text();
  assert.match(html, /IMAP<\/th>\s*<td class="status">under maintenance/);
  assert.match(html, /IMAP upgrade <span class="stage">in progress/);
  assert.match((await cli(['maintenance', 'list'])).out, new RegExp(`^${id}\\tscheduled\\t`, 'm'));
  assert.equal((await cli(['maintenance', 'cancel', String(id)])).code, 0);
  await server.monitor?.summary(true);
  assert.equal((await summary()).components.find((c) => c.id === 'imap')?.status, 'operational');
});

test('a stopped listener is announced once on the webhook, with the status page showing it', async () => {
  const monitor = server.monitor;
  assert.ok(monitor);
  await monitor.runOnce();
  assert.equal(received.length, 0, 'operational at start is not news');
  await real.get('pop3')?.stop(0);
  await monitor.runOnce();
  await monitor.runOnce();
  await monitor.runOnce();
  const pop3 = received.filter((r) => r.component === 'pop3');
  assert.ok(pop3.length >= 1);
  assert.equal(pop3.at(-1)?.status, 'major outage');
  assert.equal(pop3.filter((r) => r.status === 'major outage').length, 1, 'announced once');
  assert.equal(pop3[0]?.method, 'POST');
  assert.equal(pop3[0]?.contentType, 'application/json');
  assert.equal(pop3[0]?.type, 'component.status');
  assert.equal(pop3[0]?.node, 'node-a');
  const s = await summary();
  assert.equal(s.components.find((c) => c.id === 'pop3')?.status, 'major outage');
  assert.equal(s.status, 'major outage');
  const html = await (await fetch(url('/status'))).text();
  assert.match(html, /POP3<\/th>\s*<td class="status">major outage/);
  assert.ok((s.components.find((c) => c.id === 'pop3')?.uptimePercent ?? 100) < 100);
});

test('recovery: the listener back on its port is shown and announced (degraded while failures are recent, then operational)', async () => {
  const monitor = server.monitor;
  assert.ok(monitor && serverContext);
  const address = server.addresses.get('pop3');
  assert.ok(address);
  const again = LISTENERS.pop3!(serverContext, address);
  await again.start();
  extra.push(again);
  await monitor.runOnce();
  assert.equal((await summary()).components.find((c) => c.id === 'pop3')?.status, 'degraded performance', 'passing, with failures among the last runs');
  for (let i = 0; i < 5; i++) await monitor.runOnce();
  const s = await summary();
  assert.equal(s.components.find((c) => c.id === 'pop3')?.status, 'operational');
  assert.equal(s.status, 'operational');
  const pop3 = received.filter((r) => r.component === 'pop3').map((r) => r.status);
  // No damping configured here (alert_after_seconds = 0): every change is announced once.
  assert.deepEqual(pop3, ['partial outage', 'major outage', 'degraded performance', 'operational']);
  const html = await (await fetch(url('/status'))).text();
  assert.match(html, /POP3<\/th>\s*<td class="status">operational/);
  assert.match(html, /All systems operational/);
});
