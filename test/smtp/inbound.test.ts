// Inbound MX (RFC 5321): real sockets on 127.0.0.1, the replies a sending MTA sees,
// and what ends up in the store.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import type { Store } from '../../src/store/store.js';
import { StoreUnavailable } from '../../src/store/errors.js';
import { SmtpTalk, defaultLimits, inboxOf, sampleMessage, startListener, testStore, type TestEnv } from './harness.js';
import { startDns, type TestDns } from './dns-server.js';

let env: TestEnv;
let dns: TestDns;
let mx: { port: number; close(): Promise<void> };

before(async () => {
  env = await testStore();
  dns = await startDns({});
  mx = await startListener('inbound', env.store, { dnsServers: [dns.server] });
});
after(async () => {
  await mx.close();
  await dns.close();
  await env.close();
});

async function session(port = mx.port): Promise<SmtpTalk> {
  const c = await SmtpTalk.connect(port);
  assert.match(await c.reply(), /^220 mx\.example\.org ESMTP/);
  assert.match(await c.cmd('EHLO sender.remote.test'), /^250/);
  return c;
}

async function blobText(store: Store, blobId: string): Promise<string> {
  return (await store.blobs.get(blobId)).toString('latin1');
}

describe('inbound EHLO', () => {
  test('advertises exactly the MX extensions, no AUTH', async () => {
    const c = await SmtpTalk.connect(mx.port);
    await c.reply();
    const ehlo = (await c.cmd('EHLO sender.remote.test')).split('\n').map((l) => l.slice(4));
    assert.deepEqual(ehlo.slice(1), ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'STARTTLS', `SIZE ${defaultLimits.maxMessageBytes}`]);
    assert.match(await c.cmd('AUTH PLAIN AGFsaWNlAHg='), /^5\d\d /);
    c.close();
  });
});

