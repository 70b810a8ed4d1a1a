// The webmail in a real browser (Debian's chromium through playwright-core) against the
// real server: sign in, read HTML mail, hostile mail stays inert, send and receive,
// attachments, search, a 10,000-message folder, a phone-sized screen, sign out.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import type { Page } from 'playwright-core';
import { appendRaw, launchBrowser, startTracker, startWebmailServer, type Running } from './browser-harness.js';

const DOMAIN = 'webmail.test';
const ALICE = `alice@${DOMAIN}`;
const BOB = `bob@${DOMAIN}`;
const PASSWORDS = { [ALICE]: 'alice-secret-pw', [BOB]: 'bob-secret-pw' };
const BULK = 10_000;

let env: Running;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let tracker: Awaited<ReturnType<typeof startTracker>>;
let page: Page;
const dialogs: string[] = [];
const pageErrors: string[] = [];
let confirming = false;
const cspViolations: string[] = [];

const HTML_MESSAGE = `From: Carol Finance <carol@example.org>
To: ${ALICE}
Subject: Quarterly report
Date: Mon, 2 Nov 2026 09:00:00 +0000
Message-ID: <report-1@example.org>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><body><h1>Results</h1><p>Revenue <b>grew</b> by 12 percent.</p></body></html>
`;

const PLAIN_MESSAGE = `From: Heidi <heidi@example.org>
To: ${ALICE}
Subject: Plain note
Date: Tue, 1 Sep 2026 09:00:00 +0000
Message-ID: <plain-1@example.org>
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Gr=FC=DFe! The agenda is at https://example.org/agenda?id=7&x=1.
<script>alert('not html')</script>
`;

const INLINE_IMAGE_MESSAGE = `From: Ivan <ivan@example.org>
To: ${ALICE}
Subject: Logo inside
Date: Sat, 1 Aug 2026 09:00:00 +0000
Message-ID: <logo-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=utf-8

<p>Our logo:</p><img id="logo" src="cid:logo@example.org" alt="logo">
--rel
Content-Type: image/png
Content-ID: <logo@example.org>
Content-Transfer-Encoding: base64

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==
--rel--
`;

function hostileMessage(tracker: string): string {
  return `From: Mallory <mallory@evil.example>
To: ${ALICE}
Subject: Hostile greetings
Date: Tue, 3 Nov 2026 09:00:00 +0000
Message-ID: <hostile-1@evil.example>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><head>
<script>window.__pwned = 1; window.top.__pwned = 1; alert('script'); fetch('${tracker}/script-ran');</script>
<meta http-equiv="refresh" content="0; url=${tracker}/refresh">
<link rel="stylesheet" href="${tracker}/style.css">
<style>@import url("${tracker}/import.css"); body { background: url("${tracker}/bg.png"); }</style>
<base href="${tracker}/">
</head><body onload="alert('onload'); fetch('${tracker}/onload')">
<p>Hello from the attacker.</p>
<img src="${tracker}/pixel.gif" alt="tracking pixel">
<img src="x" onerror="window.__pwned = 2; alert('onerror')">
<svg onload="alert('svg')"><a href="javascript:alert('js-link')"><text>click</text></a></svg>
<a href="javascript:alert('link')">javascript link</a>
<iframe src="${tracker}/frame" srcdoc="<script>alert('srcdoc')</script>"></iframe>
<object data="${tracker}/object"></object>
<form action="${tracker}/form"><input name="q"><button>go</button></form>
<div style="background-image: url('${tracker}/inline-style.png')">styled</div>
<video poster="${tracker}/poster.png"></video>
</body></html>
`;
}

/**
 * BULK messages in the folder "Bulk": DISTINCT different messages stored once, then
 * copied in (one transaction per copy), as an IMAP client's COPY would. Sorted by date,
 * newest first, row i shows "Bulk <DISTINCT - 1 - floor(i / COPIES)>".
 */
const DISTINCT = 500;
const COPIES = BULK / DISTINCT;
function bulkSubject(index: number): string {
  return `Bulk ${String(DISTINCT - 1 - Math.floor(index / COPIES)).padStart(4, '0')}`;
}

