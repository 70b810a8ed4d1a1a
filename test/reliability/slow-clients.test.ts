// Slow and stuck clients against the real server:
// - slowloris: many connections on every port that dribble a command one byte at a
//   time, never finishing it, are closed once limits.command_timeout_seconds has
//   passed, while normal clients keep being served;
// - a client that asks for a large message and never reads does not make the server
//   buffer it: the server's memory stays bounded, and the others are unaffected.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import net from 'node:net';
import nodemailer from 'nodemailer';
import { cli, rssMiB, serve, tempDataDir, type Running } from '../e2e/serve.js';
import { Wire } from '../security/wire.js';

let dataDir: string;
let server: Running;
const port = (name: string) => server.ports.get(name)!;

before(async () => {
  dataDir = tempDataDir();
  assert.equal((await cli(dataDir, ['domain', 'add', 'slow.test'])).code, 0);
  assert.equal((await cli(dataDir, ['user', 'add', 'alice@slow.test', '--password-stdin'], 'alice-secret\n')).code, 0);
  server = await serve(
    dataDir,
    { STEADYMAIL_LIMITS_COMMAND_TIMEOUT_SECONDS: '2', STEADYMAIL_LIMITS_IDLE_TIMEOUT_SECONDS: '60', STEADYMAIL_LIMITS_MAX_CONNECTIONS_PER_IP: '200' },
    ['smtp', 'submission', 'pop3', 'imap', 'http', 'managesieve'],
  );
});

after(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});


/** A connection that sends `text` one byte every 250 ms and never ends the line. */
function dribbler(p: number, text: string): { closedAt: Promise<number>; stop(): void } {
  const socket = net.connect(p, '127.0.0.1');
  socket.on('data', () => undefined);
  socket.on('error', () => undefined);
  let i = 0;
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(text[i++ % text.length]!);
  }, 250);
  const closedAt = new Promise<number>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve(Date.now());
    }),
  );
  return {
    closedAt,
    stop() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

test('slowloris on every port: dribbled commands are cut off at the command timeout; normal clients are served meanwhile', async () => {
  const lines: Record<string, string> = {
    smtp: 'EHLO a-very-long-and-slow-hostname.example.org',
    submission: 'EHLO a-very-long-and-slow-hostname.example.org',
    pop3: 'USER alice@slow.test-and-then-some-more-bytes',
    imap: 'a1 LOGIN alice@slow.test alice-secret-and-more-bytes',
    managesieve: 'AUTHENTICATE "PLAIN" "dribbled-and-never-finished-initial-response"',
    http: 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  };
  const started = Date.now();
  const slow = Object.entries(lines).flatMap(([name, text]) => Array.from({ length: 20 }, () => ({ name, d: dribbler(port(name), text) })));
  try {
    // Served while the dribblers hang on.
    await new Promise((r) => setTimeout(r, 1000));
    const mx = nodemailer.createTransport({ host: '127.0.0.1', port: port('smtp'), secure: false, ignoreTLS: true });
    assert.match((await mx.sendMail({ from: 'x@remote.test', to: 'alice@slow.test', subject: 'during', text: 'x' })).response, /^250 /);
    assert.equal((await fetch(`http://127.0.0.1:${port('http')}/healthz`)).status, 200);
    const pop = await Wire.connect(port('pop3'));
    await pop.until(/^\+OK.*\r\n/m);
    pop.write('USER alice@slow.test\r\nPASS alice-secret\r\nSTAT\r\nQUIT\r\n');
    assert.match(await pop.until(/^\+OK \d+ \d+\r\n/m), /\+OK 1 /);

    const timeouts = await Promise.race([
      Promise.all(slow.map(async ({ name, d }) => ({ name, after: (await d.closedAt) - started }))),
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error('dribbling connections still open after 10 s')), 10_000)),
    ]);
    for (const { name, after } of timeouts) assert.ok(after >= 1500 && after < 8000, `${name} closed after ${after} ms`);
  } finally {
    for (const { d } of slow) d.stop();
  }
});

test('clients that never read a large RETR or FETCH do not make the server buffer it', async () => {
  // One 8 MiB message.
  const mx = nodemailer.createTransport({ host: '127.0.0.1', port: port('smtp'), secure: false, ignoreTLS: true });
  const big = 'x'.repeat(76) + '\r\n';
  await mx.sendMail({ from: 'x@remote.test', to: 'alice@slow.test', subject: 'big', text: big.repeat((8 * 1024 * 1024) / big.length) });
  const before = rssMiB(server.child.pid!);
  const stuck: net.Socket[] = [];
  try {
    for (let i = 0; i < 10; i++) {
      const p = net.connect(port('pop3'), '127.0.0.1');
      p.pause(); // never reads
      p.write('USER alice@slow.test\r\nPASS alice-secret\r\nRETR 2\r\n');
      stuck.push(p);
      const m = net.connect(port('imap'), '127.0.0.1');
      m.pause();
      m.write('a LOGIN alice@slow.test alice-secret\r\nb EXAMINE INBOX\r\nc FETCH 2 BODY.PEEK[]\r\n');
      stuck.push(m);
    }
    await new Promise((r) => setTimeout(r, 3000));
    const during = rssMiB(server.child.pid!);
    // 20 stuck readers of 8 MiB: buffering would cost 160 MiB or more.
    assert.ok(during - before < 80, `server RSS grew from ${before.toFixed(0)} to ${during.toFixed(0)} MiB`);
    const imap = await Wire.connect(port('imap'));
    await imap.until(/^\* OK.*\r\n/m);
    imap.write('a LOGIN alice@slow.test alice-secret\r\nb STATUS INBOX (MESSAGES)\r\n');
    assert.match(await imap.until(/^b OK.*\r\n/m), /MESSAGES 2/);
    imap.close();
  } finally {
    for (const s of stuck) s.destroy();
  }
});