describe('inbound delivery', () => {
  test('nodemailer delivers to INBOX with Return-Path, Received and Authentication-Results', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: mx.port, secure: false, ignoreTLS: true });
    const info = await transport.sendMail({ envelope: { from: 'sender@remote.test', to: ['alice@example.org'] }, raw: sampleMessage('nodemailer-1') });
    assert.match(info.response, /^250 2\.0\.0 /);
    const msgs = await inboxOf(env.store, 'alice@example.org');
    const last = msgs.at(-1)!;
    const text = await blobText(env.store, last.blobId);
    assert.match(text, /^Return-Path: <sender@remote\.test>\r\nReceived: from sender\.remote\.test|^Return-Path: <sender@remote\.test>\r\nReceived: from /);
    assert.match(text, /\tby mx\.example\.org \(Steadymail\) with ESMTP id /);
    assert.match(text, /\tfor <alice@example\.org>; /);
    assert.match(text, /Authentication-Results: mx\.example\.org;/);
    assert.match(text, /Subject: nodemailer-1\r\n/);
    assert.equal(last.size, Buffer.byteLength(text, 'latin1'));
  });

  test('SMTPUTF8 and 8BITMIME: a UTF-8 address and an 8-bit body arrive byte for byte', async () => {
    const c = await session();
    assert.match(await c.cmd('MAIL FROM:<jörg@remote.test> SMTPUTF8 BODY=8BITMIME'), /^250/);
    assert.match(await c.cmd('RCPT TO:<alice@example.org>'), /^250/);
    assert.match(await c.cmd('DATA'), /^354/);
    const body = 'From: Jörg <jörg@remote.test>\r\nSubject: Grüße\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nÄpfel und Bäume ✓\r\n';
    assert.match(await c.cmd(`${body}.`), /^250/);
    c.close();
    const m = (await inboxOf(env.store, 'alice@example.org')).at(-1)!;
    const raw = await env.store.blobs.get(m.blobId);
    assert.ok(raw.subarray(raw.length - Buffer.byteLength(body)).equals(Buffer.from(body)));
    assert.match(raw.toString(), /^Return-Path: <jörg@remote\.test>/);
  });

  test('several local recipients share one blob', async () => {
    const c = await session();
    assert.match(await c.send('sender@remote.test', ['alice@example.org', 'bob@example.org'], sampleMessage('shared-1')), /^250 2\.0\.0/);
    c.close();
    const a = (await inboxOf(env.store, 'alice@example.org')).at(-1)!;
    const b = (await inboxOf(env.store, 'bob@example.org')).at(-1)!;
    assert.equal(a.blobId, b.blobId);
  });

  test('an alias expands to its accounts, one blob; the catch-all takes unknown local parts', async () => {
    const c = await session();
    assert.match(await c.send('sender@remote.test', ['team@example.org'], sampleMessage('alias-team')), /^250/);
    assert.match(await c.send('sender@remote.test', ['anything@lists.example.org'], sampleMessage('catch-all')), /^250/);
    c.close();
    const a = await inboxOf(env.store, 'alice@example.org');
    const b = (await inboxOf(env.store, 'bob@example.org')).at(-1)!;
    assert.equal(a.at(-2)!.blobId, b.blobId);
    assert.match(await blobText(env.store, a.at(-1)!.blobId), /Subject: catch-all/);
  });

  test('an alias with a remote target delivers locally and queues the rest', async () => {
    const c = await session();
    assert.match(await c.send('sender@remote.test', ['fwd@example.org'], sampleMessage('forwarded')), /^250/);
    c.close();
    const queued = (await env.store.listQueue()).filter((q) => q.recipients.includes('someone@remote.test'));
    assert.equal(queued.length, 1);
    const qText = await blobText(env.store, queued[0]!.blobId);
    assert.doesNotMatch(qText, /^Return-Path:/m, 'a copy leaving the server carries no Return-Path');
    assert.match(qText, /Subject: forwarded/);
  });

  test('postmaster: at every hosted domain and without a domain (RFC 5321 4.5.1)', async () => {
    const l = await startListener('inbound', env.store, { dnsServers: [dns.server], postmaster: 'bob@example.org' });
    const before = (await inboxOf(env.store, 'bob@example.org')).length;
    const c = await session(l.port);
    assert.match(await c.send('sender@remote.test', ['postmaster@example.org'], sampleMessage('pm-1')), /^250/);
    assert.match(await c.send('sender@remote.test', ['Postmaster'], sampleMessage('pm-2')), /^250/);
    c.close();
    await l.close();
    assert.equal((await inboxOf(env.store, 'bob@example.org')).length, before + 2);
  });

  test('pipelined commands (RFC 2920) get their replies in order', async () => {
    const c = await session();
    c.write('MAIL FROM:<sender@remote.test>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<nobody@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n');
    assert.match(await c.reply(), /^250 2\.1\.0/);
    assert.match(await c.reply(), /^250 2\.1\.5/);
    assert.match(await c.reply(), /^550 5\.1\.1/);
    assert.match(await c.reply(), /^250 2\.1\.5/);
    assert.match(await c.reply(), /^354/);
    assert.match(await c.cmd(`${sampleMessage('pipelined')}\r\n.`), /^250/);
    c.close();
  });

  test('bare LF line endings are stored as CRLF', async () => {
    const c = await session();
    await c.cmd('MAIL FROM:<sender@remote.test>');
    await c.cmd('RCPT TO:<bob@example.org>');
    await c.cmd('DATA');
    // Bare LF inside the message is tolerated; the end of data is only CRLF.CRLF
    // (RFC 5321 4.1.1.4), never LF.LF: accepting that is the "SMTP smuggling" hole.
    c.write('Subject: bare-lf\nFrom: x@remote.test\n\nline one\n.\nline two\r\n.\r\n');
    assert.match(await c.reply(), /^250/);
    c.close();
    const text = await blobText(env.store, (await inboxOf(env.store, 'bob@example.org')).at(-1)!.blobId);
    assert.match(text, /Subject: bare-lf\r\nFrom: x@remote\.test\r\n\r\nline one\r\n\.\r\nline two\r\n$/);
    assert.doesNotMatch(text.replace(/\r\n/g, ''), /\n/);
  });

  test('STARTTLS: the Received header records the TLS version and cipher', async () => {
    const c = await session();
    await c.starttls();
    assert.match(await c.cmd('EHLO sender.remote.test'), /^250/);
    assert.match(await c.send('sender@remote.test', ['alice@example.org'], sampleMessage('over-tls')), /^250/);
    c.close();
    const text = await blobText(env.store, (await inboxOf(env.store, 'alice@example.org')).at(-1)!.blobId);
    assert.match(text, /with ESMTPS id \S+\r\n\t\(version=TLSv1\.[23] cipher=\S+\)/);
  });
});

