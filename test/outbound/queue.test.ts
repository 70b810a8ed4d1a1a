// The outbound queue against real loopback peers: a dns2 server for MX/A and an
// smtp-server instance as the remote MX (127.0.0.1, port 0).

import { describe, test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { createOutboundQueue, generateDkimKey, type OutboundQueueOptions } from '../../src/smtp/queue/index.js';
import { createResolver, resolveMx } from '../../src/smtp/queue/mx.js';
import { startDns, startMx, type TestMx } from './peers.js';

const silentLogger = { info() {}, warn() {}, error() {}, debug() {} };

describe('outbound queue', () => {
  let dns: { server: string; close(): Promise<void> };
  let mx: TestMx;
  let dir: string;
  let store: Store;

  before(async () => {
    dns = await startDns({
      mx: {
        'good.test': [{ exchange: 'mx.good.test', priority: 10 }],
        // The preferred host is on 127.0.0.2, where nothing listens: connection refused.
        'fallback.test': [
          { exchange: 'mx2.fallback.test', priority: 20 },
          { exchange: 'mx1.fallback.test', priority: 5 },
        ],
        'nullmx.test': [{ exchange: '', priority: 0 }],
        'xn--bcher-kva.test': [{ exchange: 'mx.good.test', priority: 10 }],
      },
      a: {
        'mx.good.test': ['127.0.0.1'],
        'mx1.fallback.test': ['127.0.0.2'],
        'mx2.fallback.test': ['127.0.0.1'],
        'implicit.test': ['127.0.0.1'],
      },
    });
    mx = await startMx();
  });
  after(async () => {
    await mx.close();
    await dns.close();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'steadymail-outbound-'));
    store = await openStore({ driver: 'sqlite', dataDir: dir });
    await store.createDomain('example.org');
    await store.createAccount({ address: 'alice@example.org', passwordHash: 'x' });
    mx.received.length = 0;
    mx.policy = () => undefined;
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function queue(extra: Partial<OutboundQueueOptions> = {}) {
    return createOutboundQueue({ store, logger: silentLogger, hostname: 'mail.example.org', dnsServers: [dns.server], port: mx.port, timeoutMs: 5000, ...extra });
  }

  async function enqueue(subject: string, recipients: string[], mailFrom = 'alice@example.org') {
    const raw = Buffer.from(`From: <${mailFrom}>\r\nTo: <${recipients[0]}>\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.org>\r\n\r\nHello.\r\n`);
    const blob = await store.blobs.put(raw);
    return store.enqueueOutbound({ blobId: blob.id, size: blob.size, mailFrom, recipients });
  }

  async function inbox(): Promise<string[]> {
    const alice = (await store.getAccount('alice@example.org'))!;
    const box = (await store.getMailbox(alice.id, 'INBOX'))!;
    const msgs = await store.listMessages(box.id);
    return Promise.all(msgs.map(async (m) => (await store.blobs.get(m.blobId)).toString()));
  }

  test('delivers to the MX and marks the entry delivered', async () => {
    const [entry] = await enqueue('hello', ['bob@good.test', 'carol@good.test']);
    assert.equal(await queue().runOnce(), 1);
    assert.equal(mx.received.length, 1);
    assert.deepEqual(mx.received[0]?.to, ['bob@good.test', 'carol@good.test']);
    assert.equal(mx.received[0]?.from, 'alice@example.org');
    assert.match(mx.received[0]?.data ?? '', /Subject: hello\r\n/);
    const after = await store.getQueueEntry(entry!.id);
    assert.deepEqual([after?.state, after?.attempts], ['delivered', 1]);
  });

  test('falls back to the next MX by preference when the first refuses connections', async () => {
    const [entry] = await enqueue('fallback', ['bob@fallback.test']);
    await queue().runOnce();
    assert.deepEqual(mx.received.map((m) => m.to), [['bob@fallback.test']]);
    assert.equal((await store.getQueueEntry(entry!.id))?.state, 'delivered');
  });

  test('uses the domain itself when it has no MX, and IDN domains in punycode', async () => {
    await enqueue('implicit', ['bob@implicit.test']);
    await enqueue('idn', ['bob@xn--bcher-kva.test']);
    await queue().runOnce();
    // smtp-server reports the A-label domain decoded back to Unicode.
    assert.deepEqual(mx.received.map((m) => m.to).sort(), [['bob@bücher.test'], ['bob@implicit.test']]);
    const hosts = await resolveMx(createResolver([dns.server]), 'Bücher.test');
    assert.deepEqual(hosts, [{ host: 'mx.good.test', preference: 10, addresses: ['127.0.0.1'] }]);
  });

  test('4xx defers with backoff, and the retry delivers', async () => {
    let refusals = 1;
    mx.policy = () => (refusals-- > 0 ? { code: 451, message: '4.7.1 greylisted, try again later' } : undefined);
    const [entry] = await enqueue('grey', ['bob@good.test']);
    const q = queue();
    await q.runOnce();
    const deferred = (await store.getQueueEntry(entry!.id))!;
    assert.equal(deferred.state, 'queued');
    assert.equal(deferred.attempts, 1);
    assert.match(deferred.lastError ?? '', /451/);
    const delay = deferred.nextAttemptAt.getTime() - Date.now();
    assert.ok(delay > 4 * 60_000 && delay <= 5 * 60_000, `first retry after 5 minutes, got ${delay} ms`);
    assert.equal(await q.runOnce(), 0, 'not due yet');
    await store.retryQueueEntry(entry!.id);
    await q.runOnce();
    assert.equal(mx.received.length, 1);
    const done = (await store.getQueueEntry(entry!.id))!;
    assert.deepEqual([done.state, done.attempts], ['delivered', 2]);
  });

  test('5xx bounces with an RFC 3464 DSN in the local sender INBOX', async () => {
    mx.policy = (rcpt) => (rcpt === 'nobody@good.test' ? { code: 550, message: '5.1.1 no such user' } : undefined);
    const [entry] = await enqueue('bounce', ['nobody@good.test']);
    await queue().runOnce();
    const failed = (await store.getQueueEntry(entry!.id))!;
    assert.equal(failed.state, 'failed');
    assert.match(failed.lastError ?? '', /550 5\.1\.1/);
    const [dsn, ...rest] = await inbox();
    assert.equal(rest.length, 0);
    assert.match(dsn!, /^Content-Type: multipart\/report; report-type=delivery-status; boundary="/m);
    assert.match(dsn!, /^To: <alice@example\.org>\r$/m);
    assert.match(dsn!, /^Content-Type: message\/delivery-status\r\n/m);
    assert.match(dsn!, /^Reporting-MTA: dns; mail\.example\.org\r$/m);
    assert.match(dsn!, /^Final-Recipient: rfc822; nobody@good\.test\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; mx\.good\.test\r\nDiagnostic-Code: smtp; 550 5\.1\.1 no such user\r$/m);
    assert.match(dsn!, /^Content-Type: text\/rfc822-headers\r\n[^]*^Subject: bounce\r$/m);
  });

  test('a remote sender gets the DSN through the queue, from the null sender', async () => {
    mx.policy = (rcpt) => (rcpt === 'nobody@good.test' ? { code: 550, message: '5.1.1 no such user' } : undefined);
    await enqueue('forwarded', ['nobody@good.test'], 'carol@good.test');
    const q = queue();
    await q.runOnce();
    assert.equal((await inbox()).length, 0);
    await q.runOnce();
    assert.equal(mx.received.length, 1);
    assert.equal(mx.received[0]?.from, '', 'MAIL FROM:<> (RFC 5321 4.5.5)');
    assert.deepEqual(mx.received[0]?.to, ['carol@good.test']);
    assert.match(mx.received[0]?.data ?? '', /Final-Recipient: rfc822; nobody@good\.test/);
  });

  test('a partly refused message is delivered to the others and bounced for the refused', async () => {
    mx.policy = (rcpt) => (rcpt === 'nobody@good.test' ? { code: 550, message: '5.1.1 no such user' } : undefined);
    const [entry] = await enqueue('partly', ['bob@good.test', 'nobody@good.test']);
    await queue().runOnce();
    assert.deepEqual(mx.received.map((m) => m.to), [['bob@good.test']]);
    assert.equal((await store.getQueueEntry(entry!.id))?.state, 'delivered');
    const [dsn] = await inbox();
    assert.match(dsn!, /Final-Recipient: rfc822; nobody@good\.test/);
    assert.doesNotMatch(dsn!, /Final-Recipient: rfc822; bob@good\.test/);
  });

  test('null MX fails at once; a bounce to the null sender is never sent', async () => {
    const [entry] = await enqueue('nullmx', ['bob@nullmx.test']);
    const [bounce] = await enqueue('nullsender', ['bob@nullmx.test'], '');
    await queue().runOnce();
    const failed = (await store.getQueueEntry(entry!.id))!;
    assert.equal(failed.state, 'failed');
    assert.equal(failed.attempts, 1);
    assert.match(failed.lastError ?? '', /null MX/);
    assert.equal((await store.getQueueEntry(bounce!.id))?.state, 'failed');
    const dsns = await inbox();
    assert.equal(dsns.length, 1, 'one DSN, for the message with a sender');
    assert.match(dsns[0]!, /Status: 5\.1\.10/);
    assert.equal((await store.listQueue({ state: 'queued' })).length, 0, 'nothing queued to the null sender');
  });

  test('two workers claiming at once never deliver one entry twice', async () => {
    for (let i = 0; i < 12; i++) await enqueue(`race-${i}`, [`user${i}@good.test`]);
    const a = queue({ holder: 'worker-a', concurrency: 4 });
    const b = queue({ holder: 'worker-b', concurrency: 4 });
    for (let round = 0; round < 6; round++) await Promise.all([a.runOnce(), b.runOnce()]);
    const subjects = mx.received.map((m) => /Subject: (\S+)/.exec(m.data)?.[1]).sort();
    assert.equal(subjects.length, 12);
    assert.equal(new Set(subjects).size, 12, 'no duplicates');
    assert.equal((await store.listQueue({ state: 'delivered' })).length, 12);
  });

  test('signs with the DKIM key of the sender domain', async () => {
    const record = await generateDkimKey(dir, 'example.org');
    assert.equal(record.name, 'steadymail._domainkey.example.org');
    assert.match(record.value, /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*$/);
    await enqueue('signed', ['bob@good.test']);
    await queue({ dataDir: dir }).runOnce();
    assert.match(mx.received[0]?.data ?? '', /^DKIM-Signature: [^]*d=example\.org;[^]*s=steadymail;/);
  });

  test('gives up after the maximum age with a DSN saying so (RFC 3463 4.4.7)', async () => {
    mx.policy = () => ({ code: 451, message: '4.3.0 try again later' });
    const [entry] = await enqueue('expired', ['bob@good.test']);
    await queue({ maxAgeMs: 60_000 }).runOnce();
    assert.equal((await store.getQueueEntry(entry!.id))?.state, 'failed');
    const [dsn] = await inbox();
    assert.match(dsn!, /^Status: 4\.4\.7\r$/m);
    assert.match(dsn!, /^Diagnostic-Code: smtp; gave up after 1 attempts: 451 4\.3\.0 try again later\r$/m);
  });

  test('one delay notice (Action: delayed) after hours of retries', async () => {
    mx.policy = () => ({ code: 451, message: '4.3.0 try again later' });
    const [entry] = await enqueue('late', ['bob@good.test']);
    for (let i = 0; i < 5; i++) await store.deferQueueEntry(entry!.id, '451 earlier', new Date());
    const q = queue();
    await q.runOnce();
    const [notice, ...rest] = await inbox();
    assert.equal(rest.length, 0);
    assert.match(notice!, /^Subject: Delayed Mail/m);
    assert.match(notice!, /^Action: delayed\r\nStatus: 4\.3\.0\r$/m);
    assert.match(notice!, /^Will-Retry-Until: /m);
    assert.equal((await store.getQueueEntry(entry!.id))?.state, 'queued');
    await store.retryQueueEntry(entry!.id);
    await q.runOnce();
    assert.equal((await inbox()).length, 1, 'only once');
  });

  test('a smarthost relay gets every message, with AUTH', async () => {
    const relay = await startMx({ user: 'relayuser', pass: 'secret' });
    try {
      await enqueue('relayed', ['bob@nullmx.test']);
      await queue({ relay: { host: '127.0.0.1', port: relay.port, auth: { user: 'relayuser', pass: 'secret' } } }).runOnce();
      assert.deepEqual(relay.logins, ['relayuser']);
      assert.deepEqual(relay.received.map((m) => m.to), [['bob@nullmx.test']], 'no MX lookup: the relay decides');
      assert.equal(mx.received.length, 0);
    } finally {
      await relay.close();
    }
  });

  test('start() polls and stop() waits for deliveries in flight', async () => {
    await enqueue('polled', ['bob@good.test']);
    const q = queue({ pollIntervalMs: 50 });
    q.start();
    for (let i = 0; i < 100 && mx.received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await q.stop(1000);
    assert.equal(mx.received.length, 1);
  });
});
