// Submitted mail to another domain leaves through the real server's outbound queue:
// `serve` (built into dist/) with [dns] pointing at a dns2 server on loopback and
// [outbound] port at an smtp-server MX on loopback.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { cli, serve, tempDataDir, type Running } from './serve.js';
import { startDns, startMx, type TestMx } from '../outbound/peers.js';

let dataDir: string;
let server: Running;
let dns: { server: string; close(): Promise<void> };
let mx: TestMx;

before(async () => {
  dns = await startDns({ mx: { 'good.test': [{ exchange: 'mx.good.test', priority: 10 }] }, a: { 'mx.good.test': ['127.0.0.1'] } });
  mx = await startMx();
  dataDir = tempDataDir();
  assert.equal((await cli(dataDir, ['domain', 'add', 'e2e.test'])).code, 0);
  assert.equal((await cli(dataDir, ['user', 'add', 'alice@e2e.test', '--password-stdin'], 'alice-secret\n')).code, 0);
  server = await serve(dataDir, { STEADYMAIL_DNS_SERVERS: dns.server, STEADYMAIL_OUTBOUND_PORT: String(mx.port) }, ['submission']);
});

after(async () => {
  const code = await server?.stop();
  await mx?.close();
  await dns?.close();
  rmSync(dataDir, { recursive: true, force: true });
  assert.equal(code, 0, 'serve exits 0 on SIGTERM');
});

test('a submitted message to a remote domain is delivered to its MX', async () => {
  const submission = nodemailer.createTransport({
    host: '127.0.0.1',
    port: server.ports.get('submission'),
    secure: false,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user: 'alice@e2e.test', pass: 'alice-secret' },
  });
  await submission.sendMail({ from: 'alice@e2e.test', to: 'bob@good.test', subject: 'Leaving', text: 'To the world.' });
  // The worker polls every 5 seconds.
  for (let i = 0; i < 100 && mx.received.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(mx.received.length, 1);
  assert.deepEqual(mx.received[0]?.to, ['bob@good.test']);
  assert.match(mx.received[0]?.data ?? '', /Subject: Leaving/);
  for (let i = 0; i < 20; i++) {
    const list = await cli(dataDir, ['queue', 'list', '--state', 'delivered']);
    if (/\tdelivered\t1\t-\talice@e2e\.test\tbob@good\.test\t/.test(list.stdout)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail('the queue entry is not marked delivered');
});