async function fillBulkFolder(): Promise<void> {
  const alice = await env.store.getAccount(ALICE);
  assert.ok(alice);
  const source = await env.store.createMailbox(alice.id, 'Bulk source');
  const bulk = await env.store.createMailbox(alice.id, 'Bulk');
  const start = Date.UTC(2025, 0, 1);
  await Promise.all(
    Array.from({ length: DISTINCT }, (_, n) => {
      const date = new Date(start + n * 60_000);
      const id = String(n).padStart(4, '0');
      const raw = `From: Sender ${n % 97} <s${n % 97}@example.net>\r\nTo: ${ALICE}\r\nSubject: Bulk ${id}\r\nDate: ${date.toUTCString()}\r\nMessage-ID: <bulk-${id}@example.net>\r\n\r\nMessage number ${id}.\r\n`;
      return appendRaw(env.store, source.id, raw, date, ['\\Seen']);
    }),
  );
  const uids = (await env.store.listMessages(source.id, { withoutStructure: true })).map((m) => m.uid);
  for (let i = 0; i < COPIES; i++) await env.store.copyMessages(source.id, uids, bulk.id);
  await env.store.deleteMailbox(alice.id, 'Bulk source', { actor: 'test', reason: 'fixture' });
}

before(async () => {
  tracker = await startTracker();
  env = await startWebmailServer(DOMAIN, PASSWORDS);
  const alice = await env.store.getAccount(ALICE);
  assert.ok(alice);
  const inbox = await env.store.getMailbox(alice.id, 'INBOX');
  assert.ok(inbox);
  await env.store.createMailbox(alice.id, 'Aardvark');
  await appendRaw(env.store, inbox.id, INLINE_IMAGE_MESSAGE, new Date('2026-08-01T09:00:00Z'), ['\\Seen']);
  await appendRaw(env.store, inbox.id, PLAIN_MESSAGE, new Date('2026-09-01T09:00:00Z'), ['\\Seen']);
  await appendRaw(env.store, inbox.id, HTML_MESSAGE, new Date('2026-11-02T09:00:00Z'));
  await appendRaw(env.store, inbox.id, hostileMessage(tracker.origin), new Date('2026-11-03T09:00:00Z'));
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('dialog', (dialog) => {
    // The app's own confirmations are accepted when a test expects one; anything else
    // (an alert from a message) is recorded as a failure.
    if (dialog.type() === 'confirm' && confirming) {
      confirming = false;
      void dialog.accept();
      return;
    }
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  // The app itself must run under its own strict CSP (message bodies' violations are expected).
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text()) && !msg.location().url.includes('/api/messages/')) cspViolations.push(`${msg.location().url}: ${msg.text()}`);
  });
});

after(async () => {
  await browser?.close();
  await env?.close();
  await tracker?.close();
});

function row(subject: string) {
  return page.locator('.list-viewport [role="listitem"]', { hasText: subject });
}

test('the server serves the app shell at / beside the status page and the metrics', async () => {
  const shell = await fetch(`${env.base}/`);
  assert.equal(shell.status, 200);
  assert.match(shell.headers.get('content-security-policy') ?? '', /script-src 'self';/);
  assert.match(await shell.text(), /<div id="root">/);
  const status = await fetch(`${env.base}/status`);
  assert.equal(status.status, 200);
  assert.doesNotMatch(await status.text(), /<div id="root">/);
  const metrics = await fetch(`${env.base}/metrics`);
  assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
});

test('sign in: a wrong password is refused, the right one shows the folders with unread counts', async () => {
  await page.goto(env.base);
  await page.getByLabel('Email address').fill(ALICE);
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: /wrong/ }).waitFor();
  await page.getByLabel('Password').fill(PASSWORDS[ALICE]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const inbox = page.locator('.folders button[data-folder="INBOX"]');
  await inbox.waitFor();
  assert.equal(await inbox.getAttribute('aria-label'), 'Inbox, 2 unread');
  // Special-use folders come first, the user's folder after them.
  const names = await page.evaluate<string[]>(`[...document.querySelectorAll('.folders button[data-folder]')].map((e) => e.dataset.folder)`);
  assert.equal(names[0], 'INBOX');
  assert.equal(names.at(-1), 'Aardvark', 'a user folder sorts after every special-use one');
  await row('Quarterly report').waitFor();
  await row('Hostile greetings').waitFor();
  // The session cookie is HttpOnly: page scripts cannot read it.
  assert.equal(await page.evaluate('document.cookie'), '');
});

