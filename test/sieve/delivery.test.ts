// Sieve at delivery, end to end: scripts uploaded over ManageSieve, mail sent
// over SMTP with nodemailer, the result read over IMAP with imapflow and from
// the outbound queue.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { ImapFlow } from 'imapflow';
import { hash } from '@node-rs/argon2';
import { createManageSieveServer, type ManageSieveServer } from '../../src/managesieve/index.js';
import { createImapServer, type ImapServer } from '../../src/imap/index.js';
import { PASSWORD, silentLogger, startListener, storeAuthenticate, testCert, testStore, type TestEnv } from '../smtp/harness.js';
import { SieveTalk, b64, literal } from './client.js';
import type { QueueEntry } from '../../src/store/types.js';
import { Srs } from '../../src/sieve/srs.js';
import { SmtpTalk } from '../smtp/harness.js';

let env: TestEnv;
let sieve: ManageSieveServer;
let sievePort: number;
let imap: ImapServer;
let imapPort: number;
let mx: { port: number; close(): Promise<void> };
/** What delivery logged at warn level: the reasons scripts failed. */
const warnings: string[] = [];
const capture = { ...silentLogger, warn: (o: object, msg?: string) => warnings.push(`${msg ?? ''}: ${(o as { err?: Error }).err?.message ?? ''}`) };

before(async () => {
  env = await testStore();
  await env.store.createAccount({ address: 'erin@example.org', passwordHash: await hash(PASSWORD, { memoryCost: 1024, timeCost: 1, parallelism: 1 }) });
  const cert = await testCert();
  sieve = createManageSieveServer({
    store: env.store,
    logger: silentLogger,
    hostname: 'mx.example.org',
    tls: cert,
    allowPlaintext: () => true,
    maxScriptBytes: 64 * 1024,
    maxScripts: 10,
    maxRedirects: 2,
    idleTimeoutMs: 10_000,
    maxLineBytes: 4096,
    maxConnectionsPerIp: 20,
  });
  sievePort = (await sieve.listen('127.0.0.1', 0)).port;
  imap = createImapServer({
    store: env.store,
    logger: silentLogger,
    hostname: 'imap.example.org',
    allowPlaintext: () => true,
    authenticate: storeAuthenticate(env.store),
    limits: { maxLineBytes: 8192, maxLiteralBytes: 1024 * 1024, idleTimeoutMs: 60_000, maxConnectionsPerIp: 20 },
  });
  imapPort = (await imap.listen('127.0.0.1', 0)).port;
  mx = await startListener('inbound', env.store, {
    logger: capture,
    srs: new Srs('a-secret-for-these-tests'),
    limits: { maxMessageBytes: 64 * 1024, maxRecipients: 5, maxLineBytes: 2000, maxConnectionsPerIp: 10, idleTimeoutMs: 10_000, maxReceivedHeaders: 10 },
    sieve: {
      limits: { maxActions: 10, maxRedirects: 2, maxTimeMs: 500, maxIncludeDepth: 3, maxVariableLength: 1024 },
      vacation: { minDays: 1, maxDays: 30, defaultDays: 7 },
    },
  });
});

after(async () => {
  await mx.close();
  await imap.close(500);
  await sieve.close(500);
  await env.close();
});

/** Uploads and activates a script over ManageSieve, as a client would. */
async function upload(user: string, name: string, script: string): Promise<void> {
  const c = await SieveTalk.connect(sievePort);
  try {
    await c.response();
    assert.equal(await c.command(`AUTHENTICATE "PLAIN" "${b64(`\0${user}\0${PASSWORD}`)}"`), 'OK "Authenticated"\r\n');
    assert.equal(await c.command(`PUTSCRIPT "${name}" ${literal(script)}`), 'OK "Putscript completed"\r\n');
    assert.equal(await c.command(`SETACTIVE "${name}"`), 'OK "Setactive completed"\r\n');
    await c.command('LOGOUT');
  } finally {
    c.close();
  }
}

function message(subject: string, extra = '', from = 'sender@remote.test', to = 'alice@example.org'): string {
  return `From: Sender <${from}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@remote.test>\r\nDate: Tue, 2 Jan 2024 10:00:00 +0000\r\n${extra}\r\nHello.\r\n`;
}

async function send(to: string[], raw: string, from = 'sender@remote.test'): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: mx.port, secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({ envelope: { from, to }, raw });
  } finally {
    transport.close();
  }
}

