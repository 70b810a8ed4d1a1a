// POP3 benchmark: RETR throughput (MB/s and messages/s) with 1 and 50
// concurrent sessions, each over its own mailbox of 1,000 messages, and login
// latency (USER/PASS with production argon2id parameters).
//
// Clients run in the same process as the server (one event loop for both),
// so the numbers are a floor for the server alone. Run: `node --import tsx bench/pop3.ts`
// (rewrites the POP3 section of docs/benchmarks.md) or through `npm run bench`.

import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash } from '@node-rs/argon2';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import { createPop3Server } from '../src/pop3/index.js';
import { LoginThrottle } from '../src/auth/authenticator.js';
import { machineLine } from './machine.js';

const MESSAGES = 1000;
const PASSWORD = 'bench password';
const silent = { info() {}, warn() {}, error() {}, debug() {} };

/** A minimal POP3 client: one command at a time, counts reply bytes without keeping them. */
export class BenchClient {
  private pending: { multi: boolean; resolve: (bytes: number) => void } | undefined;
  private buf = '';
  private count = 0;
  private tail = '';
  private inBody = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
  }

  static async connect(port: number): Promise<BenchClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const c = new BenchClient(socket);
    await c.expect(false);
    return c;
  }

  private onData(d: Buffer): void {
    const p = this.pending;
    if (!p) return;
    if (!this.inBody) {
      this.buf += d.toString('latin1');
      const nl = this.buf.indexOf('\r\n');
      if (nl < 0) return;
      const status = this.buf.slice(0, nl);
      const rest = this.buf.slice(nl + 2);
      this.buf = '';
      if (!status.startsWith('+OK')) throw new Error(`unexpected reply: ${status}`);
      if (!p.multi) return this.done(0);
      this.inBody = true;
      this.count = 0;
      this.tail = '\r\n';
      if (rest.length > 0) this.onBody(Buffer.from(rest, 'latin1'));
      return;
    }
    this.onBody(d);
  }

  private onBody(d: Buffer): void {
    this.count += d.length;
    // The body ends with CRLF "." CRLF; look across chunk boundaries.
    this.tail = (this.tail + d.subarray(Math.max(0, d.length - 5)).toString('latin1')).slice(-5);
    if (this.tail === '\r\n.\r\n') {
      this.inBody = false;
      this.done(this.count);
    }
  }

  private done(bytes: number): void {
    const p = this.pending!;
    this.pending = undefined;
    p.resolve(bytes);
  }

  private expect(multi: boolean): Promise<number> {
    return new Promise((resolve) => (this.pending = { multi, resolve }));
  }

  command(line: string, multi = false): Promise<number> {
    const p = this.expect(multi);
    this.socket.write(`${line}\r\n`);
    return p;
  }

  close(): void {
    this.socket.destroy();
  }
}

async function fillMailboxes(store: Store, inboxes: number[]): Promise<number> {
  let bytes = 0;
  const header = 'From: sender@bench.test\r\nTo: user@bench.test\r\nSubject: benchmark message\r\n\r\n';
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < MESSAGES) {
        const i = next++;
        // 2–60 KiB bodies of base64 lines, like attachments.
        const size = 2048 + ((i * 7919) % (58 * 1024));
        const body = randomBytes(Math.ceil((size * 3) / 4)).toString('base64').replace(/.{76}/g, '$&\r\n');
        const raw = Buffer.from(header + body + '\r\n');
        bytes += raw.length;
        const blob = await store.blobs.put(raw);
        await store.deliverMessage(inboxes, { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: {} });
      }
    }),
  );
  return bytes;
}

export interface Pop3BenchResult {
  sessions: number;
  messages: number;
  megabytes: number;
  seconds: number;
}