test('an HTML message is shown from the sanitised body in a sandboxed iframe', async () => {
  await row('Quarterly report').click();
  await page.getByRole('heading', { name: 'Quarterly report' }).waitFor();
  const frame = page.locator('iframe.html-body');
  assert.equal(await frame.getAttribute('sandbox'), 'allow-popups allow-popups-to-escape-sandbox');
  await page.frameLocator('iframe.html-body').getByText('Revenue grew by 12 percent.').waitFor();
  // Opening marks it read: the unread count drops.
  await page.locator('.folders button[aria-label="Inbox, 1 unread"]').waitFor();
  // "Show original" opens the stored source in a new tab.
  const [original] = await Promise.all([page.waitForEvent('popup'), page.getByRole('link', { name: 'Show original' }).click()]);
  await original.waitForLoadState();
  assert.match((await original.textContent('body')) ?? '', /Message-ID: <report-1@example\.org>/);
  await original.close();
});

test('an inline (cid:) image loads inside the sandboxed body', async () => {
  await row('Logo inside').click();
  await page.frameLocator('iframe.html-body').getByText('Our logo:').waitFor();
  const frame = page.frames().find((f) => f.url().includes('/body'));
  assert.ok(frame);
  const width = async () => frame.evaluate<number>(`document.querySelector('img').naturalWidth`);
  const deadline = Date.now() + 5000;
  while ((await width()) === 0 && Date.now() < deadline) await page.waitForTimeout(100);
  assert.equal(await width(), 1, 'the 1×1 PNG from the message was loaded');
  assert.equal(await page.getByRole('region', { name: 'Attachments' }).count(), 0, 'an inline image is not listed as an attachment');
});

test('a plain-text message shows as text with its links, decoded from its charset', async () => {
  await row('Plain note').click();
  await page.getByRole('heading', { name: 'Plain note' }).waitFor();
  const body = page.locator('.text-body');
  await body.getByText('Grüße!').waitFor();
  assert.equal(await body.getByRole('link').getAttribute('href'), 'https://example.org/agenda?id=7&x=1');
  assert.match((await body.textContent()) ?? '', /<script>alert\('not html'\)<\/script>/);
  assert.equal(await page.locator('iframe.html-body').count(), 0);
});

test('a hostile message runs no script and loads nothing remote until images are allowed', async () => {
  await row('Hostile greetings').click();
  await page.getByRole('heading', { name: 'Hostile greetings' }).waitFor();
  const body = page.frameLocator('iframe.html-body');
  await body.getByText('Hello from the attacker.').waitFor();
  // Give any script, refresh or lazy load time to go off.
  await page.waitForTimeout(1500);
  assert.equal(dialogs.length, 0, `no alert() from the message: ${dialogs.join(', ')}`);
  assert.equal(tracker.requests.length, 0, `nothing requested from the remote site: ${tracker.requests.join(', ')}`);
  assert.equal(await page.evaluate('window.__pwned'), undefined);
  assert.equal(pageErrors.length, 0, pageErrors.join('\n'));
  // Inside the frame too: nothing ran, and nothing active is left in the document.
  const frame = page.frames().find((f) => f.url().includes('/body'));
  assert.ok(frame, 'the body frame is there');
  assert.equal(await frame.evaluate('window.__pwned'), undefined);
  assert.equal(await frame.evaluate<number>(`document.querySelectorAll('script, link, meta[http-equiv], base[href]').length`), 0);
  assert.equal(await frame.evaluate<number>(`document.body.querySelectorAll('script, iframe, object, embed, form, meta, link, base, svg, [onload], [onerror], [onclick], a[href^="javascript"]').length`), 0);
  // Still the app: no refresh or navigation happened.
  assert.equal(new URL(page.url()).origin, env.base);

  await page.getByRole('button', { name: 'Load remote images' }).click();
  await body.getByText('Hello from the attacker.').waitFor();
  const deadline = Date.now() + 5000;
  while (!tracker.requests.includes('/pixel.gif') && Date.now() < deadline) await page.waitForTimeout(100);
  assert.ok(tracker.requests.includes('/pixel.gif'), `the allowed remote image is loaded (got ${tracker.requests.join(', ')})`);
  await page.waitForTimeout(500);
  const scripted = tracker.requests.filter((r) => /script-ran|onload|refresh|frame|object|form|style\.css|import\.css/.test(r));
  assert.deepEqual(scripted, [], 'allowing images allows nothing else');
  assert.equal(dialogs.length, 0, dialogs.join(', '));
  assert.equal(await page.evaluate('window.__pwned'), undefined);
});

