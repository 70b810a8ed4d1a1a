// How the queue talks to remote hosts: STARTTLS (opportunistic, and verified under
// MTA-STS), SMTPUTF8 and 8BITMIME negotiation with the downgrades, several messages over
// one connection, and the figures it reports — against loopback smtp-server peers, a
// dns2 server and an HTTPS policy server whose certificate a private CA issued.

import { describe, test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { createOutboundQueue, generateDkimKey, type OutboundQueue, type OutboundQueueOptions } from '../../src/smtp/queue/index.js';
import { MessageCounters } from '../../src/monitor/counters.js';
import { createMetrics } from '../../src/monitor/metrics.js';
import { startDns, startMx, type DnsZone, type MxOptions, type TestMx } from './peers.js';
import { makeCa, type TestCa } from './certs.js';

const silentLogger = { info() {}, warn() {}, error() {}, debug() {} };
type Authenticate = (input: Buffer, opts: Record<string, unknown>) => Promise<{ dkim?: { results?: Array<{ status?: { result?: string } }> } }>;
const { authenticate } = createRequire(import.meta.url)('mailauth') as { authenticate: Authenticate };

const POLICIES: Record<string, string> = {
  'mta-sts.sts.test': 'version: STSv1\r\nmode: enforce\r\nmx: mx.sts.test\r\nmax_age: 86400\r\n',
  'mta-sts.mismatch.test': 'version: STSv1\nmode: enforce\nmx: *.elsewhere.test\nmax_age: 86400\n',
  'mta-sts.testing.test': 'version: STSv1\nmode: testing\nmx: mx.testing.test\nmax_age: 86400\n',
};

describe('outbound delivery: TLS, SMTPUTF8/8BITMIME, connection reuse, MTA-STS', () => {
  const zone: DnsZone = {
    mx: {
      'good.test': [{ exchange: 'mx.good.test', priority: 10 }],
      'sts.test': [{ exchange: 'mx.sts.test', priority: 10 }],
      'mismatch.test': [{ exchange: 'mx.other.test', priority: 10 }],
      'testing.test': [{ exchange: 'mx.other.test', priority: 10 }],
    },
    a: {
      'mx.good.test': ['127.0.0.1'],
      'mx.sts.test': ['127.0.0.1'],
      'mx.other.test': ['127.0.0.1'],
      'mta-sts.sts.test': ['127.0.0.1'],
      'mta-sts.mismatch.test': ['127.0.0.1'],
      'mta-sts.testing.test': ['127.0.0.1'],
    },
    txt: {
      '_mta-sts.sts.test': ['v=STSv1; id=20261128;'],
      '_mta-sts.mismatch.test': ['v=STSv1; id=1'],
      '_mta-sts.testing.test': ['v=STSv1; id=1'],
    },
  };
  let dns: { server: string; close(): Promise<void> };
  let certDir: string;
  let ca: TestCa;
  let policyServer: Server;
  let policyPort: number;
  let policyFetches: string[];
  let policyBroken = false;
  let dir: string;
  let store: Store;
  let counters: MessageCounters;
  const peers: TestMx[] = [];
  const queues: OutboundQueue[] = [];

  before(async () => {
    dns = await startDns(zone);
    certDir = await mkdtemp(join(tmpdir(), 'steadymail-outbound-ca-'));
    ca = makeCa(certDir);
    policyServer = createServer(ca.issue(Object.keys(POLICIES)), (req, res) => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      policyFetches.push(`${host}${req.url ?? ''}`);
      const body = POLICIES[host];
      if (policyBroken || body === undefined || req.url !== '/.well-known/mta-sts.txt') {
        res.writeHead(500).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
    });
    await new Promise<void>((resolve) => policyServer.listen(0, '127.0.0.1', resolve));
    policyPort = (policyServer.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise((r) => policyServer.close(r));
    await dns.close();
    await rm(certDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'steadymail-outbound-'));
    store = await openStore({ driver: 'sqlite', dataDir: dir });
    await store.createDomain('example.org');
    await store.createAccount({ address: 'alice@example.org', passwordHash: 'x' });
    counters = new MessageCounters();
    policyFetches = [];
    policyBroken = false;
  });
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.stop(1000)));
    await Promise.all(peers.splice(0).map((p) => p.close()));
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function peer(options: MxOptions = {}): Promise<TestMx> {
    const mx = await startMx(undefined, undefined, options);
    peers.push(mx);
    return mx;
  }

  function queue(mx: TestMx, extra: Partial<OutboundQueueOptions> = {}) {
    const q = createOutboundQueue({
      store,
      logger: silentLogger,
      hostname: 'mail.example.org',
      dnsServers: [dns.server],
      port: mx.port,
      timeoutMs: 5000,
      extraCa: ca.cert,
      mtaSts: { port: policyPort, timeoutMs: 5000, maxBytes: 65536 },
      observer: counters.outbound,
      ...extra,
    });
    queues.push(q);
    return q;
  }

  async function enqueue(raw: string | Buffer, recipients: string[], mailFrom = 'alice@example.org') {
    const blob = await store.blobs.put(Buffer.isBuffer(raw) ? raw : Buffer.from(raw));
    const [entry] = await store.enqueueOutbound({ blobId: blob.id, size: blob.size, mailFrom, recipients });
    return entry!;
  }

  const simple = (subject: string, to = 'bob@good.test') => `From: <alice@example.org>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.org>\r\n\r\nHello.\r\n`;

  async function inbox(): Promise<string[]> {
    const alice = (await store.getAccount('alice@example.org'))!;
    const box = (await store.getMailbox(alice.id, 'INBOX'))!;
    return Promise.all((await store.listMessages(box.id)).map(async (m) => (await store.blobs.get(m.blobId)).toString()));
  }

  async function metric(name: string, labels: Record<string, string>): Promise<number> {
    const metrics = createMetrics(store, counters);
    const families = await metrics.registry.getMetricsAsJSON();
    const values = families.flatMap((f) => f.values.map((v) => ({ ...v, name: (v as { metricName?: string }).metricName ?? f.name })));
    const value = values.find((v) => v.name === name && Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return value?.value ?? 0;
  }

  describe('TLS', () => {
    test('STARTTLS with a self-signed certificate: opportunistic delivery runs over TLS', async () => {
      const mx = await peer({ starttls: 'self-signed' });
      const entry = await enqueue(simple('tls'), ['bob@good.test']);
      await queue(mx).runOnce();
      assert.equal((await store.getQueueEntry(entry.id))?.state, 'delivered');
      assert.equal(mx.received.length, 1);
      assert.equal(mx.received[0]?.secure, true, 'the peer saw a TLS session');
    });

    test('a failing STARTTLS handshake falls back to plaintext when no policy forbids it', async () => {
      const mx = await peer({ starttls: 'broken' });
      const entry = await enqueue(simple('fallback'), ['bob@good.test']);
      await queue(mx).runOnce();
      const done = await store.getQueueEntry(entry.id);
      assert.equal(done?.state, 'delivered', done?.lastError ?? '');
      assert.equal(mx.received[0]?.secure, false);
      assert.equal(mx.connections, 2, 'one connection whose handshake failed, then one in plaintext');
    });
  });

  describe('connection reuse', () => {
    test('several entries for one host go over one connection, RSET between', async () => {
      const mx = await peer();
      for (let i = 0; i < 5; i++) await enqueue(simple(`reuse-${i}`, `user${i}@good.test`), [`user${i}@good.test`]);
      assert.equal(await queue(mx, { maxPerDestination: 1 }).runOnce(), 5);
      assert.equal(mx.received.length, 5);
      assert.equal(mx.connections, 1, 'one connection for five messages');
      assert.deepEqual(new Set(mx.received.map((r) => r.connection)), new Set([1]));
      assert.equal((await store.listQueue({ state: 'delivered' })).length, 5);
      assert.equal(await metric('steadymail_outbound_connections_total', { kind: 'opened' }), 1);
      assert.equal(await metric('steadymail_outbound_connections_total', { kind: 'reused' }), 4);
      assert.equal(await metric('steadymail_outbound_deliveries_total', { result: 'delivered' }), 5);
      assert.equal(await metric('steadymail_outbound_delivery_seconds_count', { result: 'delivered' }), 5);
    });

    test('max_per_destination bounds the connections open at once to one destination', async () => {
      const mx = await peer();
      for (let i = 0; i < 8; i++) await enqueue(simple(`limit-${i}`, `user${i}@good.test`), [`user${i}@good.test`]);
      await queue(mx, { maxPerDestination: 2 }).runOnce();
      assert.equal(mx.received.length, 8);
      assert.ok(mx.maxOpen <= 2, `at most 2 connections at once, saw ${mx.maxOpen}`);
      assert.ok(mx.connections <= 2, `connections reused, saw ${mx.connections}`);
    });

    test('an idle connection is reused by the next round, and closed when the queue stops', async () => {
      const mx = await peer();
      const q = queue(mx, { idleConnectionMs: 10_000 });
      await enqueue(simple('first'), ['bob@good.test']);
      await q.runOnce();
      await enqueue(simple('second'), ['bob@good.test']);
      await q.runOnce();
      assert.deepEqual(mx.received.map((r) => r.connection), [1, 1]);
      await q.stop(1000);
      for (let i = 0; i < 100 && mx.open > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(mx.open, 0, 'QUIT on stop');
    });
  });

  describe('SMTPUTF8 and 8BITMIME', () => {
    const utf8Message = (to: string) => Buffer.from(`From: <alice@example.org>\r\nTo: <${to}>\r\nSubject: Grüße aus Köln\r\nMessage-ID: <utf8@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nSchöne Grüße.\r\n`, 'utf8');

    test('a peer with SMTPUTF8 and 8BITMIME gets the message as it is, with both parameters', async () => {
      const mx = await peer();
      const raw = utf8Message('jörg@good.test');
      const entry = await enqueue(raw, ['jörg@good.test']);
      await queue(mx).runOnce();
      assert.equal((await store.getQueueEntry(entry.id))?.state, 'delivered');
      const got = mx.received[0]!;
      assert.deepEqual(got.to, ['jörg@good.test']);
      assert.equal(got.args.SMTPUTF8, true);
      assert.equal(got.args.BODY, '8BITMIME');
      assert.deepEqual(got.raw, raw, 'byte for byte');
    });

    test('UTF-8 only in the header to a peer with SMTPUTF8: the parameter is sent all the same (RFC 6531 3.4)', async () => {
      const mx = await peer();
      await enqueue(utf8Message('bob@good.test'), ['bob@good.test']);
      await queue(mx).runOnce();
      assert.equal(mx.received[0]?.args.SMTPUTF8, true);
      assert.match(mx.received[0].data, /^Subject: Grüße aus Köln\r$/m);
    });

    test('a UTF-8 address to a peer without SMTPUTF8 fails with 5.6.7 and a DSN', async () => {
      const mx = await peer({ hideSMTPUTF8: true });
      const entry = await enqueue(utf8Message('jörg@good.test'), ['jörg@good.test']);
      await queue(mx).runOnce();
      const failed = (await store.getQueueEntry(entry.id))!;
      assert.equal(failed.state, 'failed');
      assert.match(failed.lastError ?? '', /SMTPUTF8/);
      assert.equal(mx.received.length, 0);
      const [dsn] = await inbox();
      assert.match(dsn!, /^Status: 5\.6\.7\r$/m);
      assert.equal(await metric('steadymail_outbound_deliveries_total', { result: 'bounced' }), 1);
    });

    test('UTF-8 in the Subject only, to a peer without SMTPUTF8 or 8BITMIME: encoded words and quoted-printable, DKIM still valid', async () => {
      const record = await generateDkimKey(dir, 'example.org');
      const mx = await peer({ hideSMTPUTF8: true, hide8BITMIME: true });
      await enqueue(utf8Message('bob@good.test'), ['bob@good.test']);
      await queue(mx, { dataDir: dir }).runOnce();
      const got = mx.received[0]!;
      assert.deepEqual(got.args, {}, 'neither SMTPUTF8 nor BODY=8BITMIME');
      assert.ok(got.raw.every((b) => b < 0x80), 'seven-bit on the wire');
      assert.match(got.data, /^Subject: =\?UTF-8\?Q\?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln\?=\r$/m);
      assert.match(got.data, /^Content-Transfer-Encoding: quoted-printable\r$/m);
      assert.doesNotMatch(got.data, /^Content-Transfer-Encoding: 8bit/m);
      assert.match(got.data, /\r\n\r\nSch=C3=B6ne Gr=C3=BC=C3=9Fe\.\r\n$/);
      const res = await authenticate(got.raw, {
        ip: '127.0.0.1',
        helo: 'mail.example.org',
        sender: 'alice@example.org',
        mta: 'mx.good.test',
        resolver: async (name: string, type: string) => {
          if (type === 'TXT' && name === record.name) return [[record.value]];
          throw Object.assign(new Error(`no ${type} ${name}`), { code: 'ENOTFOUND' });
        },
      });
      assert.equal(res.dkim?.results?.[0]?.status?.result, 'pass', 'signed after the conversion');
    });

    test('an 8-bit multipart to a peer without 8BITMIME: every 8-bit part re-encoded, the rest untouched', async () => {
      const mx = await peer({ hide8BITMIME: true });
      const raw = Buffer.concat([
        Buffer.from('From: <alice@example.org>\r\nTo: <bob@good.test>\r\nSubject: parts\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nK'),
        Buffer.from([0xf6]),
        Buffer.from('ln\r\n--b1\r\nContent-Type: application/octet-stream\r\n\r\n'),
        Buffer.from([0x00, 0xff, 0x80, 0x41]),
        Buffer.from('\r\n--b1\r\nContent-Type: text/plain\r\n\r\nplain ascii\r\n--b1--\r\n'),
      ]);
      await enqueue(raw, ['bob@good.test']);
      await queue(mx).runOnce();
      const got = mx.received[0]!;
      assert.deepEqual(got.args, {});
      assert.ok(got.raw.every((b) => b < 0x80));
      assert.match(got.data, /charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nK=F6ln\r\n--b1\r\n/);
      assert.match(got.data, /Content-Type: application\/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAP\+AQQ==\r\n/);
      assert.match(got.data, /Content-Type: text\/plain\r\n\r\nplain ascii\r\n--b1--\r\n$/);
    });
  });

  describe('MTA-STS', () => {
    test('enforce: delivered over verified TLS to the matching MX; the policy is cached in the store', async () => {
      const mx = await peer({ starttls: ca.issue(['mx.sts.test']) });
      const entry = await enqueue(simple('sts', 'bob@sts.test'), ['bob@sts.test']);
      const q = queue(mx);
      await q.runOnce();
      assert.equal((await store.getQueueEntry(entry.id))?.state, 'delivered', (await store.getQueueEntry(entry.id))?.lastError ?? '');
      assert.equal(mx.received[0]?.secure, true);
      const cached = await store.getMtaStsPolicy('sts.test');
      assert.deepEqual([cached?.id, cached?.mode, cached?.mx, cached?.maxAge], ['20261128', 'enforce', ['mx.sts.test'], 86400]);
      assert.deepEqual(policyFetches, ['mta-sts.sts.test/.well-known/mta-sts.txt']);
      await enqueue(simple('sts2', 'bob@sts.test'), ['bob@sts.test']);
      await q.runOnce();
      assert.equal(policyFetches.length, 1, 'the same id is not fetched again');
      assert.equal(mx.received.length, 2);
    });

    test('enforce: a certificate the MX name cannot be verified with defers, never plaintext', async () => {
      const selfSigned = await peer({ starttls: 'self-signed' });
      const entry = await enqueue(simple('untrusted', 'bob@sts.test'), ['bob@sts.test']);
      await queue(selfSigned).runOnce();
      const deferred = (await store.getQueueEntry(entry.id))!;
      assert.equal(deferred.state, 'queued');
      assert.match(deferred.lastError ?? '', /MTA-STS policy of sts\.test .*verified TLS/);
      assert.equal(selfSigned.received.length, 0);

      const wrongName = await peer({ starttls: ca.issue(['mx.other.test']) });
      await store.retryQueueEntry(entry.id);
      await queue(wrongName).runOnce();
      assert.match((await store.getQueueEntry(entry.id))?.lastError ?? '', /mx\.sts\.test/);
      assert.equal(wrongName.received.length, 0);
      assert.equal(await metric('steadymail_outbound_mta_sts_failures_total', { mode: 'enforce', reason: 'tls' }), 2);
    });

    test('enforce: a failing STARTTLS handshake is not followed by plaintext', async () => {
      const mx = await peer({ starttls: 'broken' });
      const entry = await enqueue(simple('broken', 'bob@sts.test'), ['bob@sts.test']);
      await queue(mx).runOnce();
      assert.equal((await store.getQueueEntry(entry.id))?.state, 'queued');
      assert.equal(mx.received.length, 0);
      assert.equal(mx.connections, 1);
    });

    test('enforce: no MX matching the policy defers with the reason', async () => {
      const mx = await peer({ starttls: ca.issue(['mx.other.test']) });
      const entry = await enqueue(simple('mismatch', 'bob@mismatch.test'), ['bob@mismatch.test']);
      await queue(mx).runOnce();
      const deferred = (await store.getQueueEntry(entry.id))!;
      assert.equal(deferred.state, 'queued');
      assert.match(deferred.lastError ?? '', /MTA-STS policy of mismatch\.test \(enforce\) matches no MX host/);
      assert.equal(mx.connections, 0);
    });

    test('testing: delivered anyway, the failure counted', async () => {
      const mx = await peer();
      const entry = await enqueue(simple('testing', 'bob@testing.test'), ['bob@testing.test']);
      await queue(mx).runOnce();
      assert.equal((await store.getQueueEntry(entry.id))?.state, 'delivered');
      assert.equal(await metric('steadymail_outbound_mta_sts_failures_total', { mode: 'testing', reason: 'mx_mismatch' }), 1);
      assert.equal(await metric('steadymail_outbound_mta_sts_failures_total', { mode: 'testing', reason: 'tls' }), 1);
    });

    test('a cached policy keeps applying when its refresh fails', async () => {
      const good = await peer({ starttls: ca.issue(['mx.sts.test']) });
      await enqueue(simple('cache1', 'bob@sts.test'), ['bob@sts.test']);
      await queue(good).runOnce();
      assert.equal(good.received.length, 1);
      // A new policy id is published, but its web server fails.
      zone.txt!['_mta-sts.sts.test'] = ['v=STSv1; id=20261129;'];
      policyBroken = true;
      try {
        const plain = await peer();
        const entry = await enqueue(simple('cache2', 'bob@sts.test'), ['bob@sts.test']);
        await queue(plain).runOnce();
        assert.equal((await store.getQueueEntry(entry.id))?.state, 'queued', 'still enforced: a peer without TLS gets nothing');
        assert.equal(plain.received.length, 0);
        assert.equal((await store.getMtaStsPolicy('sts.test'))?.id, '20261128');
        assert.equal(await metric('steadymail_outbound_mta_sts_failures_total', { mode: 'enforce', reason: 'fetch' }), 1);
      } finally {
        zone.txt!['_mta-sts.sts.test'] = ['v=STSv1; id=20261128;'];
      }
    });

    test('without a policy (no TXT record) nothing is fetched', async () => {
      const mx = await peer();
      await enqueue(simple('nopolicy'), ['bob@good.test']);
      await queue(mx).runOnce();
      assert.equal(mx.received.length, 1);
      assert.deepEqual(policyFetches, []);
    });
  });
});
