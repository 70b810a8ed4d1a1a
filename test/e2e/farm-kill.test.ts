// Farm mode: a node SIGKILLed in the middle of its work. Two `serve` nodes share one
// PostgreSQL database; the node holding an outbound queue entry (its delivery stalled at
// the remote MX's final reply) and receiving inbound mail is killed. The other node takes
// the entry over when its lease ends and delivers it once; every inbound message that
// got a 250 is readable exactly once through the surviving node.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import pg from 'pg';
import nodemailer from 'nodemailer';
import { ImapFlow } from 'imapflow';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';
import { startDns, startMx, type TestMx } from '../outbound/peers.js';
import { cli, serve, tempDataDir, type Running } from './serve.js';

let db: { url: string; drop: () => Promise<void> };
let dns: { server: string; close(): Promise<void> };
let mx: TestMx;
let dirs: string[] = [];
let nodes: Running[] = [];
let holds = 0;
let releaseHolds: () => void = () => {};
const released = new Promise<void>((resolve) => (releaseHolds = resolve));

before(async () => {
  db = await createTestDatabase();
  dns = await startDns({ mx: { 'good.test': [{ exchange: 'mx.good.test', priority: 10 }] }, a: { 'mx.good.test': ['127.0.0.1'] } });
  mx = await startMx(undefined, () => {
    holds++;
    return released;
  });
  dirs = [tempDataDir(), tempDataDir()];
  const farm = {
    STEADYMAIL_STORE_DRIVER: 'postgres',
    STEADYMAIL_STORE_URL: db.url,
    STEADYMAIL_DNS_SERVERS: dns.server,
    STEADYMAIL_OUTBOUND_PORT: String(mx.port),
    STEADYMAIL_OUTBOUND_LEASE_SECONDS: '3',
  };
  assert.equal((await cli(dirs[0]!, ['domain', 'add', 'farm.test'], undefined, farm)).code, 0);
  assert.equal((await cli(dirs[0]!, ['user', 'add', 'erin@farm.test', '--password-stdin'], 'erin-secret\n', farm)).code, 0);
  nodes = await Promise.all(dirs.map((d) => serve(d, farm, ['smtp', 'submission', 'imap'])));
});

after(async () => {
  releaseHolds();
  await Promise.all(nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null).map((n) => n.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await mx?.close();
  await dns?.close();
  await db?.drop();
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('SIGKILL of the node holding a queue lease and taking inbound mail loses nothing', async () => {
  const submission = nodemailer.createTransport({
    host: '127.0.0.1',
    port: nodes[0]!.ports.get('submission'),
    secure: false,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user: 'erin@farm.test', pass: 'erin-secret' },
  });
  const sent = await submission.sendMail({ from: 'erin@farm.test', to: 'bob@good.test', subject: 'leaves once', text: 'outbound\n' });
  assert.match(sent.response, /^250 /);
  await waitFor('the delivery to stall at the MX', () => (holds > 0 ? true : undefined), 15_000);

  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const holder = await waitFor(
    'the lease holder',
    async () => (await client.query<{ lease_holder: string | null }>("select lease_holder from queue where state = 'queued'")).rows[0]?.lease_holder ?? undefined,
    5000,
  );
  const pid = Number(holder.split(':')[1]);
  const victim = nodes.find((n) => n.child.pid === pid);
  assert.ok(victim, `the holder ${holder} is one of the nodes`);
  const survivor = nodes.find((n) => n !== victim)!;

  // Inbound mail into the victim while it is killed.
  const acknowledged: string[] = [];
  let stop = false;
  const sender = async (n: number) => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: victim.ports.get('smtp'), secure: false, ignoreTLS: true });
    for (let i = 0; !stop; i++) {
      try {
        const r = await transport.sendMail({ from: 'x@remote.test', to: 'erin@farm.test', subject: `in-${n}-${i}`, text: 'inbound\n' });
        if (/^250 /.test(r.response)) acknowledged.push(`in-${n}-${i}`);
      } catch {
        if (victim.child.exitCode !== null || victim.child.signalCode !== null) return;
      }
    }
  };
  const senders = [1, 2, 3].map(sender);
  await waitFor('some inbound deliveries', () => (acknowledged.length >= 10 ? true : undefined), 15_000);
  victim.child.kill('SIGKILL');
  await waitFor('the victim to die', () => (victim.child.signalCode === 'SIGKILL' ? true : undefined), 5000);
  stop = true;
  await Promise.all(senders);
  releaseHolds();

  // The survivor takes the entry over after the 3 s lease and delivers it once.
  await waitFor('the survivor to deliver', () => (mx.received.length > 0 ? true : undefined), 20_000);
  const state = await waitFor(
    'the entry to be marked delivered',
    async () => {
      const r = (await client.query<{ state: string; lease_holder: string | null }>('select state, lease_holder from queue')).rows;
      return r.length === 1 && r[0]!.state === 'delivered' ? r[0] : undefined;
    },
    10_000,
  );
  assert.equal(state.state, 'delivered');
  await client.end();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(mx.received.length, 1, 'delivered exactly once: the killed node never got its 250');
  assert.match(mx.received[0]!.data, /Subject: leaves once/);

  const imap = new ImapFlow({
    host: '127.0.0.1',
    port: survivor.ports.get('imap')!,
    secure: false,
    doSTARTTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user: 'erin@farm.test', pass: 'erin-secret' },
    logger: false,
  });
  await imap.connect();
  try {
    await imap.mailboxOpen('INBOX');
    const subjects = new Map<string, number>();
    for await (const m of imap.fetch('1:*', { envelope: true })) {
      const s = m.envelope?.subject ?? '';
      subjects.set(s, (subjects.get(s) ?? 0) + 1);
    }
    for (const s of acknowledged) assert.equal(subjects.get(s), 1, `${s} stored exactly once`);
  } finally {
    await imap.logout();
  }
  const farm = { STEADYMAIL_STORE_DRIVER: 'postgres', STEADYMAIL_STORE_URL: db.url };
  const check = await cli(survivor === nodes[0] ? dirs[0]! : dirs[1]!, ['check', '--json'], undefined, farm);
  assert.equal(check.code, 0, check.stdout + check.stderr);
});