/** Subjects and flags in a mailbox, over IMAP. */
async function mailbox(user: string, name: string): Promise<Array<{ subject: string; flags: string[] }>> {
  const client = new ImapFlow({ host: '127.0.0.1', port: imapPort, secure: false, doSTARTTLS: false, auth: { user, pass: PASSWORD }, logger: false });
  await client.connect();
  try {
    const lock = await client.getMailboxLock(name);
    try {
      const out: Array<{ subject: string; flags: string[] }> = [];
      if ((client.mailbox && client.mailbox.exists) === 0) return out;
      for await (const m of client.fetch('1:*', { envelope: true, flags: true })) out.push({ subject: m.envelope?.subject ?? '', flags: [...(m.flags ?? [])].sort() });
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
}

async function queued(): Promise<Array<QueueEntry & { text: string }>> {
  const entries = await env.store.listQueue();
  return Promise.all(entries.map(async (e) => ({ ...e, text: (await env.store.blobs.get(e.blobId)).toString('utf8') })));
}

test('filing: fileinto :create with imap4flags, envelope :detail, discard, reject, redirect, implicit keep', async () => {
  await upload(
    'alice@example.org',
    'rules',
    `require ["fileinto", "imap4flags", "mailbox", "envelope", "subaddress", "reject", "copy", "variables"];
if envelope :detail "to" "shop" {
  fileinto :create :flags ["\\\\Flagged", "shopping"] "Shopping";
  stop;
}
if header :contains "subject" "discard me" { discard; stop; }
if header :contains "subject" "reject me" { reject "Not wanted here"; stop; }
if header :contains "subject" "forward me" { redirect :copy "elsewhere@remote.test"; }
if header :matches "subject" "*tag*" { addflag "\${2}"; }
`,
  );

  await send(['alice+shop@example.org'], message('order confirmed'));
  assert.deepEqual(await mailbox('alice@example.org', 'Shopping'), [{ subject: 'order confirmed', flags: ['\\Flagged', 'shopping'] }]);

  await send(['alice@example.org'], message('please discard me'));
  const audit = (await env.store.listAudit({ limit: 1 }))[0];
  assert.deepEqual([audit?.actor, audit?.action, audit?.reason], ['sieve:alice@example.org', 'sieve.discard', 'the account\'s Sieve script "rules" chose discard']);
  assert.match(audit?.subject ?? '', /^message <pleasediscardme@remote.test> \(/);
  await send(['alice@example.org'], message('keep tag-Later'));
  await send(['alice@example.org'], message('forward me'));
  assert.deepEqual(await mailbox('alice@example.org', 'INBOX'), [
    { subject: 'keep tag-Later', flags: ['-Later'] },
    { subject: 'forward me', flags: [] },
  ]);
  const forward = (await queued()).find((e) => e.recipients.includes('elsewhere@remote.test'));
  assert.ok(forward, 'the redirect is in the outbound queue');
  // SRS: the copy is sent from our domain, so SPF at the destination checks us.
  assert.match(forward.mailFrom, /^SRS0=[A-Z2-7]{4}=[A-Z2-7]{2}=remote\.test=sender@example\.org$/);
  assert.match(forward.text, /^Subject: forward me\r$/m);
  // A bounce to that address goes back to the original sender; a forged one is refused.
  const smtp = await SmtpTalk.connect(mx.port);
  await smtp.reply();
  for (const [line, expected] of [
    ['EHLO bounce.remote.test', /^250/],
    ['MAIL FROM:<>', /^250/],
    [`RCPT TO:<${forward.mailFrom.replace(/=sender@/, '=victim@')}>`, /^550 5\.1\.1/],
    [`RCPT TO:<${forward.mailFrom}>`, /^250/],
    ['DATA', /^354/],
    ['From: MAILER-DAEMON@elsewhere.test\r\nSubject: Undelivered\r\n\r\nNo such user.\r\n.', /^250/],
  ] as const) {
    assert.match(await smtp.cmd(line), expected, line);
  }
  smtp.close();
  const back = (await queued()).find((e) => e.text.includes('Subject: Undelivered'));
  assert.deepEqual([back?.mailFrom, back?.recipients], ['', ['sender@remote.test']]);

  // The only recipient rejects: 550 5.7.1 in the SMTP dialogue, nothing stored.
  await assert.rejects(send(['alice@example.org'], message('reject me')), (err: Error & { responseCode?: number; response?: string }) => {
    assert.equal(err.responseCode, 550);
    assert.match(err.response ?? '', /^550 5\.7\.1 Not wanted here/);
    return true;
  });
  // With another recipient the message is accepted: bob gets it, the sender an MDN (RFC 5429).
  await send(['alice@example.org', 'bob@example.org'], message('reject me too'));
  assert.deepEqual((await mailbox('bob@example.org', 'INBOX')).map((m) => m.subject), ['reject me too']);
  assert.equal((await mailbox('alice@example.org', 'INBOX')).length, 2);
  const mdn = (await queued()).find((e) => e.text.includes('disposition-notification'));
  assert.ok(mdn, 'an MDN to the sender is queued');
  assert.equal(mdn.mailFrom, '');
  assert.deepEqual(mdn.recipients, ['sender@remote.test']);
  assert.match(mdn.text, /^Disposition: automatic-action\/MDN-sent-automatically; deleted\r$/m);
  assert.match(mdn.text, /Not wanted here/);
});

test('vacation: one reply per sender per :days, none to lists, bulk, auto-submitted or the null sender', async () => {
  await upload('bob@example.org', 'away', `require "vacation";\nvacation :days 3 :subject "Out of office" "I am away until Monday.";\n`);
  const before = (await queued()).length;
  const replies = async () => (await queued()).filter((e) => /^Subject: Out of office\r$/m.test(e.text));

  await send(['bob@example.org'], message('question 1', '', 'friend@remote.test', 'bob@example.org'), 'friend@remote.test');
  await send(['bob@example.org'], message('question 2', '', 'friend@remote.test', 'bob@example.org'), 'friend@remote.test');
  let r = await replies();
  assert.equal(r.length, 1, 'one reply for two messages within :days');
  const reply = r[0]!;
  assert.equal(reply.mailFrom, '', 'sent with the null envelope sender');
  assert.deepEqual(reply.recipients, ['friend@remote.test']);
  assert.match(reply.text, /^Auto-Submitted: auto-replied\r$/m);
  assert.match(reply.text, /^In-Reply-To: <question1@remote.test>\r$/m);
  assert.match(reply.text, /^To: <friend@remote.test>\r$/m);
  assert.match(reply.text, /I am away until Monday\./);

  await send(['bob@example.org'], message('list post', 'List-Id: <talk.lists.remote.test>\r\n', 'list@remote.test', 'bob@example.org'), 'list-bounces@remote.test');
  await send(['bob@example.org'], message('newsletter', 'Precedence: bulk\r\n', 'news@remote.test', 'bob@example.org'), 'news@remote.test');
  await send(['bob@example.org'], message('robot', 'Auto-Submitted: auto-generated\r\n', 'robot@remote.test', 'bob@example.org'), 'robot@remote.test');
  await send(['bob@example.org'], message('bounce', '', 'mailer-daemon@remote.test', 'bob@example.org'), '');
  await send(['bob@example.org'], message('bcc only', '', 'other@remote.test', 'someone@remote.test'), 'other@remote.test');
  r = await replies();
  assert.equal(r.length, 1, 'no reply to lists, bulk, auto-submitted, null sender, or mail not addressed to bob');
  // Another sender gets their own reply.
  await send(['bob@example.org'], message('hello', '', 'second@remote.test', 'bob@example.org'), 'second@remote.test');
  assert.deepEqual((await replies()).map((e) => e.recipients[0]).sort(), ['friend@remote.test', 'second@remote.test']);
  assert.ok((await queued()).length >= before + 2);
  // Every message was still delivered.
  assert.equal((await mailbox('bob@example.org', 'INBOX')).length, 9);
});

test('bounded: an include loop, too many redirects and a runaway script all fall back to keeping the message', async () => {
  const c = await SieveTalk.connect(sievePort);
  await c.response();
  await c.command(`AUTHENTICATE "PLAIN" "${b64(`\0erin@example.org\0${PASSWORD}`)}"`);
  assert.equal(await c.command(`PUTSCRIPT "b" ${literal('require "include"; include :personal "a";')}`), 'OK "Putscript completed"\r\n');
  c.close();
  await upload('erin@example.org', 'a', 'require ["include", "fileinto"]; fileinto "Nowhere"; include :personal "b";');
  const before = (await queued()).length;
  await send(['erin@example.org'], message('loop', '', 'sender@remote.test', 'erin@example.org'));
  await upload('erin@example.org', 'redirects', 'redirect "a@remote.test"; redirect "b@remote.test"; redirect "c@remote.test";');
  await send(['erin@example.org'], message('redirects', '', 'sender@remote.test', 'erin@example.org'));
  // Stored directly: larger than ManageSieve accepts now (as if the limit had been lowered since).
  const slow = 'require ["body", "variables"];\n' + Array.from({ length: 3000 }, (_, i) => `if body :text :matches "*a*b*c*d*${i}" { set "x" "y"; }`).join('\n');
  const erin = (await env.store.getAccount('erin@example.org'))!;
  await env.store.putSieveScript(erin.id, 'slow', slow);
  await env.store.activateSieveScript(erin.id, 'slow');
  const started = Date.now();
  await send(['erin@example.org'], message('slow', '', 'sender@remote.test', 'erin@example.org').replace('Hello.', 'a'.repeat(70).concat('\r\n').repeat(500)));
  assert.ok(Date.now() - started < 5000, 'the time budget cut the script short');
  assert.deepEqual((await mailbox('erin@example.org', 'INBOX')).map((m) => m.subject), ['loop', 'redirects', 'slow']);
  assert.equal((await queued()).length, before, 'nothing was redirected');
  assert.ok(warnings.some((w) => /sieve script failed.*include loop: a -> b -> a/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w) => /sieve script failed.*more than 2 redirects/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w) => /sieve script failed.*execution took longer than 500 ms/.test(w)), warnings.join('\n'));
});