export async function benchPop3(): Promise<{ retr: Pop3BenchResult[]; firstListMs: number; loginMs: { p50: number; p95: number; n: number }; mailboxMB: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-bench-pop3-'));
  const store = await openStore({ driver: 'sqlite', dataDir: dir });
  const server = createPop3Server({
    store,
    logger: silent,
    hostname: 'bench.test',
    allowPlaintext: () => true,
    markSeenOnRetr: process.env.BENCH_POP3_SEEN !== '0',
    idleTimeoutMs: 600_000,
    maxLineBytes: 8192,
    maxConnectionsPerIp: 1000,
    throttle: new LoginThrottle(store),
  });
  try {
    await store.createDomain('bench.test');
    const passwordHash = await hash(PASSWORD); // production parameters
    const users: string[] = [];
    const inboxes: number[] = [];
    for (let i = 0; i < 50; i++) {
      const acct = await store.createAccount({ address: `user${i}@bench.test`, passwordHash });
      users.push(acct.address);
      inboxes.push((await store.getMailbox(acct.id, 'INBOX'))!.id);
    }
    const bytes = await fillMailboxes(store, inboxes);
    const { port } = await server.listen('127.0.0.1', 0);

    const login = async (user: string): Promise<BenchClient> => {
      const c = await BenchClient.connect(port);
      await c.command(`USER ${user}`);
      await c.command(`PASS ${PASSWORD}`);
      return c;
    };

    // First LIST of a mailbox: every wire size computed from the blobs (cold cache).
    const first = await login(users[0]!);
    const t0 = performance.now();
    await first.command('LIST', true);
    const firstListMs = performance.now() - t0;
    await first.command('QUIT');
    first.close();

    const retr: Pop3BenchResult[] = [];
    for (const sessions of (process.env.BENCH_POP3_SESSIONS ?? '1,50').split(',').map(Number)) {
      const start = performance.now();
      let received = 0;
      await Promise.all(
        users.slice(0, sessions).map(async (user) => {
          const c = await login(user);
          await c.command('LIST', true);
          for (let n = 1; n <= MESSAGES; n++) {
            const got = await c.command(`RETR ${n}`, true);
            received += got;
          }
          await c.command('QUIT');
          c.close();
        }),
      );
      const seconds = (performance.now() - start) / 1000;
      retr.push({ sessions, messages: sessions * MESSAGES, megabytes: received / 1e6, seconds });
      console.log(`POP3 RETR, ${sessions} session(s): ${(received / 1e6 / seconds).toFixed(0)} MB/s, ${((sessions * MESSAGES) / seconds).toFixed(0)} messages/s`);
    }

    // Login latency: connect, greeting, USER, PASS (argon2id verify), QUIT.
    const samples: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      const c = await login(users[i % users.length]!);
      samples.push(performance.now() - t);
      await c.command('QUIT');
      c.close();
    }
    samples.sort((a, b) => a - b);
    const loginMs = { p50: samples[Math.floor(samples.length / 2)]!, p95: samples[Math.floor(samples.length * 0.95)]!, n: samples.length };
    console.log(`POP3 login: p50 ${loginMs.p50.toFixed(1)} ms, p95 ${loginMs.p95.toFixed(1)} ms; first LIST of ${MESSAGES} messages ${firstListMs.toFixed(0)} ms`);
    return { retr, firstListMs, loginMs, mailboxMB: bytes / 1e6 };
  } finally {
    await server.close(1000);
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function pop3Section(r: Awaited<ReturnType<typeof benchPop3>>): string[] {
  const lines = ['## POP3: RETR throughput and login latency', '', `Machine: ${machineLine()}`, ''];
  lines.push(
    `Each session logs in (USER/PASS), LISTs and RETRs all ${MESSAGES} messages of its own mailbox (${r.mailboxMB.toFixed(1)} MB: 2–60 KiB messages), one command at a time, then QUITs. \\Seen is written as messages are retrieved. Clients run in the server's process, on the same event loop, so the numbers are a floor for the server alone (and they vary by ±50% on a 2-core machine shared with other work).`,
    '',
    '| sessions | messages | MB sent | seconds | MB/s | messages/s |',
    '|---:|---:|---:|---:|---:|---:|',
  );
  for (const x of r.retr) {
    lines.push(`| ${x.sessions} | ${x.messages} | ${x.megabytes.toFixed(0)} | ${x.seconds.toFixed(1)} | ${(x.megabytes / x.seconds).toFixed(0)} | ${(x.messages / x.seconds).toFixed(0)} |`);
  }
  lines.push(
    '',
    `Login (connect, greeting, USER, PASS with production argon2id parameters), ${r.loginMs.n} sequential logins: p50 ${r.loginMs.p50.toFixed(1)} ms, p95 ${r.loginMs.p95.toFixed(1)} ms.`,
    '',
    `First LIST of a ${MESSAGES}-message mailbox (every wire size computed from the blobs, then cached by blob id): ${r.firstListMs.toFixed(0)} ms.`,
    '',
  );
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchPop3();
  const path = new URL('../docs/benchmarks.md', import.meta.url);
  const current = await readFile(path, 'utf8').catch(() => '# Benchmarks\n');
  const start = current.indexOf('## POP3');
  const before = start < 0 ? current.trimEnd() + '\n\n' : current.slice(0, start);
  const afterStart = start < 0 ? -1 : current.indexOf('\n## ', start + 1);
  const after = afterStart < 0 ? '' : current.slice(afterStart + 1);
  await writeFile(path, before + pop3Section(r).join('\n') + after);
}