test('a message written in the browser is sent and arrives over IMAP', async () => {
  await page.keyboard.press('c');
  const compose = page.getByRole('dialog');
  await compose.getByLabel('To').fill(BOB);
  await compose.getByLabel('Subject').fill('Lunch on Friday?');
  await compose.getByLabel('Message').fill('Shall we meet at noon?\n');
  await compose.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('status').filter({ hasText: 'Message sent' }).waitFor();
  assert.equal(await compose.count(), 0);

  const client = new ImapFlow({ host: '127.0.0.1', port: env.ports.imap, secure: false, doSTARTTLS: true, tls: { rejectUnauthorized: false }, auth: { user: BOB, pass: PASSWORDS[BOB] }, logger: false });
  await client.connect();
  try {
    const lock = await client.getMailboxLock('INBOX');
    try {
      const found: string[] = [];
      for await (const m of client.fetch('1:*', { envelope: true, source: true })) {
        if (m.envelope?.subject === 'Lunch on Friday?') found.push(m.source?.toString() ?? '');
      }
      assert.equal(found.length, 1);
      assert.match(found[0]!, /^From: .*alice@webmail\.test/im);
      assert.match(found[0]!, /Shall we meet at noon\?/);
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
});

test('mail delivered over SMTP appears in the open folder without a reload', async () => {
  await page.locator('.folders button[data-folder="INBOX"]').click();
  await row('Quarterly report').waitFor();
  await page.evaluate('window.__sameDocument = true');
  const mx = nodemailer.createTransport({ host: '127.0.0.1', port: env.ports.smtp, secure: false, ignoreTLS: true });
  const sent = await mx.sendMail({ from: 'dave@example.org', to: ALICE, subject: 'Fresh off the wire', text: 'Live update test.' });
  assert.match(sent.response, /^250 /);
  await row('Fresh off the wire').waitFor({ timeout: 10_000 });
  assert.equal(await page.evaluate('window.__sameDocument'), true, 'the page was not reloaded');
  await page.locator('.folders button[aria-label="Inbox, 1 unread"]').waitFor();
  // j and k move through the list from the keyboard.
  await row('Fresh off the wire').click();
  await page.getByRole('heading', { name: 'Fresh off the wire' }).waitFor();
  await page.keyboard.press('j');
  await page.getByRole('heading', { name: 'Hostile greetings' }).waitFor();
  await page.keyboard.press('k');
  await page.getByRole('heading', { name: 'Fresh off the wire' }).waitFor();
});

test('an attachment uploads with the message and downloads byte for byte', async () => {
  const content = randomBytes(300_000);
  await page.getByRole('button', { name: 'Compose' }).click();
  const compose = page.getByRole('dialog');
  await compose.getByLabel('To').fill(ALICE);
  await compose.getByLabel('Subject').fill('Data file attached');
  await compose.getByLabel('Message').fill('See the attachment.');
  await compose.locator('input[type="file"]').setInputFiles({ name: 'measurements 2026.bin', mimeType: 'application/octet-stream', buffer: content });
  await compose.getByText('uploaded').waitFor();
  await compose.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('status').filter({ hasText: 'Message sent' }).waitFor();

  await row('Data file attached').click();
  const link = page.getByRole('link', { name: 'measurements 2026.bin' });
  await link.waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  assert.equal(download.suggestedFilename(), 'measurements 2026.bin');
  const path = await download.path();
  assert.ok(path);
  assert.ok((await readFile(path)).equals(content), 'the downloaded bytes are the uploaded ones');
});

test('search by subject and by sender with an attachment filter', async () => {
  await page.getByLabel('Search mail').fill('Quarterly');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByRole('heading', { name: /Search results/ }).waitFor();
  await row('Quarterly report').waitFor();
  assert.equal(await row('Hostile greetings').count(), 0);

  await page.getByLabel('Search mail').fill('');
  await page.getByRole('button', { name: 'Options' }).click();
  await page.getByRole('group', { name: 'Search options' }).getByLabel('From').fill('alice');
  await page.getByLabel('Has attachments').check();
  await page.getByRole('group', { name: 'Search options' }).getByRole('button', { name: 'Search' }).click();
  // Found twice: the copy in Sent and the one received.
  await row('Data file attached').nth(1).waitFor();
  assert.equal(await row('Lunch on Friday?').count(), 0, 'the sent message has no attachment');
  await page.getByRole('button', { name: 'Clear' }).click();
});

/** Polls until read() answers the expected value (at most 5 s), then asserts it. */
async function eventually<T>(read: () => Promise<T>, expected: T): Promise<void> {
  const deadline = Date.now() + 5000;
  let value = await read();
  while (value !== expected && Date.now() < deadline) {
    await page.waitForTimeout(100);
    value = await read();
  }
  assert.equal(value, expected);
}

function folder(name: string) {
  return page.locator(`.folders button[data-folder="${name}"]`);
}

async function toast(text: string | RegExp): Promise<void> {
  await page.locator('.toast').filter({ hasText: text }).waitFor();
}

test('folders: create nested, rename, move messages by drag and drop and by menu, delete', async () => {
  await folder('INBOX').click();
  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByLabel('New folder name').fill('Projects');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await folder('Projects').click();
  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByLabel('New folder in Projects').fill('2026');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await folder('Projects/2026').click();
  // Nested: the child's list item sits inside its parent's.
  assert.equal(await page.locator('.folders li:has(> button[data-folder="Projects"]) button[data-folder="Projects/2026"]').count(), 1);
  await page.getByRole('button', { name: 'Rename', exact: true }).click();
  await page.getByLabel('Rename Projects/2026 to').fill('Old 2026');
  await page.getByRole('button', { name: 'Rename', exact: true }).last().click();
  await folder('Projects/Old 2026').waitFor();

  // Drag and drop a message onto a folder.
  await folder('INBOX').click();
  await row('Quarterly report').dragTo(folder('Projects'));
  await toast('1 message(s) moved to Projects.');
  await row('Quarterly report').waitFor({ state: 'detached' });
  // Two selected with their checkboxes, moved with the menu.
  await folder('Projects').click();
  await row('Quarterly report').waitFor();
  await row('Quarterly report').getByRole('checkbox').check();
  await page.getByLabel('Move to folder').selectOption({ label: 'Projects/Old 2026' });
  await toast('1 message(s) moved to Old 2026.');
  await folder('Projects/Old 2026').click();
  await row('Quarterly report').waitFor();
  await row('Quarterly report').getByRole('checkbox').check();
  await page.getByLabel('Move to folder').selectOption({ label: 'INBOX' });
  await toast('1 message(s) moved to Inbox.');

  // Deleting a folder asks first.
  confirming = true;
  await page.getByRole('button', { name: 'Delete', exact: true }).first().click();
  await folder('Projects/Old 2026').waitFor({ state: 'detached' });
  assert.equal(confirming, false, 'a confirmation was asked');
});

test('multi-select marks read and unread; # deletes to Trash; Trash can be emptied; junk and not junk', async () => {
  await folder('INBOX').click();
  await row('Hostile greetings').getByRole('checkbox').check();
  await row('Data file attached').getByRole('checkbox').check();
  await page.getByText('2 selected').waitFor();
  await page.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name: 'Unread', exact: true }).click();
  await folder('INBOX').and(page.locator('[aria-label="Inbox, 2 unread"]')).waitFor();
  await page.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name: 'Read', exact: true }).click();
  await folder('INBOX').and(page.locator('[aria-label="Inbox"]')).waitFor();

  await row('Fresh off the wire').click();
  await page.getByRole('heading', { name: 'Fresh off the wire' }).waitFor();
  await page.keyboard.press('#');
  await toast('1 message(s) moved to Trash.');
  await row('Fresh off the wire').waitFor({ state: 'detached' });
  await folder('Trash').click();
  await row('Fresh off the wire').waitFor();
  confirming = true;
  await page.getByRole('button', { name: 'Empty Trash' }).click();
  await toast(/removed from Trash/);
  await row('Fresh off the wire').waitFor({ state: 'detached' });

  // Junk and back.
  await folder('INBOX').click();
  await row('Hostile greetings').click();
  await page.getByRole('heading', { name: 'Hostile greetings' }).waitFor();
  await page.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name: 'Junk', exact: true }).click();
  await toast('1 message(s) marked as junk.');
  await row('Hostile greetings').waitFor({ state: 'detached' });
  await folder('Junk').click();
  await row('Hostile greetings').getByRole('checkbox').check();
  await page.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name: 'Not junk' }).click();
  await toast('1 message(s) moved to the Inbox.');
  await folder('INBOX').click();
  await row('Hostile greetings').waitFor();
});

