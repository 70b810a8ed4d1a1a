// Inbound SMTP throughput: messages/s accepted *and durable* (250 after DATA means
// fsynced blob + committed metadata) for N concurrent senders of 10 KiB messages,
// DATA→250 latency percentiles, and the server's memory. The server runs in its own
// process so its memory is its own.

import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/open.js';
import { SmtpTalk } from '../test/smtp/harness.js';

export interface SmtpBenchResult {
  senders: number;
  messages: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  rssMiB: number;
  peakRssMiB: number;
}

function lineFrom(child: ChildProcessByStdio<Writable, Readable, null>, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) {
        child.stdout.off('data', onData);
        resolve(m);
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`bench server exited (${code})`)));
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** `filter`: none, "builtin" or an rspamd URL (bench/filter.ts). */
export async function benchSmtp(senders: number, durationMs: number, filter?: string): Promise<SmtpBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-bench-smtp-'));
  const setup = await openStore({ driver: 'sqlite', dataDir: dir });
  await setup.createDomain('bench.test');
  await setup.createAccount({ address: 'rcpt@bench.test', passwordHash: 'x' });
  await setup.close();
  const script = new URL('./smtp-server.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), '--import', 'tsx', script, dir, ...(filter ? [filter] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const port = Number((await lineFrom(child, /port (\d+)\n/))[1]);
    const header = 'From: <s@sender.test>\r\nTo: <rcpt@bench.test>\r\nSubject: bench\r\n\r\n';
    const latencies: number[] = [];
    const start = performance.now();
    const deadline = start + durationMs;
    await Promise.all(
      Array.from({ length: senders }, async () => {
        const c = await SmtpTalk.connect(port);
        await c.reply();
        await c.cmd('EHLO sender.test');
        while (performance.now() < deadline) {
          // 10 KiB: base64 lines of 76 characters, different every time (no blob sharing).
          const body = randomBytes(7300).toString('base64').replace(/.{76}/g, '$&\r\n');
          await c.cmd('MAIL FROM:<s@sender.test>');
          await c.cmd('RCPT TO:<rcpt@bench.test>');
          await c.cmd('DATA');
          const t0 = performance.now();
          const r = await c.cmd(`${header}${body}\r\n.`);
          if (!r.startsWith('250')) throw new Error(`unexpected reply: ${r}`);
          latencies.push(performance.now() - t0);
        }
        await c.cmd('QUIT');
        c.close();
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    child.stdin.write('mem\n');
    const mem = await lineFrom(child, /mem (\d+) (\d+)\n/);
    latencies.sort((a, b) => a - b);
    return {
      senders,
      messages: latencies.length,
      seconds,
      perSecond: latencies.length / seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      rssMiB: Number(mem[1]) / 2 ** 20,
      peakRssMiB: Number(mem[2]) / 2 ** 20,
    };
  } finally {
    child.stdin.write('quit\n');
    await new Promise((resolve) => {
      child.once('exit', resolve);
      setTimeout(() => {
        child.kill('SIGKILL');
        resolve(undefined);
      }, 5000);
    });
    await rm(dir, { recursive: true, force: true });
  }
}

// `node --import tsx bench/smtp.ts` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  for (const senders of [1, 20]) console.log(await benchSmtp(senders, seconds * 1000));
}
