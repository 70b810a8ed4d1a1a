// Submission (RFC 6409) with STARTTLS (RFC 3207) and over implicit TLS (RFC 8314):
// AUTH only after TLS, sender ownership, local delivery and the outbound queue.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { configureLoginThrottle } from '../../src/auth/throttle.js';
import { PASSWORD, SmtpTalk, inboxOf, sampleMessage, startListener, testStore, type TestEnv } from './harness.js';

let env: TestEnv;
let sub: { port: number; close(): Promise<void> };
let subs: { port: number; close(): Promise<void> };

const plain = (user: string, pass = PASSWORD) => Buffer.from(`\0${user}\0${pass}`).toString('base64');

before(async () => {
  env = await testStore();
  configureLoginThrottle(env.store, { maxFailuresPerAccount: 3, maxFailuresPerIp: 50, windowMs: 60_000, failuresBeforeDelay: 1, baseDelayMs: 5, maxDelayMs: 20 });
  sub = await startListener('submission', env.store);
  subs = await startListener('submissions', env.store, { copyToSent: true });
});
after(async () => {
  await sub.close();
  await subs.close();
  await env.close();
});

async function tlsSession(): Promise<SmtpTalk> {
  const c = await SmtpTalk.connect(sub.port);
  await c.reply();
  await c.cmd('EHLO client.example.org');
  await c.starttls();
  return c;
}

describe('submission before TLS', () => {
  test('no AUTH advertised, AUTH refused 538 5.7.11, MAIL refused 530 5.7.0', async () => {
    const c = await SmtpTalk.connect(sub.port);
    await c.reply();
    const ehlo = await c.cmd('EHLO client.example.org');
    assert.match(ehlo, /STARTTLS/);
    assert.doesNotMatch(ehlo, /AUTH/);
    assert.match(await c.cmd(`AUTH PLAIN ${plain('alice@example.org')}`), /^538 5\.7\.11 /);
    assert.match(await c.cmd('MAIL FROM:<alice@example.org>'), /^530 5\.7\.0 /);
    c.close();
  });

  test('allowPlaintextAuth lets a trusted client authenticate without TLS', async () => {
    const l = await startListener('submission', env.store, { allowPlaintextAuth: (ip) => ip === '127.0.0.1' });
    const c = await SmtpTalk.connect(l.port);
    await c.reply();
    assert.match(await c.cmd('EHLO client.example.org'), /AUTH PLAIN LOGIN/);
    assert.match(await c.cmd(`AUTH PLAIN  ${plain('alice@example.org')}  `), /^235 2\.7\.0 /);
    c.close();
    await l.close();
  });
});