test('sort by subject, and threads group a reply under its message', async () => {
  const alice = await env.store.getAccount(ALICE);
  const inbox = alice && (await env.store.getMailbox(alice.id, 'INBOX'));
  assert.ok(inbox);
  await folder('INBOX').click();
  await appendRaw(env.store, inbox.id, 'From: erin@example.org\nSubject: Plans\nMessage-ID: <plans@example.org>\n\nFirst.\n', new Date('2026-10-01T10:00:00Z'));
  await appendRaw(env.store, inbox.id, 'From: frank@example.org\nSubject: Unrelated\nMessage-ID: <other@example.org>\n\nIn between.\n', new Date('2026-10-02T10:00:00Z'));
  await appendRaw(
    env.store,
    inbox.id,
    'From: gina@example.org\nSubject: Re: Plans\nMessage-ID: <plans-2@example.org>\nIn-Reply-To: <plans@example.org>\nReferences: <plans@example.org>\n\nSecond.\n',
    new Date('2026-10-03T10:00:00Z'),
  );
  await row('Re: Plans').waitFor();

  await page.getByLabel('Sort by').selectOption('subject');
  await page.getByRole('button', { name: /switch to ascending/ }).click();
  await page.locator('.list-viewport [data-index="0"]', { hasText: 'Data file attached' }).waitFor();
  await page.getByRole('button', { name: /switch to descending/ }).click();
  await page.getByLabel('Sort by').selectOption('date');

  // Without threads, "Unrelated" sits between the two; with them the thread is one group
  // (placed by its newest message), the original first and the reply indented under it.
  const below = (subject: string) => () =>
    page.evaluate<string | null>(
      `(() => { const r = [...document.querySelectorAll('.row')].find((r) => r.querySelector('.subject')?.textContent === ${JSON.stringify(subject)}); const next = r && document.querySelector('[data-index="' + (Number(r.dataset.index) + 1) + '"]'); return next ? next.querySelector('.subject').textContent + '|' + next.querySelector('.row-main').style.paddingLeft : null; })()`,
    );
  await eventually(below('Re: Plans'), 'Unrelated|');
  await page.getByLabel('Threads').check();
  await eventually(below('Plans'), 'Re: Plans|14px');
  await eventually(below('Re: Plans'), 'Unrelated|');
  await page.getByLabel('Threads').uncheck();
});

