// `[server] workers = 2`: the conversations that involve several sessions, with the
// sessions on different worker processes (the primary hands connections out in turn;
// the log lines' pids show where each landed), and a worker SIGKILLed under load.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import nodemailer from 'nodemailer';
import { ImapFlow } from 'imapflow';
import { cli, serve, tempDataDir, type Running } from './serve.js';

interface LogLine {
  msg?: string;
  pid?: number;
  user?: string;
  account?: string;
}

let dataDir: string;
let server: Running;
const lines: LogLine[] = [];

before(async () => {
  dataDir = tempDataDir();
  assert.equal((await cli(dataDir, ['domain', 'add', 'e2e.test'])).code, 0);
  for (const user of ['alice', 'bob', 'carol']) {
    assert.equal((await cli(dataDir, ['user', 'add', `${user}@e2e.test`, '--password-stdin'], `${user}-secret\n`)).code, 0);
  }
  server = await serve(
    dataDir,
    { STEADYMAIL_SERVER_WORKERS: '2', STEADYMAIL_LOG_LEVEL: 'debug', STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '3' },
    ['smtp', 'submission', 'pop3', 'imap', 'http'],
  );
  createInterface({ input: server.child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // not a log line
    }
  });
});

after(async () => {
  const code = await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  assert.equal(code, 0);
});

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const port = (name: string) => server.ports.get(name)!;

function imap(user: string): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: server.ports.get('imap')!,
    secure: false,
    doSTARTTLS: false,
    auth: { user: `${user}@e2e.test`, pass: `${user}-secret` },
    logger: false,
  });
}

/** The worker pids that logged an IMAP login for `account` so far. */
function imapLoginPids(account: string): Set<number> {
  return new Set(lines.filter((l) => l.msg === 'imap login' && l.account === account && l.pid).map((l) => l.pid!));
}

function deliver(to: string, subject: string) {
  const mx = nodemailer.createTransport({ host: '127.0.0.1', port: server.ports.get('smtp'), secure: false, ignoreTLS: true });
  return mx.sendMail({ from: 'sender@remote.test', to, subject, text: `${subject}\n` });
}

