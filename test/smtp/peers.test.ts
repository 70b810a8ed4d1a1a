// Independent clients: Debian's swaks and curl talk to the listeners as real MTAs
// and MUAs would, and their exit status and transcript tell what they saw.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PASSWORD, inboxOf, sampleMessage, startListener, testStore, type TestEnv } from './harness.js';
import { startDns, type TestDns } from './dns-server.js';

let env: TestEnv;
let dns: TestDns;
let mx: { port: number; close(): Promise<void> };
let sub: { port: number; close(): Promise<void> };
let subs: { port: number; close(): Promise<void> };

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: stdout + stderr });
    });
  });
}

before(async () => {
  env = await testStore();
  dns = await startDns({});
  mx = await startListener('inbound', env.store, { dnsServers: [dns.server] });
  sub = await startListener('submission', env.store);
  subs = await startListener('submissions', env.store);
});
after(async () => {
  await mx.close();
  await sub.close();
  await subs.close();
  await dns.close();
  await env.close();
});

test('swaks delivers to the MX with pipelining and STARTTLS', async () => {
  const r = await run('swaks', ['--server', '127.0.0.1', '--port', String(mx.port), '--from', 'sender@remote.test', '--to', 'bob@example.org', '--ehlo', 'swaks.remote.test', '--pipeline', '--tls', '--header', 'Subject: via-swaks']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /250 2\.0\.0 Ok: message accepted/);
  const m = (await inboxOf(env.store, 'bob@example.org')).at(-1)!;
  assert.match((await env.store.blobs.get(m.blobId)).toString(), /Subject: via-swaks/);
});

test('swaks sees 550 5.1.1 for an unknown user', async () => {
  const r = await run('swaks', ['--server', '127.0.0.1', '--port', String(mx.port), '--from', 'sender@remote.test', '--to', 'ghost@example.org', '--quit-after', 'RCPT']);
  assert.notEqual(r.code, 0);
  assert.match(r.out, /<\*\* 550 5\.1\.1 No such user here/);
});

test('swaks submits with STARTTLS and AUTH LOGIN; wrong password gets 535', async () => {
  const ok = await run('swaks', ['--server', '127.0.0.1', '--port', String(sub.port), '--tls', '--auth', 'LOGIN', '--auth-user', 'alice@example.org', '--auth-password', PASSWORD, '--from', 'alice@example.org', '--to', 'bob@example.org', '--header', 'Subject: swaks-submitted']);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /235 2\.7\.0/);
  const bad = await run('swaks', ['--server', '127.0.0.1', '--port', String(sub.port), '--tls', '--auth', 'PLAIN', '--auth-user', 'carol@example.org', '--auth-password', 'nope', '--from', 'carol@example.org', '--to', 'bob@example.org']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.out, /535 5\.7\.8/);
});

test('curl delivers to the MX and submits over implicit TLS', async () => {
  const dir = await mkdtemp(join(env.dir, 'curl-'));
  const file = join(dir, 'msg.eml');
  await writeFile(file, sampleMessage('via-curl'));
  const inbound = await run('curl', ['-sS', '-v', `smtp://127.0.0.1:${mx.port}`, '--mail-from', 'sender@remote.test', '--mail-rcpt', 'alice@example.org', '--upload-file', file]);
  assert.equal(inbound.code, 0, inbound.out);
  const submitted = await run('curl', ['-sS', '-v', '-k', `smtps://127.0.0.1:${subs.port}`, '--user', `alice@example.org:${PASSWORD}`, '--mail-from', 'alice@example.org', '--mail-rcpt', 'bob@example.org', '--mail-rcpt', 'far@remote.test', '--upload-file', file]);
  assert.equal(submitted.code, 0, submitted.out);
  assert.match(submitted.out, /< 250 2\.0\.0 Ok: message accepted/);
  assert.ok((await env.store.listQueue()).some((q) => q.recipients.includes('far@remote.test')));
  const refused = await run('curl', ['-sS', '-k', `smtps://127.0.0.1:${subs.port}`, '--user', `alice@example.org:${PASSWORD}`, '--mail-from', 'bob@example.org', '--mail-rcpt', 'bob@example.org', '--upload-file', file]);
  assert.notEqual(refused.code, 0);
});
