// Settings → Filters and rich-text compose in a real browser (Debian's chromium through
// playwright-core) against the real server: a rule made in the form sorts mail delivered
// over SMTP (seen over IMAP), and bold text written in the editor arrives as <b>/<strong>.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import type { Page } from 'playwright-core';
import { appendRaw, launchBrowser, startWebmailServer, type Running } from './browser-harness.js';

const DOMAIN = 'settings.test';
const ALICE = `alice@${DOMAIN}`;
const BOB = `bob@${DOMAIN}`;
const PASSWORDS: Record<string, string> = { [ALICE]: 'alice-secret-pw', [BOB]: 'bob-secret-pw' };

let env: Running;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
const pageErrors: string[] = [];

async function imapMessages(user: string, box: string): Promise<Array<{ subject: string; flags: string[]; source: string }>> {
  const client = new ImapFlow({ host: '127.0.0.1', port: env.ports.imap, secure: false, doSTARTTLS: true, tls: { rejectUnauthorized: false }, auth: { user, pass: PASSWORDS[user]! }, logger: false });
  await client.connect();
  try {
    const lock = await client.getMailboxLock(box);
    try {
      const out: Array<{ subject: string; flags: string[]; source: string }> = [];
      if (client.mailbox && client.mailbox.exists === 0) return out;
      for await (const m of client.fetch('1:*', { envelope: true, flags: true, source: true })) {
        out.push({ subject: m.envelope?.subject ?? '', flags: [...(m.flags ?? [])].sort(), source: m.source?.toString('utf8') ?? '' });
      }
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
}

before(async () => {
  env = await startWebmailServer(DOMAIN, PASSWORDS);
  const alice = await env.store.getAccount(ALICE);
  assert.ok(alice);
  await env.store.createMailbox(alice.id, 'Receipts');
  const inbox = await env.store.getMailbox(alice.id, 'INBOX');
  assert.ok(inbox);
  await appendRaw(
    env.store,
    inbox.id,
    `From: Carol <carol@example.org>\nTo: ${ALICE}\nSubject: Styled original\nDate: Mon, 2 Nov 2026 09:00:00 +0000\nMessage-ID: <styled-1@example.org>\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<p>The <em>original</em> text.</p>\n`,
    new Date('2026-11-02T09:00:00Z'),
  );
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('dialog', (dialog) => {
    // The link prompt of the editor.
    if (dialog.type() === 'prompt') void dialog.accept('example.org/docs');
    else void dialog.dismiss();
  });
  await page.goto(env.base);
  await page.getByLabel('Email address').fill(ALICE);
  await page.getByLabel('Password').fill(PASSWORDS[ALICE]!);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.folders button[data-folder="INBOX"]').waitFor();
});

after(async () => {
  await browser?.close();
  await env?.close();
  assert.deepEqual(pageErrors, []);
});

test('a rule made in Settings → Filters files matching mail delivered over SMTP', async () => {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Add rule' }).click();
  const rule = page.locator('fieldset.filter-rule').first();
  await rule.getByLabel('Rule name', { exact: true }).fill('Receipts');
  const condition = rule.getByRole('group', { name: 'Condition 1' });
  await condition.getByLabel('Field', { exact: true }).selectOption('subject');
  await condition.getByLabel('Match', { exact: true }).selectOption('contains');
  await condition.getByLabel('Value', { exact: true }).fill('receipt');
  const move = rule.getByRole('group', { name: 'Action 1' });
  await move.getByLabel('Action', { exact: true }).selectOption('move');
  await move.getByLabel('Folder', { exact: true }).selectOption('Receipts');
  await rule.getByRole('button', { name: 'Add action' }).click();
  await rule.getByRole('group', { name: 'Action 2' }).getByLabel('Action', { exact: true }).selectOption('mark-read');
  await page.getByRole('button', { name: 'Save filters' }).click();
  await page.getByText('Filters saved and active.').waitFor();
  assert.match(await page.locator('details .sieve-source').textContent() ?? '', /if header :contains "subject" "receipt" \{\s+addflag "\\\\Seen";\s+fileinto "Receipts";/);

  // A regular expression the compiler refuses is shown with the line it is on.
  await page.getByRole('button', { name: 'Add rule' }).click();
  const bad = page.locator('fieldset.filter-rule').nth(1);
  await bad.getByRole('group', { name: 'Condition 1' }).getByLabel('Match', { exact: true }).selectOption('regex');
  await bad.getByRole('group', { name: 'Condition 1' }).getByLabel('Value', { exact: true }).fill('(a+)+$');
  await page.getByRole('button', { name: 'Save filters' }).click();
  const alert = page.getByRole('alert');
  await alert.filter({ hasText: /line \d+, column \d+: regular expression/ }).waitFor();
  assert.match((await alert.locator('pre').textContent()) ?? '', /^if header :regex "from" "\(a\+\)\+\$"/);
  await bad.getByRole('button', { name: 'Remove rule' }).click();
  await page.getByRole('button', { name: 'Close settings' }).click();

  const mx = nodemailer.createTransport({ host: '127.0.0.1', port: env.ports.smtp, secure: false, ignoreTLS: true });
  await mx.sendMail({ from: 'shop@example.org', to: ALICE, subject: 'Your receipt #42', text: 'Thanks.' });
  await mx.sendMail({ from: 'friend@example.org', to: ALICE, subject: 'Hello there', text: 'Hi.' });
  mx.close();
  const receipts = await imapMessages(ALICE, 'Receipts');
  assert.deepEqual(
    receipts.map((m) => [m.subject, m.flags]),
    [['Your receipt #42', ['\\Seen']]],
  );
  assert.ok((await imapMessages(ALICE, 'INBOX')).some((m) => m.subject === 'Hello there'));
});

test('bold text written in the rich-text editor arrives as <b> or <strong>; a reply quotes the original HTML', async () => {
  await page.keyboard.press('c');
  const compose = page.locator('section.compose');
  await compose.getByLabel('To', { exact: true }).fill(BOB);
  await compose.getByLabel('Subject', { exact: true }).fill('Formatted hello');
  await compose.getByRole('button', { name: 'Rich text' }).click();
  const editor = compose.getByRole('textbox', { name: 'Message' });
  await editor.click();
  await page.keyboard.type('Plain start ');
  await compose.getByRole('button', { name: 'Bold' }).click();
  await page.keyboard.type('strong words');
  await compose.getByRole('button', { name: 'Bold' }).click();
  await page.keyboard.type(' and a ');
  await compose.getByRole('button', { name: 'Link' }).click();
  await compose.getByRole('button', { name: 'Send' }).click();
  await page.locator('.toast').filter({ hasText: 'Message sent' }).waitFor();

  const [got] = (await imapMessages(BOB, 'INBOX')).filter((m) => m.subject === 'Formatted hello');
  assert.ok(got, 'arrived over IMAP');
  assert.match(got.source, /^Content-Type: multipart\/alternative/im);
  // The HTML part is quoted-printable: soft line breaks and =3D undone.
  const html = got.source.replace(/=\r\n/g, '').replace(/=3D/g, '=');
  assert.match(html, /<(b|strong)>strong words<\/(b|strong)>/);
  assert.match(html, /<a href="https:\/\/example\.org\/docs"/);
  assert.match(got.source, /Content-Type: text\/plain[\s\S]*Plain start strong words and a/);

  // Replying in rich text starts from the original's HTML in a quote.
  await page.locator('.list-viewport [role="listitem"]', { hasText: 'Styled original' }).click();
  await page.getByRole('heading', { name: 'Styled original' }).waitFor();
  await page.keyboard.press('r');
  await compose.getByRole('button', { name: 'Rich text' }).click();
  assert.equal(await compose.locator('.rich-editor blockquote em').textContent(), 'original');
  await compose.getByRole('button', { name: 'Plain text' }).click();
  assert.match(await compose.getByLabel('Message').inputValue(), /original/);
  await page.keyboard.press('Escape');
});
