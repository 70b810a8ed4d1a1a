// Outbound delivery throughput: queued messages (10 KiB) delivered by the queue worker
// to a local SMTP sink (smtp-server in its own process), with the recipients in 1 or in
// 10 domains (MX records from a dns2 server on loopback, all pointing at the sink).
// Run alone: `node --import tsx bench/outbound.ts` (rewrites its section of docs/benchmarks.md).

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openStore } from '../src/store/open.js';
import { createOutboundQueue, type OutboundObserver } from '../src/smtp/queue/index.js';
import { startDns } from '../test/outbound/peers.js';
import { machineLine } from './machine.js';

const MESSAGES = Number(process.env.BENCH_OUTBOUND_MESSAGES ?? 2000);
const silent = { info() {}, warn() {}, error() {}, debug() {} };

interface Sink {
  port: number;
  /** Stops the sink; resolves with the messages it took. */
  stop(): Promise<number>;
}

function startSink(): Promise<Sink> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./outbound-sink.ts', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  let onCount: (n: number) => void = () => {};
  return new Promise((resolve) => {
    lines.on('line', (line) => {
      const msg = JSON.parse(line) as { port?: number; messages?: number };
      if (msg.port !== undefined) {
        resolve({
          port: msg.port,
          stop: () =>
            new Promise<number>((done) => {
              onCount = done;
              child.stdin.end();
            }),
        });
      }
      if (msg.messages !== undefined) onCount(msg.messages);
    });
  });
}

export interface OutboundResult {
  domains: number;
  messages: number;
  seconds: number;
  perSecond: number;
  connections: number;
  reused: number;
}

export async function benchOutbound(domains: number): Promise<OutboundResult> {
  const names = Array.from({ length: domains }, (_, i) => `d${i}.bench.test`);
  const dns = await startDns({
    mx: Object.fromEntries(names.map((d) => [d, [{ exchange: `mx.${d}`, priority: 10 }]])),
    a: Object.fromEntries(names.map((d) => [`mx.${d}`, ['127.0.0.1']])),
  });
  const sink = await startSink();
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-bench-outbound-'));
  const store = await openStore({ driver: 'sqlite', dataDir: dir });
  try {
    const body = `${'x'.repeat(76)}\r\n`.repeat(134);
    for (let i = 0; i < MESSAGES; i++) {
      const to = `user${i}@${names[i % domains]!}`;
      const blob = await store.blobs.put(Buffer.from(`From: <bench@example.org>\r\nTo: <${to}>\r\nSubject: bench ${i}\r\nMessage-ID: <b${i}@example.org>\r\n\r\n${body}`));
      await store.enqueueOutbound({ blobId: blob.id, size: blob.size, mailFrom: 'bench@example.org', recipients: [to] });
    }
    let delivered = 0;
    let connections = 0;
    let reused = 0;
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => (done = resolve));
    const observer: OutboundObserver = {
      delivery(result) {
        if (result === 'delivered' && ++delivered === MESSAGES) done();
      },
      mtaStsFailure() {},
      connection(r) {
        if (r) reused++;
        else connections++;
      },
    };
    // The defaults of [outbound]: 16 deliveries at once, 4 per destination, MTA-STS on.
    const queue = createOutboundQueue({ store, logger: silent, hostname: 'mail.example.org', dnsServers: [dns.server], port: sink.port, pollIntervalMs: 50, observer, mtaSts: { port: 443, timeoutMs: 5000, maxBytes: 65536 } });
    const started = performance.now();
    queue.start();
    await finished;
    const seconds = (performance.now() - started) / 1000;
    await queue.stop(5000);
    const received = await sink.stop();
    if (received !== MESSAGES) throw new Error(`the sink took ${received} messages, expected ${MESSAGES}`);
    return { domains, messages: MESSAGES, seconds, perSecond: MESSAGES / seconds, connections, reused };
  } finally {
    await store.close();
    await dns.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function outboundSection(results: OutboundResult[]): string[] {
  const lines = ['## Outbound delivery to a local sink', '', `Machine: ${machineLine()}`, ''];
  lines.push(
    `${MESSAGES} queued messages (10 KiB, one recipient each) delivered by the queue worker with the default limits (16 deliveries at once, 4 per destination, connection reuse, MTA-STS lookups on): claim with a lease, MX and TXT lookups against a dns2 server on loopback, SMTP to an smtp-server sink in its own process, the entry marked delivered. With one domain the per-destination limit allows 4 connections at once; with 10 domains the overall limit of 16 applies. A connection is replaced after 100 messages (\`max_messages_per_connection\`), hence the connections opened.`,
    '',
    '| domains | messages | seconds | messages/s | connections opened | reused |',
    '|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of results) lines.push(`| ${r.domains} | ${r.messages} | ${r.seconds.toFixed(1)} | ${r.perSecond.toFixed(0)} | ${r.connections} | ${r.reused} |`);
  lines.push('');
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = [await benchOutbound(1), await benchOutbound(10)];
  for (const r of results) console.log(`outbound, ${r.domains} domain(s): ${r.perSecond.toFixed(0)}/s (${r.messages} in ${r.seconds.toFixed(1)} s, ${r.connections} connections, ${r.reused} reuses)`);
  const path = new URL('../docs/benchmarks.md', import.meta.url);
  const current = await readFile(path, 'utf8').catch(() => '# Benchmarks\n');
  const start = current.indexOf('## Outbound delivery');
  const before = start < 0 ? current.trimEnd() + '\n\n' : current.slice(0, start);
  const afterStart = start < 0 ? -1 : current.indexOf('\n## ', start + 1);
  const after = afterStart < 0 ? '' : current.slice(afterStart + 1);
  await writeFile(path, before + outboundSection(results).join('\n') + after);
}
