// The status page in a real browser (Debian's chromium through playwright-core, no
// JavaScript needed by the page): an open incident with its updates and known issues,
// a component under maintenance, another in major outage, and the uptime bars. The
// screenshot is kept as a test artefact in .tmp/artifacts/status-page.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { chromium, type Browser } from 'playwright-core';
import { loadConfig, type ListenAddress, type ListenerName } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { LISTENERS, startServer, type Listener, type ListenerFactory, type ServerHandle } from '../../src/server.js';

const ARTIFACTS = fileURLToPath(new URL('../../.tmp/artifacts/', import.meta.url));
let dataDir: string;
let server: ServerHandle;
let browser: Browser;
const real = new Map<ListenerName, Listener>();

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'steadymail-status-browser-'));
  const listen = Object.fromEntries(['SMTP', 'POP3', 'IMAP', 'HTTP'].map((n) => [`STEADYMAIL_LISTEN_${n}`, '127.0.0.1:0']));
  const config = loadConfig({
    cwd: dataDir,
    env: {
      ...listen,
      STEADYMAIL_LISTEN_SUBMISSION: 'off',
      STEADYMAIL_LISTEN_SUBMISSIONS: 'off',
      STEADYMAIL_LISTEN_MANAGESIEVE: 'off',
      STEADYMAIL_LISTEN_POP3S: 'off',
      STEADYMAIL_LISTEN_IMAPS: 'off',
      STEADYMAIL_LISTEN_SNMP: 'off',
      STEADYMAIL_DATA_DIR: dataDir,
      STEADYMAIL_HOSTNAME: 'mx.browser.test',
      STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '1',
      STEADYMAIL_MONITOR_PROBE_INTERVAL_SECONDS: '3600',
    },
  });
  const listeners = Object.fromEntries(
    Object.entries(LISTENERS).map(([name, factory]) => [
      name,
      (context: Parameters<ListenerFactory>[0], address: ListenAddress) => {
        const listener = factory(context, address);
        real.set(name as ListenerName, listener);
        return listener;
      },
    ]),
  );
  server = await startServer({ config, logger: createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() })), listeners });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  await server?.close().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

test('the status page shows an incident, maintenance and component statuses in a browser', async () => {
  const monitor = server.monitor;
  assert.ok(monitor);
  const m = server.store.monitoring;
  const incident = await m.openIncident({
    title: 'POP3 logins fail for some customers',
    impact: 'major',
    components: ['pop3'],
    body: 'We are investigating failed POP3 logins.',
    author: 'ops',
    issues: [{ title: 'POP3 errors in Outlook', state: 'investigating' }],
    at: new Date(Date.now() - 30 * 60_000),
  });
  await m.updateIncident(incident.id, { stage: 'identified', body: 'One node presented an expired certificate.', author: 'ops', issues: [{ title: 'POP3 errors in Outlook', state: 'resolved' }] });
  await m.scheduleMaintenance({ title: 'IMAP upgrade', components: ['imap'], startsAt: new Date(Date.now() - 60_000), endsAt: new Date(Date.now() + 3600_000) });
  await monitor.runOnce();
  await real.get('pop3')?.stop(0);
  await monitor.runOnce();
  await monitor.runOnce();

  const page = await browser.newPage({ javaScriptEnabled: false });
  const res = await page.goto(`http://127.0.0.1:${server.addresses.get('http')?.port ?? 0}/status`);
  assert.equal(res?.status(), 200);
  assert.equal(await page.title(), 'mx.browser.test status');
  assert.equal((await page.locator('.headline').innerText()).trim(), 'Major outage');

  const open = page.locator('#open-incidents article');
  assert.equal(await open.count(), 1);
  assert.match(await open.locator('h3').innerText(), /POP3 logins fail for some customers\s+identified/);
  const updates = await open.locator('.updates li').allInnerTexts();
  assert.equal(updates.length, 2);
  assert.match(updates[0] ?? '', /identified\s+One node presented an expired certificate\./);
  assert.match(updates[1] ?? '', /investigating\s+We are investigating failed POP3 logins\./);
  assert.match(await open.locator('.issues').innerText(), /POP3 errors in Outlook — resolved/);

  assert.equal(await page.locator('#component-pop3 .status').innerText(), 'major outage');
  assert.equal(await page.locator('#component-imap .status').innerText(), 'under maintenance');
  assert.equal(await page.locator('#component-smtp .status').innerText(), 'operational');
  assert.match(await page.locator('#maintenance').innerText(), /IMAP upgrade\s+in progress/);
  assert.equal(await page.locator('#component-smtp .day').count(), 90, '90 daily uptime bars');
  assert.equal(await page.locator('#component-smtp .day.up').count(), 1, 'today is the only day with data');
  // The bars render as visible boxes (layout, not just markup).
  const bar = await page.locator('#component-smtp .day.up').boundingBox();
  assert.ok(bar && bar.height >= 20 && bar.width >= 2);

  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = join(ARTIFACTS, 'status-page.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(statSync(shot).size > 10_000);
  await page.close();
});
