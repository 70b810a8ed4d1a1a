// `npm run bench`: runs the benchmarks and rewrites docs/benchmarks.md.
// Benchmarks are not tests: they measure, and the numbers are read by people.

import { writeFile } from 'node:fs/promises';
import { fsyncLatencyMs, machineLine } from './machine.js';
import { tmpdir } from 'node:os';
import { benchAppend } from './store-append.js';
import { benchSmtp } from './smtp.js';
import { benchPop3, pop3Section } from './pop3.js';
import { benchServe, benchWorkers, nodesSection, workersSection } from './workers.js';
import { benchOutbound, outboundSection } from './outbound.js';
import { startRspamd } from '../test/filter/engines.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const lines: string[] = [];
lines.push('# Benchmarks', '');
lines.push('Produced by `npm run bench` (set `BENCH_SECONDS` to change the length of each run).', '');
lines.push(`Machine: ${machineLine()}`, '');
lines.push('## Store: durable appends (SQLite, fs blobs, 10 KiB messages)', '');
const fsyncMs = await fsyncLatencyMs(tmpdir());
lines.push(
  'Each append writes and fsyncs the blob, renames it into place, fsyncs its directory, commits the metadata and fsyncs the WAL before the append returns. Concurrent appends share commits and WAL fsyncs (group commit); blob fsyncs cannot be shared (one file each).',
  '',
  `A single fsync of a 10 KiB file takes ${fsyncMs.toFixed(2)} ms (median) on this machine's disk. One writer waits for three of them in turn; with fast fsyncs like these, twenty writers are limited by the CPU time of the one event loop (hashing, SQL, system calls), not by the disk, so the gain from group commit is smaller than on a disk where an fsync costs milliseconds.`,
  '',
);
lines.push('| writers | appends/s | commits | appends per commit |', '|---:|---:|---:|---:|');
const results = [];
for (const writers of [1, 20]) {
  const r = await benchAppend(writers, seconds * 1000);
  results.push(r);
  lines.push(`| ${writers} | ${r.perSecond.toFixed(0)} | ${r.commits} | ${(r.appends / Math.max(1, r.commits)).toFixed(1)} |`);
  console.log(`store append, ${writers} writer(s): ${r.perSecond.toFixed(0)}/s (${r.appends} in ${r.seconds.toFixed(1)} s, ${r.commits} commits)`);
}
const speedup = results[1]!.perSecond / results[0]!.perSecond;
lines.push('', `20 writers are ${speedup.toFixed(1)}× as fast as 1.`, '');
lines.push('## SMTP: inbound messages accepted and durable (10 KiB, one local recipient)', '');
lines.push(
  'Each sender keeps one connection and sends MAIL, RCPT, DATA in turn; a message counts once its `250` arrived, i.e. after SPF/DKIM/DMARC/ARC verification (against a loopback DNS server), indexing, the fsynced blob and the committed metadata. The server runs in its own process (memory is its RSS after the run, and its peak); the senders run on the same machine.',
  '',
);
lines.push('| senders | messages/s | DATA→250 p50 | p99 | server RSS | peak RSS |', '|---:|---:|---:|---:|---:|---:|');
for (const senders of [1, 20]) {
  const r = await benchSmtp(senders, seconds * 1000);
  lines.push(`| ${senders} | ${r.perSecond.toFixed(0)} | ${r.p50Ms.toFixed(1)} ms | ${r.p99Ms.toFixed(1)} ms | ${r.rssMiB.toFixed(0)} MiB | ${r.peakRssMiB.toFixed(0)} MiB |`);
  console.log(`smtp inbound, ${senders} sender(s): ${r.perSecond.toFixed(0)}/s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, rss ${r.rssMiB.toFixed(0)} MiB`);
}
lines.push('');
lines.push(...pop3Section(await benchPop3()));

// The inbound filter's cost: the same SMTP run with the built-in layer, then with a real rspamd.
lines.push(
  '## SMTP with the inbound filter',
  '',
  'The SMTP run above (10 KiB messages) with the filter on: the built-in layer (greylisting recorded with no delay, header checks, no DNS lists configured) and the built-in layer plus a real rspamd (Debian package, started for the run with the configuration of the tests, test/filter/engines.ts). No filter is the first table.',
  '',
  '| filter | senders | messages/s | DATA→250 p50 | p99 |',
  '|---|---:|---:|---:|---:|',
);
for (const senders of [1, 20]) {
  const r = await benchSmtp(senders, seconds * 1000, 'builtin');
  lines.push(`| built-in | ${senders} | ${r.perSecond.toFixed(0)} | ${r.p50Ms.toFixed(1)} ms | ${r.p99Ms.toFixed(1)} ms |`);
}
const rspamd = await startRspamd();
try {
  for (const senders of [1, 20]) {
    const r = await benchSmtp(senders, seconds * 1000, rspamd.url);
    lines.push(`| built-in + rspamd | ${senders} | ${r.perSecond.toFixed(0)} | ${r.p50Ms.toFixed(1)} ms | ${r.p99Ms.toFixed(1)} ms |`);
  }
} finally {
  await rspamd.close();
}
lines.push('');
lines.push(...workersSection([await benchWorkers(1, seconds * 1000), await benchWorkers(2, seconds * 1000)], seconds));
lines.push(
  ...nodesSection(
    [await benchServe({ workers: 1, nodes: 1, store: 'postgres' }, seconds * 1000), await benchServe({ workers: 1, nodes: 2, store: 'postgres' }, seconds * 1000)],
    seconds,
  ),
);
lines.push(...outboundSection([await benchOutbound(1), await benchOutbound(10)]));
await writeFile(new URL('../docs/benchmarks.md', import.meta.url), lines.join('\n'));
console.log(`speed-up 20 vs 1: ${speedup.toFixed(1)}×; written to docs/benchmarks.md`);