describe('inbound rejections', () => {
  test('RCPT: unknown user, other domain, disabled account, full mailbox, bad syntax', async () => {
    const c = await session();
    assert.match(await c.cmd('MAIL FROM:<sender@remote.test> SIZE=2000'), /^250/);
    assert.match(await c.cmd('RCPT TO:<nobody@example.org>'), /^550 5\.1\.1 /);
    assert.match(await c.cmd('RCPT TO:<someone@elsewhere.test>'), /^550 5\.7\.1 /);
    assert.match(await c.cmd('RCPT TO:<dave@example.org>'), /^550 5\.2\.1 /);
    assert.match(await c.cmd('RCPT TO:<carol@example.org>'), /^452 4\.2\.2 /);
    assert.match(await c.cmd('RCPT TO:<not an address>'), /^5\d\d /);
    c.close();
  });

  test('too many recipients: 452 4.5.3', async () => {
    const c = await session();
    await c.cmd('MAIL FROM:<sender@remote.test>');
    for (let i = 0; i < defaultLimits.maxRecipients; i++) assert.match(await c.cmd(`RCPT TO:<x${i}@lists.example.org>`), /^250/);
    assert.match(await c.cmd('RCPT TO:<y@lists.example.org>'), /^452 4\.5\.3 /);
    c.close();
  });

  test('size: SIZE= over the limit 552 5.3.4 at MAIL, and an oversized DATA 552 5.3.4', async () => {
    const c = await session();
    assert.match(await c.cmd(`MAIL FROM:<sender@remote.test> SIZE=${defaultLimits.maxMessageBytes + 1}`), /^552 5\.3\.4 /);
    const big = sampleMessage('too-big', `${'x'.repeat(70)}\r\n`.repeat(1000));
    assert.match(await c.send('sender@remote.test', ['alice@example.org'], big), /^552 5\.3\.4 /);
    // The session goes on.
    assert.match(await c.send('sender@remote.test', ['alice@example.org'], sampleMessage('after-big')), /^250/);
    c.close();
  });

  test('a line longer than the limit: 500 5.5.6', async () => {
    const c = await session();
    assert.match(await c.send('sender@remote.test', ['alice@example.org'], sampleMessage('long-line', `${'y'.repeat(3000)}\r\n`)), /^500 5\.5\.6 /);
    c.close();
  });

  test('too many Received headers: 554 5.4.6', async () => {
    const c = await session();
    const hops = 'Received: from a by b; Sat, 28 Nov 2026 12:00:00 +0000\r\n'.repeat(defaultLimits.maxReceivedHeaders);
    assert.match(await c.send('sender@remote.test', ['alice@example.org'], hops + sampleMessage('loop')), /^554 5\.4\.6 /);
    c.close();
  });

  test('quota filled between RCPT and DATA: 452 4.2.2, nothing delivered, the retry defers only that recipient', async () => {
    const before = (await inboxOf(env.store, 'alice@example.org')).length;
    const c = await session();
    const msg = sampleMessage('quota-race', `${'z'.repeat(70)}\r\n`.repeat(20));
    assert.match(await c.send('sender@remote.test', ['alice@example.org', 'carol@example.org'], msg), /^452 4\.2\.2 /);
    assert.equal((await inboxOf(env.store, 'alice@example.org')).length, before);
    assert.equal((await inboxOf(env.store, 'carol@example.org')).length, 0);
    await c.cmd('MAIL FROM:<sender@remote.test>');
    assert.match(await c.cmd('RCPT TO:<alice@example.org>'), /^250/);
    assert.match(await c.cmd('RCPT TO:<carol@example.org>'), /^452 4\.2\.2 /);
    c.close();
  });

  test('per-IP connection limit: 421 4.7.0', async () => {
    const l = await startListener('inbound', env.store, { dnsServers: [dns.server], limits: { ...defaultLimits, maxConnectionsPerIp: 2 } });
    const a = await SmtpTalk.connect(l.port);
    const b = await SmtpTalk.connect(l.port);
    assert.match(await a.reply(), /^220/);
    assert.match(await b.reply(), /^220/);
    const c = await SmtpTalk.connect(l.port);
    assert.match(await c.reply(), /^421 4\.7\.0 /);
    a.close();
    b.close();
    c.close();
    await l.close();
  });

  test('per-IP connection rate: 421 4.7.0 past the limit per minute', async () => {
    const l = await startListener('inbound', env.store, { dnsServers: [dns.server], limits: { ...defaultLimits, maxConnectionsPerIpPerMinute: 3 } });
    for (let i = 0; i < 3; i++) {
      const c = await SmtpTalk.connect(l.port);
      assert.match(await c.reply(), /^220/);
      c.close();
    }
    const c = await SmtpTalk.connect(l.port);
    assert.match(await c.reply(), /^421 4\.7\.0 /);
    c.close();
    await l.close();
  });

  test('idle timeout closes the session with 421', async () => {
    const l = await startListener('inbound', env.store, { dnsServers: [dns.server], limits: { ...defaultLimits, idleTimeoutMs: 300 } });
    const c = await SmtpTalk.connect(l.port);
    await c.reply();
    assert.match(await c.reply(3000), /^421 /);
    c.close();
    await l.close();
  });
});

