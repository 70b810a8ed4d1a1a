// Inbound SMTP throughput with the filter: no filter, the built-in layer (DNS lists
// configured but empty, greylisting recorded, header checks) and with a real rspamd
// started for the run (test/filter/engines.ts). Same messages as bench/smtp.ts.
// `node --import tsx bench/filter.ts`; BENCH_SECONDS sets the length of each run.

import { benchSmtp, type SmtpBenchResult } from './smtp.js';
import { startRspamd } from '../test/filter/engines.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const line = (name: string, r: SmtpBenchResult) =>
  `| ${name} | ${r.senders} | ${r.perSecond.toFixed(0)} | ${r.p50Ms.toFixed(1)} ms | ${r.p99Ms.toFixed(1)} ms |`;

console.log('| filter | senders | messages/s | DATA→250 p50 | p99 |\n|---|---:|---:|---:|---:|');
for (const senders of [1, 20]) console.log(line('none', await benchSmtp(senders, seconds * 1000)));
for (const senders of [1, 20]) console.log(line('built-in', await benchSmtp(senders, seconds * 1000, 'builtin')));
const rspamd = await startRspamd();
try {
  for (const senders of [1, 20]) console.log(line('built-in + rspamd', await benchSmtp(senders, seconds * 1000, rspamd.url)));
} finally {
  await rspamd.close();
}
