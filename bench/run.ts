// `npm run bench`: runs the benchmarks and rewrites docs/benchmarks.md.
// Benchmarks are not tests: they measure, and the numbers are read by people.

import { writeFile } from 'node:fs/promises';
import { machineLine } from './machine.js';
import { benchAppend } from './store-append.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const lines: string[] = [];
lines.push('# Benchmarks', '');
lines.push('Produced by `npm run bench` (set `BENCH_SECONDS` to change the length of each run).', '');
lines.push(`Machine: ${machineLine()}`, '');
lines.push('## Store: durable appends (SQLite, fs blobs, 10 KiB messages)', '');
lines.push('Each append writes and fsyncs the blob, renames it into place, fsyncs the directory and commits the metadata with `synchronous=FULL`. Concurrent appends share commits (group commit).', '');
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
await writeFile(new URL('../docs/benchmarks.md', import.meta.url), lines.join('\n'));
console.log(`speed-up 20 vs 1: ${speedup.toFixed(1)}×; written to docs/benchmarks.md`);