test('settings, signature, reply shortcut, address autocomplete and an autosaved draft', async () => {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Display name').fill('Alice Example');
  await page.getByLabel('Signature').fill('Alice\nwebmail.test');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Settings saved.').waitFor();
  await page.getByRole('button', { name: 'Close settings' }).click();

  await folder('INBOX').click();
  await row('Hostile greetings').click();
  await page.getByRole('heading', { name: 'Hostile greetings' }).waitFor();
  await page.keyboard.press('r');
  const compose = page.getByRole('dialog');
  assert.equal(await compose.getByLabel('To').inputValue(), '"Mallory" <mallory@evil.example>');
  assert.equal(await compose.getByLabel('Subject').inputValue(), 'Re: Hostile greetings');
  assert.match(await compose.getByLabel('Message').inputValue(), /^\n\n-- \nAlice\nwebmail\.test\n\nOn .*Mallory wrote:\n> Hello from the attacker\./m);
  // Escape closes it (nothing was changed, so no draft) and focus returns to the message.
  await page.keyboard.press('Escape');
  await compose.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate<string | null>(`document.activeElement.closest('.row')?.querySelector('.subject')?.textContent ?? null`), 'Hostile greetings');

  await page.keyboard.press('c');
  await compose.getByLabel('To').fill('bo');
  await compose.locator(`datalist option[value="${BOB}"]`).waitFor({ state: 'attached' });
  await compose.getByLabel('To').fill(BOB);
  await compose.getByLabel('Subject').fill('Draft in progress');
  await compose.getByText('Draft saved').waitFor();
  await compose.getByRole('button', { name: 'Close and keep the draft' }).click();
  await folder('Drafts').click();
  await row('Draft in progress').click();
  assert.equal(await compose.getByLabel('Subject').inputValue(), 'Draft in progress');
  assert.equal(await compose.getByLabel('To').inputValue(), BOB);
  await compose.getByRole('button', { name: 'Send' }).click();
  await toast('Message sent');
  await row('Draft in progress').waitFor({ state: 'detached' });
});