describe('sessions on different workers', () => {
  test('IDLE on both workers hears a delivery, and a flag change made by the other worker', async () => {
    const clients = [imap('alice'), imap('alice'), imap('alice'), imap('alice')];
    try {
      for (const c of clients) {
        await c.connect();
        await c.mailboxOpen('INBOX');
      }
      const pids = await waitFor('logins on both workers', () => imapLoginPids('alice@e2e.test').size === 2 && imapLoginPids('alice@e2e.test'));
      assert.equal(pids.size, 2);

      const exists = clients.map((c) => new Promise<number>((resolve) => c.on('exists', (d: { count: number }) => resolve(d.count))));
      for (const c of clients) void c.idle();
      await deliver('alice@e2e.test', 'to every worker');
      const counts = await Promise.race([Promise.all(exists), new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no EXISTS within 3 s')), 3000))]);
      assert.deepEqual(counts, [1, 1, 1, 1]);

      const flagged = clients.slice(1).map((c) => new Promise<string[]>((resolve) => c.on('flags', (d: { flags: Set<string> }) => resolve([...d.flags]))));
      await clients[0]!.messageFlagsAdd('1', ['\\Flagged']);
      const seen = await Promise.race([Promise.all(flagged), new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no FETCH FLAGS within 3 s')), 3000))]);
      for (const f of seen) assert.ok(f.includes('\\Flagged'));
    } finally {
      for (const c of clients) await c.logout().catch(() => c.close());
    }
  });

  test('concurrent APPENDs from both workers get distinct, gapless UIDs', async () => {
    const clients = [imap('bob'), imap('bob'), imap('bob'), imap('bob')];
    try {
      for (const c of clients) await c.connect();
      await waitFor('bob on both workers', () => imapLoginPids('bob@e2e.test').size === 2);
      const results = await Promise.all(
        clients.flatMap((c, i) =>
          Array.from({ length: 10 }, (_, j) => c.append('INBOX', `From: x@e2e.test\r\nSubject: ${i}-${j}\r\n\r\nbody\r\n`)),
        ),
      );
      const uids = results.map((r) => (r ? r.uid : 0)).sort((a, b) => (a ?? 0) - (b ?? 0));
      assert.deepEqual(uids, Array.from({ length: 40 }, (_, i) => i + 1));
    } finally {
      for (const c of clients) await c.logout().catch(() => c.close());
    }
  });

  test('one /metrics view of both workers: per-process counts add up, store figures are not doubled, probes run once', async () => {
    const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    const scrape = async () => (await fetch(`http://127.0.0.1:${port('http')}/metrics`)).text();
    const before = metric(await scrape(), 'steadymail_messages_received_total');
    // Separate connections: the deliveries land on both workers.
    for (let i = 0; i < 6; i++) await deliver('carol@e2e.test', `counted ${i}`);
    const receivers = new Set(lines.filter((l) => l.msg === 'smtp delivered' && l.pid).map((l) => l.pid));
    for (let i = 0; i < 4; i++) {
      const text = await scrape();
      assert.equal(metric(text, 'steadymail_messages_received_total'), before + 6, 'every worker\'s deliveries, whichever worker answers');
      assert.equal(metric(text, 'steadymail_store_accounts'), 3, 'read from the shared store once, not summed');
    }
    assert.equal(receivers.size, 2, 'the deliveries were made by both workers');
    const probers = new Set(lines.filter((l) => / is now /.test(l.msg ?? '') && l.pid).map((l) => l.pid));
    assert.equal(probers.size, 1, 'one worker probes for the node');
  });

  test('POP3: the maildrop lock holds across workers ([IN-USE])', async () => {
    const holders: net.Socket[] = [];
    try {
      // Successive connections alternate between the workers; hold the maildrop on one.
      const first = await pop3Session('carol', 'carol-secret');
      holders.push(first.socket);
      assert.match(first.reply, /^\+OK/);
      for (let i = 0; i < 3; i++) {
        const other = await pop3Session('carol', 'carol-secret');
        holders.push(other.socket);
        assert.match(other.reply, /^-ERR \[IN-USE\]/);
      }
      const inUse = new Set(lines.filter((l) => l.msg === 'POP3 maildrop in use' && l.user === 'carol@e2e.test').map((l) => l.pid));
      const loggedIn = new Set(lines.filter((l) => l.msg === 'POP3 login' && l.user === 'carol@e2e.test').map((l) => l.pid));
      const pids = new Set([...inUse, ...loggedIn]);
      assert.equal(pids.size, 2, 'the lock was held on one worker and refused on the other');
    } finally {
      for (const s of holders) s.destroy();
    }
  });
});

async function pop3Session(user: string, password: string): Promise<{ socket: net.Socket; reply: string }> {
  const socket = net.connect(server.ports.get('pop3')!, '127.0.0.1');
  const rl = createInterface({ input: socket });
  const replies: string[] = [];
  const waiting: Array<(l: string) => void> = [];
  rl.on('line', (l) => {
    const w = waiting.shift();
    if (w) w(l);
    else replies.push(l);
  });
  const next = () => new Promise<string>((resolve) => (replies.length > 0 ? resolve(replies.shift()!) : waiting.push(resolve)));
  await next();
  socket.write(`USER ${user}@e2e.test\r\n`);
  await next();
  socket.write(`PASS ${password}\r\n`);
  return { socket, reply: await next() };
}

describe('a worker killed under load', () => {
  test('SIGKILL of a worker: every acknowledged message is stored exactly once, and a new worker takes over', async () => {
    const workerPids = [...new Set(lines.filter((l) => l.msg?.includes('listening on') && l.pid).map((l) => l.pid!))];
    assert.equal(workerPids.length, 2);
    const acknowledged: string[] = [];
    let stop = false;
    const sender = async (n: number) => {
      for (let i = 0; !stop; i++) {
        const subject = `load-${n}-${i}`;
        try {
          const r = await deliver('alice@e2e.test', subject);
          if (/^250 /.test(r.response)) acknowledged.push(subject);
        } catch {
          // A connection cut by the kill: not acknowledged, the sender would retry.
        }
      }
    };
    const senders = [1, 2, 3, 4].map((n) => sender(n));
    await waitFor('some deliveries', () => acknowledged.length >= 20, 20_000);
    process.kill(workerPids[0]!, 'SIGKILL');
    await waitFor('a replacement worker', () => lines.some((l) => l.msg === 'worker died; starting a new one'), 5000);
    const before = acknowledged.length;
    await waitFor('deliveries after the kill', () => acknowledged.length >= before + 20, 20_000);
    await waitFor(
      'the new worker listening',
      () => new Set(lines.filter((l) => l.msg?.includes('listening on') && l.pid && !workerPids.includes(l.pid)).map((l) => l.pid)).size === 1,
      10_000,
    );
    stop = true;
    await Promise.all(senders);

    const client = imap('alice');
    try {
      await client.connect();
      await client.mailboxOpen('INBOX');
      const subjects: string[] = [];
      for await (const m of client.fetch('1:*', { envelope: true })) subjects.push(m.envelope?.subject ?? '');
      const counts = new Map<string, number>();
      for (const s of subjects) counts.set(s, (counts.get(s) ?? 0) + 1);
      for (const s of acknowledged) assert.equal(counts.get(s), 1, `${s} stored exactly once`);
    } finally {
      await client.logout().catch(() => client.close());
    }
    const check = await cli(dataDir, ['check', '--json']);
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });
});
