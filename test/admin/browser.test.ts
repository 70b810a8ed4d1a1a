// The operator console in a real browser (Debian's chromium through playwright-core)
// against the real server: an admin signs in at /admin, sees the dashboard with its
// charts, creates a domain and an account; that account then signs in to the webmail.
// On the account's view: forwarding, the log-in history and the trace switch; the
// Sessions page.
// A screenshot of the dashboard is kept as a test artefact in .tmp/artifacts/admin-dashboard.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hash } from '@node-rs/argon2';
import type { Page } from 'playwright-core';
import { launchBrowser, startWebmailServer, type Running } from '../webmail/browser-harness.js';
import { HASH_OPTS } from './harness.js';

const ARTIFACTS = fileURLToPath(new URL('../../.tmp/artifacts/', import.meta.url));

let env: Running;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
const problems: string[] = [];

before(async () => {
  env = await startWebmailServer('seed.test', {});
  await env.store.admin.createAdmin('root', await hash('console-pw', HASH_OPTS));
  // Some traffic in the last hours, so that the chart has bars to draw.
  for (let h = 0; h < 6; h++) await env.store.admin.addTraffic(new Date(Date.now() - h * 3600_000), { received: 10 + h * 3, deliveredLocal: 10, transmitted: 4 + h, failed: h % 2 });
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('console', (m) => {
    // Expected refusals (the session check before sign-in, the wrong password) log "Failed to load resource".
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
});

after(async () => {
  await browser?.close();
  await env?.close();
});

test('an admin signs in; the dashboard renders its charts', async () => {
  const shell = await fetch(`${env.base}/admin`);
  assert.equal(shell.status, 200);
  assert.match(shell.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  await page.goto(`${env.base}/admin`);
  await page.getByLabel('Admin name').fill('root');
  await page.getByLabel('Password').fill('wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: /wrong/ }).waitFor();
  await page.getByLabel('Password').fill('console-pw');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const chart = page.locator('svg[data-chart="bars"]');
  await chart.waitFor();
  // 24 hours × 3 series (in, out, failed).
  assert.equal(await chart.locator('rect').count(), 72);
  const tallest = await page.evaluate<number>(`Math.max(...[...document.querySelectorAll('svg[data-chart="bars"] rect.in')].map((r) => Number(r.getAttribute('height'))))`);
  assert.ok(tallest > 100, `the busiest hour is drawn as a tall bar (${tallest})`);
  const box = await chart.boundingBox();
  assert.ok(box && box.width > 300 && box.height > 80, 'the chart is laid out, not just in the markup');
  await page.locator('svg[data-chart="meter"]').first().waitFor();
  await page.locator('svg[data-chart="connections"]').waitFor();
  assert.match(await page.locator('.cards').innerText(), /\d+ domains, \d+ accounts/);
  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = join(ARTIFACTS, 'admin-dashboard.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(statSync(shot).size > 10_000);
});

test('the admin creates a domain and an account in the UI; the account signs in to the webmail', async () => {
  await page.getByRole('button', { name: 'Domains' }).click();
  await page.getByLabel('New domain').fill('ui.test');
  await page.getByRole('button', { name: 'Add domain' }).click();
  const row = page.locator('tr', { hasText: 'ui.test' });
  await row.waitFor();
  await row.getByRole('button', { name: 'DNS records' }).click();
  const records = page.getByRole('region', { name: 'DNS records of ui.test' });
  await records.waitFor();
  assert.match(await records.innerText(), /ui\.test\. 3600 IN MX 10 mail\.webmail\.test\./);
  assert.match(await records.innerText(), /_submission\._tcp\.ui\.test\. 3600 IN SRV 0 1 \d+ mail\.webmail\.test\./);

  await page.getByRole('button', { name: 'Accounts' }).click();
  const form = page.getByRole('form', { name: 'New account' });
  await form.getByLabel('Address').fill('new.user@ui.test');
  await form.getByLabel('Password').fill('fresh-account-pw');
  await form.getByLabel('Quota').fill('100');
  await form.getByRole('button', { name: 'Create account' }).click();
  await page.locator('tr', { hasText: 'new.user@ui.test' }).waitFor();
  const account = await env.store.getAccount('new.user@ui.test');
  assert.equal(account?.quotaBytes, 100 * 1024 * 1024);
  const audit = await env.store.listAudit({ action: 'account.create' });
  assert.equal(audit[0]?.actor, 'admin:root');
  assert.equal(audit[0]?.detail.ip, '127.0.0.1');

  // The new account in the webmail, in a page of its own (the admin cookie does not sign anyone in there).
  const webmail = await browser.context.newPage();
  await webmail.goto(env.base);
  await webmail.getByLabel('Email address').fill('new.user@ui.test');
  await webmail.getByLabel('Password').fill('fresh-account-pw');
  await webmail.getByRole('button', { name: 'Sign in' }).click();
  await webmail.locator('.folders button[data-folder="INBOX"]').waitFor();
  await webmail.close();
  assert.deepEqual(problems, [], 'no console errors or CSP violations');
});

test("an account's forwarding, log-in history and trace on its view; the Sessions page lists open sessions", async () => {
  await page.getByRole('button', { name: 'Accounts' }).click();
  await page.getByRole('button', { name: 'new.user@ui.test' }).click();
  const history = page.getByRole('region', { name: 'Log-in history of new.user@ui.test' });
  await history.waitFor();
  // The webmail sign-in of the test before is recorded (rows are written within a second).
  for (let i = 0; i < 50 && !/webmail/.test(await history.innerText()); i++) {
    await page.waitForTimeout(200);
    await page.getByRole('button', { name: 'new.user@ui.test' }).click();
  }
  assert.match(await history.innerText(), /webmail\s+127\.0\.0\.1\s+ok/);

  const forwarding = page.getByRole('region', { name: 'Forwarding of new.user@ui.test' });
  await forwarding.getByLabel('Forward mail').check();
  await forwarding.getByLabel('To').fill('away@elsewhere.test');
  await forwarding.getByRole('button', { name: 'Save forwarding' }).click();
  for (let i = 0; i < 50 && (await env.store.listAudit({ action: 'account.forwarding' })).length === 0; i++) await page.waitForTimeout(100);
  const account = (await env.store.getAccount('new.user@ui.test'))!;
  assert.match((await env.store.getSieveScript(account.id, 'webmail'))?.content ?? '', /redirect :copy "away@elsewhere\.test";/);

  const trace = page.getByRole('region', { name: 'Trace of new.user@ui.test' });
  assert.match(await trace.innerText(), /No trace\./);
  await trace.getByLabel('For').fill('2h');
  await trace.getByRole('button', { name: 'Start trace' }).click();
  await trace.getByText(/^On until /).waitFor();
  const on = await env.store.sessions.getTrace('new.user@ui.test');
  assert.ok(on && Math.abs(on.until.getTime() - Date.now() - 2 * 3600_000) < 60_000);
  await trace.getByRole('button', { name: 'Stop trace' }).click();
  await trace.getByText(/^Ended /).waitFor();
  assert.deepEqual((await env.store.listAudit({ action: 'trace.on' })).map((e) => e.subject), ['new.user@ui.test']);

  await page.getByRole('button', { name: 'Sessions', exact: true }).click();
  await page.getByRole('table', { name: 'Open sessions' }).waitFor();
  assert.deepEqual(problems, [], 'no console errors or CSP violations');
});