test('a 10,000-message folder opens and scrolls end to end with only visible rows in the page', async () => {
  const filling = Date.now();
  await fillBulkFolder();
  const fillMs = Date.now() - filling;
  // The new folder shows up through the live folder updates.
  await folder('Bulk').waitFor();
  const started = Date.now();
  await folder('Bulk').click();
  await row(bulkSubject(0)).first().waitFor();
  const firstPage = Date.now() - started;
  const viewport = page.locator('.list-viewport');
  assert.equal(await viewport.getAttribute('data-total'), String(BULK));
  const rendered = async () => page.locator('.list-viewport .row').count();
  assert.ok((await rendered()) < 60, 'only the rows in view are rendered');

  // To the middle, then to the very end: the pages there load on demand.
  const middle = Date.now();
  await page.evaluate(`document.querySelector('.list-viewport').scrollTop = 5000 * 64`);
  await page.locator('.list-viewport [data-index="5000"]', { hasText: bulkSubject(5000) }).waitFor();
  const middleMs = Date.now() - middle;
  await page.evaluate(`document.querySelector('.list-viewport').scrollTop = 1e9`);
  await page.locator(`.list-viewport [data-index="${BULK - 1}"]`, { hasText: bulkSubject(BULK - 1) }).waitFor();
  assert.ok((await rendered()) < 60);
  // Scrolling back up with the wheel keeps rows on screen and loads what comes into view.
  await page.mouse.move(500, 400);
  for (let i = 0; i < 20; i++) await page.mouse.wheel(0, -3000);
  // Wheel scrolling may be animated: read the position once it has settled.
  const scrollTop = () => page.evaluate<number>(`document.querySelector('.list-viewport').scrollTop`);
  let top = await scrollTop();
  for (let settled = false; !settled; ) {
    await page.waitForTimeout(200);
    const now = await scrollTop();
    settled = now === top;
    top = now;
  }
  assert.ok(top < (BULK - 500) * 64, 'the wheel moved the list');
  const index = Math.floor(top / 64) + 2;
  await page.locator(`.list-viewport [data-index="${index}"]`, { hasText: bulkSubject(index) }).waitFor();
  console.log(`# 10,000-message folder (stored in ${fillMs} ms): first page shown in ${firstPage} ms, row 5000 in ${middleMs} ms`);
});

test('on a phone-sized screen one pane shows at a time, and sign out returns to the sign-in form', async () => {
  await page.setViewportSize({ width: 375, height: 740 });
  const inbox = page.locator('.folders button[data-folder="INBOX"]');
  await inbox.waitFor({ state: 'hidden' });
  await page.locator('.list-viewport .row').first().waitFor();
  await page.getByRole('button', { name: 'Folders' }).click();
  await inbox.click();
  await inbox.waitFor({ state: 'hidden' });
  await row('Quarterly report').click();
  await page.getByRole('heading', { name: 'Quarterly report' }).waitFor();
  assert.equal(await page.locator('.list-viewport').isVisible(), false);
  await page.getByRole('button', { name: 'Back to the list' }).click();
  await row('Quarterly report').waitFor();
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Email address').waitFor();
  await page.reload();
  await page.getByLabel('Email address').waitFor();
  assert.equal(dialogs.length, 0, dialogs.join(', '));
  assert.equal(pageErrors.length, 0, pageErrors.join('\n'));
  assert.equal(cspViolations.length, 0, cspViolations.join('\n'));
});