describe('submission after STARTTLS', () => {
  test('EHLO after TLS advertises AUTH PLAIN LOGIN and no STARTTLS', async () => {
    const c = await tlsSession();
    const ehlo = await c.cmd('EHLO client.example.org');
    assert.match(ehlo, /AUTH PLAIN LOGIN/);
    assert.doesNotMatch(ehlo, /STARTTLS/);
    c.close();
  });

  test('AUTH PLAIN with extra spaces (Windows Mail), MAIL FROM with a space (Outlook), local and remote recipients', async () => {
    const c = await tlsSession();
    await c.cmd('EHLO client.example.org');
    assert.match(await c.cmd('AUTH PLAIN  '), /^334/);
    assert.match(await c.cmd(plain('alice@example.org')), /^235 2\.7\.0 /);
    assert.match(await c.cmd('MAIL FROM: <alice@example.org>'), /^250 2\.1\.0/);
    assert.match(await c.cmd('RCPT TO: <bob@example.org>'), /^250/);
    assert.match(await c.cmd('RCPT TO:<friend@remote.test>'), /^250/);
    assert.match(await c.cmd('RCPT TO:<nobody@example.org>'), /^550 5\.1\.1 /);
    assert.match(await c.cmd('DATA'), /^354/);
    assert.match(await c.cmd(`${sampleMessage('submitted-1')}\r\n.`), /^250 2\.0\.0 /);
    c.close();
    const bob = (await inboxOf(env.store, 'bob@example.org')).at(-1)!;
    const text = (await env.store.blobs.get(bob.blobId)).toString();
    assert.match(text, /^Return-Path: <alice@example\.org>\r\nReceived: from client\.example\.org \(\[127\.0\.0\.1\]\)\r\n\tby mx\.example\.org \(Steadymail\) with ESMTPSA/);
    const queued = (await env.store.listQueue()).find((q) => q.recipients.includes('friend@remote.test'));
    assert.ok(queued);
    assert.equal(queued.mailFrom, 'alice@example.org');
    assert.equal(queued.accountId, (await env.store.getAccount('alice@example.org'))!.id);
  });

  test('MAIL FROM must be the account or one of its aliases: 553 5.7.1', async () => {
    const c = await tlsSession();
    await c.cmd('EHLO client.example.org');
    assert.match(await c.cmd(`AUTH PLAIN ${plain('alice@example.org')}`), /^235/);
    assert.match(await c.cmd('MAIL FROM:<bob@example.org>'), /^553 5\.7\.1 /);
    assert.match(await c.cmd('MAIL FROM:<ceo@bank.test>'), /^553 5\.7\.1 /);
    assert.match(await c.cmd('MAIL FROM:<x@lists.example.org>'), /^553 5\.7\.1 /, 'the catch-all is not a sender identity');
    assert.match(await c.cmd('MAIL FROM:<>'), /^553 5\.7\.1 /);
    assert.match(await c.cmd('MAIL FROM:<sales@example.org>'), /^250/, 'an alias pointing at alice');
    c.close();
  });

  test('AUTH LOGIN; failures get 535 5.7.8, then the account is locked: 454 4.7.0 even with the right password', async () => {
    const c = await tlsSession();
    await c.cmd('EHLO client.example.org');
    for (let i = 0; i < 3; i++) {
      assert.match(await c.cmd('AUTH LOGIN'), /^334 VXNlcm5hbWU6/);
      assert.match(await c.cmd(Buffer.from('bob@example.org').toString('base64')), /^334 UGFzc3dvcmQ6/);
      assert.match(await c.cmd(Buffer.from('wrong').toString('base64')), /^535 5\.7\.8 /);
    }
    assert.match(await c.cmd(`AUTH PLAIN ${plain('bob@example.org')}`), /^454 4\.7\.0 /);
    c.close();
  });

  test('a disabled account cannot authenticate, nor can one account act as another (authzid)', async () => {
    const c = await tlsSession();
    await c.cmd('EHLO client.example.org');
    assert.match(await c.cmd(`AUTH PLAIN ${plain('dave@example.org')}`), /^535 5\.7\.8 /);
    const asBob = Buffer.from(`bob@example.org\0alice@example.org\0${PASSWORD}`).toString('base64');
    assert.match(await c.cmd(`AUTH PLAIN ${asBob}`), /^535 5\.7\.8 /);
    c.close();
  });
});

describe('submissions (implicit TLS)', () => {
  test('nodemailer over TLS with AUTH LOGIN; a copy goes to Sent when configured', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: subs.port,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: 'alice@example.org', pass: PASSWORD },
      authMethod: 'LOGIN',
    });
    const info = await transport.sendMail({ from: 'alice@example.org', to: ['bob@example.org', 'ext@remote.test'], subject: 'via-465', text: 'hi' });
    assert.deepEqual(info.accepted.sort(), ['bob@example.org', 'ext@remote.test']);
    const alice = (await env.store.getAccount('alice@example.org'))!;
    const sent = (await env.store.listMailboxes(alice.id)).find((m) => m.specialUse === '\\Sent')!;
    const copies = await env.store.listMessages(sent.id, { withoutStructure: true });
    assert.equal(copies.length, 1);
    assert.deepEqual(copies[0]!.flags, ['\\Seen']);
    const text = (await env.store.blobs.get(copies[0]!.blobId)).toString();
    assert.match(text, /Subject: via-465/);
    assert.doesNotMatch(text, /^Return-Path/m);
  });

  test('a plain client on the implicit-TLS port gets nothing it can use', async () => {
    const c = await SmtpTalk.connect(subs.port);
    c.write('EHLO x\r\n');
    const r = await c.reply(2000).catch((e: Error) => e.message);
    assert.doesNotMatch(r, /^250/);
    c.close();
  });
});