describe('inbound dropped connections', () => {
  test('a client that disconnects in the middle of DATA leaves nothing behind', async () => {
    const before = (await inboxOf(env.store, 'alice@example.org')).length;
    const c = await session();
    await c.cmd('MAIL FROM:<sender@remote.test>');
    await c.cmd('RCPT TO:<alice@example.org>');
    assert.match(await c.cmd('DATA'), /^354/);
    c.write('Subject: half\r\n\r\nhalf a mess');
    c.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const d = await session();
    assert.match(await d.send('sender@remote.test', ['alice@example.org'], sampleMessage('after-drop')), /^250/);
    d.close();
    const msgs = await inboxOf(env.store, 'alice@example.org');
    assert.equal(msgs.length, before + 1);
  });
});

describe('inbound store failures', () => {
  function failing(store: Store, method: 'deliverMessage' | 'enqueueOutbound'): Store {
    return new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === method) return () => Promise.reject(new StoreUnavailable('disk full'));
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  test('a mailbox fills up inside the delivery transaction: the other copies are withdrawn, 452 4.2.2', async () => {
    // getAccountById says "unlimited", so only the store's own quota check catches carol.
    const racing = new Proxy(env.store, {
      get(target, prop, receiver) {
        if (prop === 'getAccountById') {
          return async (id: number) => {
            const a = await target.getAccountById(id);
            return a && { ...a, quotaBytes: 0 };
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const l = await startListener('inbound', racing, { dnsServers: [dns.server] });
    const before = (await inboxOf(env.store, 'bob@example.org')).length;
    const c = await session(l.port);
    const msg = sampleMessage('quota-in-tx', `${'q'.repeat(70)}\r\n`.repeat(20));
    assert.match(await c.send('sender@remote.test', ['bob@example.org', 'carol@example.org'], msg), /^452 4\.2\.2 /);
    assert.equal((await inboxOf(env.store, 'bob@example.org')).length, before, "bob's copy was withdrawn");
    await c.cmd('MAIL FROM:<sender@remote.test>');
    assert.match(await c.cmd('RCPT TO:<carol@example.org>'), /^452 4\.2\.2 /);
    c.close();
    await l.close();
  });

  test('the metadata commit fails: 451 4.3.0 and nothing stored', async () => {
    const l = await startListener('inbound', failing(env.store, 'deliverMessage'), { dnsServers: [dns.server] });
    const before = (await inboxOf(env.store, 'alice@example.org')).length;
    const c = await session(l.port);
    assert.match(await c.send('sender@remote.test', ['alice@example.org'], sampleMessage('fail-1')), /^451 4\.3\.0 /);
    c.close();
    await l.close();
    assert.equal((await inboxOf(env.store, 'alice@example.org')).length, before);
  });

  test('queueing the remote part fails after the local copy committed: the local copy is withdrawn, 451', async () => {
    const l = await startListener('inbound', failing(env.store, 'enqueueOutbound'), { dnsServers: [dns.server] });
    const before = (await inboxOf(env.store, 'bob@example.org')).length;
    const c = await session(l.port);
    assert.match(await c.send('sender@remote.test', ['fwd@example.org'], sampleMessage('fail-2')), /^451 4\.3\.0 /);
    c.close();
    await l.close();
    assert.equal((await inboxOf(env.store, 'bob@example.org')).length, before);
    const audit = await env.store.listAudit({ limit: 5 });
    assert.ok(audit.some((e) => e.actor === 'system:smtp'), 'the withdrawal is audited');
  });
});
