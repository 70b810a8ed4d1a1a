// A real `serve` SIGKILLed with its outbound queue busy, then started again on the same
// data directory: two messages the MX acknowledged (and the queue marked delivered)
// before the kill, one stalled at the MX's final reply while the process died. After
// the restart the stalled one is delivered once, the others never again, nothing lost.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { cli, serve, tempDataDir, type Running } from './serve.js';
import { startDns, startMx, type TestMx } from '../outbound/peers.js';

let dataDir: string;
let server: Running | undefined;
let dns: { server: string; close(): Promise<void> };
let mx: TestMx;
let held = 0;
let release: () => void = () => {};
const released = new Promise<void>((resolve) => (release = resolve));

const env = () => ({ STEADYMAIL_DNS_SERVERS: dns.server, STEADYMAIL_OUTBOUND_PORT: String(mx.port), STEADYMAIL_OUTBOUND_LEASE_SECONDS: '3' });

before(async () => {
  dns = await startDns({ mx: { 'good.test': [{ exchange: 'mx.good.test', priority: 10 }] }, a: { 'mx.good.test': ['127.0.0.1'] } });
  // The first time "slow" arrives, the final reply waits until the sender is dead.
  mx = await startMx(undefined, (data) => (/^Subject: slow\r$/m.test(data) && held++ === 0 ? released : undefined));
  dataDir = tempDataDir();
  assert.equal((await cli(dataDir, ['domain', 'add', 'e2e.test'])).code, 0);
  assert.equal((await cli(dataDir, ['user', 'add', 'alice@e2e.test', '--password-stdin'], 'alice-secret\n')).code, 0);
  server = await serve(dataDir, env(), ['submission']);
});

after(async () => {
  release();
  if (server && server.child.exitCode === null && server.child.signalCode === null) await server.stop();
  await mx?.close();
  await dns?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function waitFor(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function states(): Promise<string[]> {
  const list = await cli(dataDir, ['queue', 'list']);
  return list.stdout
    .split('\n')
    .filter((l) => l.trim() !== '' && /^\d+\t/.test(l))
    .map((l) => l.split('\t')[1] ?? '')
    .sort();
}

test('SIGKILL mid-delivery and a restart: no message lost, no acknowledged message sent twice', async () => {
  const submission = nodemailer.createTransport({
    host: '127.0.0.1',
    port: server!.ports.get('submission'),
    secure: false,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user: 'alice@e2e.test', pass: 'alice-secret' },
  });
  for (const [subject, to] of [
    ['slow', 'bob@good.test'],
    ['fast-1', 'carol@good.test'],
    ['fast-2', 'dave@good.test'],
  ] as const) {
    const r = await submission.sendMail({ from: 'alice@e2e.test', to, subject, text: `${subject}\n` });
    assert.match(r.response, /^250 /);
  }
  await waitFor('the two fast ones delivered and committed, the slow one stalled', async () => held === 1 && mx.received.length === 2 && (await states()).join() === 'delivered,delivered,queued', 20_000);

  server!.child.kill('SIGKILL');
  await waitFor('serve to die', () => server!.child.signalCode === 'SIGKILL', 5000);
  await waitFor('the MX to see its connections closed', () => mx.open === 0, 5000);
  release();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(mx.received.length, 2, 'the MX never acknowledged the stalled message');

  server = await serve(dataDir, env(), ['submission']);
  // The dead process's lease (3 s) runs out, the next poll (5 s) takes the entry.
  await waitFor('the stalled message delivered after the restart', async () => mx.received.length === 3 && (await states()).join() === 'delivered,delivered,delivered', 30_000);
  await new Promise((r) => setTimeout(r, 6000));
  const subjects = mx.received.map((m) => /^Subject: (\S+)\r$/m.exec(m.data)?.[1]).sort();
  assert.deepEqual(subjects, ['fast-1', 'fast-2', 'slow'], 'each exactly once, also after another poll');
  assert.equal(held, 2, 'the slow message reached the MX twice; only the second transaction completed');
});
