// `npm run bench`: runs the benchmarks and rewrites docs/benchmarks.md.
// Benchmarks are not tests: they measure, and the numbers are read by people.
// `BENCH_SECTIONS=imap-search,imap-idle npm run bench` runs only the named
// sections and replaces just those (by their heading) in docs/benchmarks.md;
// such a section names the machine and date it ran on.

import { readFile, writeFile } from 'node:fs/promises';
import { fsyncLatencyMs, loadLine, machineLine } from './machine.js';
import { tmpdir } from 'node:os';
import { benchAppend } from './store-append.js';
import { benchSmtp } from './smtp.js';
import { benchPop3, pop3Section } from './pop3.js';
import { benchServe, benchWorkers, nodesSection, workersSection } from './workers.js';
import { benchOutbound, outboundSection } from './outbound.js';
import { startRspamd } from '../test/filter/engines.js';
import { benchImap, imapSection } from './imap.js';
import { benchImapSearch, searchSection } from './imap-search.js';
import { benchImapIdle, idleSection } from './imap-idle.js';
import { benchWebmailApi, webmailSection } from './webmail-api.js';
import { median } from './stats.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);

interface Section {
  id: string;
  /** The section's `## ` heading, without the hashes. */
  heading: string;
  run(): Promise<string[]>;
}

let speedup = 0;

const SECTIONS: Section[] = [
  {
    id: 'append',
    heading: 'Store: durable appends (SQLite, 10 KiB messages)',
    async run() {
      const lines: string[] = [];
      const fsyncMs = await fsyncLatencyMs(tmpdir());
      lines.push(
        `Machine: ${machineLine()}`,
        '',
        "Each append stores a distinct 10 KiB body and then its message, one after the other, and returns only once both are committed and the WAL is fsynced. A body of this size is kept in the database (`store.inline_blob_max`, 64 KiB by default), so it goes through the group commit like the message: concurrent writers share transactions and WAL fsyncs. An append is two store operations (the body, the message); one writer waits for two commits and their fsyncs per append.",
        '',
        `A single fsync of a 10 KiB file takes ${fsyncMs.toFixed(2)} ms (median) on this machine's disk. With fsyncs this fast, twenty writers are limited by the CPU time of the one event loop (SQL, writing the WAL) and by the fsync each batch waits for, not by the number of fsyncs (${loadLine()}).`,
        '',
      );
      // Alternating runs, the median of each: one run alone moves with whatever else the machine does.
      lines.push('| run | writers | appends/s | commits | operations per commit |', '|---:|---:|---:|---:|---:|');
      const perSecond = new Map<number, number[]>([
        [1, []],
        [20, []],
      ]);
      for (let run = 1; run <= 3; run++) {
        for (const writers of [1, 20]) {
          const r = await benchAppend(writers, seconds * 1000);
          perSecond.get(writers)!.push(r.perSecond);
          lines.push(`| ${run} | ${writers} | ${r.perSecond.toFixed(0)} | ${r.commits} | ${r.operationsPerCommit.toFixed(1)} |`);
          console.log(`store append, run ${run}, ${writers} writer(s): ${r.perSecond.toFixed(0)}/s (${r.appends} in ${r.seconds.toFixed(1)} s, ${r.commits} commits)`);
        }
      }
      const one = median(perSecond.get(1)!);
      const twenty = median(perSecond.get(20)!);
      speedup = twenty / one;
      lines.push(
        '',
        `Median: 1 writer ${one.toFixed(0)} appends/s, 20 writers ${twenty.toFixed(0)} appends/s: 20 writers are ${speedup.toFixed(1)}× as fast as 1.`,
        '',
        'Before small bodies moved into the database, with every body a file (temp file, fsync, rename, directory fsync), checkpoints on the event loop and every statement built by the query builder (2026-11-28, one run each, same kind of machine): 1 writer 735 appends/s, 20 writers 1618 appends/s, 2.2×. The blob fsyncs could not be shared and cost about 1.2 ms of kernel CPU time each.',
      );
      return lines;
    },
  },
  {
    id: 'smtp',
    heading: 'SMTP: inbound messages accepted and durable (10 KiB, one local recipient)',
    async run() {
      const lines = [
        `Machine: ${machineLine()} · ${loadLine()}`,
        '',
        'Each sender keeps one connection and sends MAIL, RCPT, DATA in turn; a message counts once its `250` arrived, i.e. after SPF/DKIM/DMARC/ARC verification (against a loopback DNS server), indexing, the durable body and the committed metadata. The server runs in its own process (memory is its RSS after the run, and its peak); the senders run on the same machine.',
        '',
        '| senders | messages/s | DATA→250 p50 | p99 | server RSS | peak RSS |',
        '|---:|---:|---:|---:|---:|---:|',
      ];
      for (const senders of [1, 20]) {
        const r = await benchSmtp(senders, seconds * 1000);
        lines.push(`| ${senders} | ${r.perSecond.toFixed(0)} | ${r.p50Ms.toFixed(1)} ms | ${r.p99Ms.toFixed(1)} ms | ${r.rssMiB.toFixed(0)} MiB | ${r.peakRssMiB.toFixed(0)} MiB |`);
        console.log(`smtp inbound, ${senders} sender(s): ${r.perSecond.toFixed(0)}/s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, rss ${r.rssMiB.toFixed(0)} MiB`);
      }
      lines.push('', 'Before small bodies moved into the database (2026-11-28, same kind of machine): 1 sender 133 messages/s (p50 5.7 ms), 20 senders 386 messages/s (p50 39.2 ms).');
      return lines;
    },
  },
  {
    id: 'pop3',
    heading: 'POP3: RETR throughput and login latency',
    async run() {
      // pop3Section writes its own heading.
      return pop3Section(await benchPop3()).slice(2);
    },
  },
  {
    id: 'filter',
    heading: 'SMTP with the inbound filter',
    async run() {
      // The inbound filter's cost: the same SMTP run with the built-in layer, then with a real rspamd.
      const lines = [
        'The SMTP run above (10 KiB messages) with the filter on: the built-in layer (greylisting recorded with no delay, header checks, no DNS lists configured) and the built-in layer plus a real rspamd (Debian package, started for the run with the configuration of the tests, test/filter/engines.ts). No filter is the first table.',
        '',
        '| filter | senders | messages/s | DATA→250 p50 | p99 |',
        '|---|---:|---:|---:|---:|',
      ];
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
      return lines;
    },
  },
  {
    id: 'workers',
    heading: 'Worker processes: 1 vs 2 (`[server] workers`)',
    async run() {
      return workersSection([await benchWorkers(1, seconds * 1000), await benchWorkers(2, seconds * 1000)], seconds).slice(2);
    },
  },
  {
    id: 'nodes',
    heading: 'Farm nodes: 1 vs 2 on one PostgreSQL',
    async run() {
      return nodesSection(
        [await benchServe({ workers: 1, nodes: 1, store: 'postgres' }, seconds * 1000), await benchServe({ workers: 1, nodes: 2, store: 'postgres' }, seconds * 1000)],
        seconds,
      ).slice(2);
    },
  },
  {
    id: 'imap',
    heading: 'IMAP: FETCH, SEARCH and APPEND over 1,000 messages (SQLite)',
    async run() {
      return [
        `Machine: ${machineLine()} · ${loadLine()}`,
        '',
        'One mailbox of 1,000 ~4 KiB messages (appended through the store by 20 writers), then one client over a real socket: FETCH of the header fields a client shows in its list, ENVELOPE and BODYSTRUCTURE (from the structure cached at delivery), every full body, two SEARCHes through the full-text index, and 200 APPENDs in turn (each durable before its OK).',
        '',
        ...imapSection(await benchImap(1000)),
      ];
    },
  },
  {
    id: 'imap-search',
    heading: 'IMAP: SEARCH over 100,000 messages (SQLite)',
    async run() {
      const n = Number(process.env.BENCH_SEARCH_MESSAGES ?? 100_000);
      return [
        `Machine: ${machineLine()} · ${loadLine()}`,
        '',
        `One mailbox of ${n} ~3 KiB messages (varied words, one in 1,000 with a rare word), searched over a real socket; the full-text index (FTS5 trigram) row is written in the same commit as the message. \`SEARCH TEXT "message"\` matches every message; a two-character needle has no trigram and is tested over the stored text of the mailbox.`,
        '',
        ...searchSection(await benchImapSearch(n, { log: (s) => console.log(`imap search (sqlite): ${s}`), driver: 'sqlite' })),
      ];
    },
  },
  {
    id: 'imap-search-pg',
    heading: 'IMAP: SEARCH over 100,000 messages (PostgreSQL)',
    async run() {
      const n = Number(process.env.BENCH_SEARCH_MESSAGES ?? 100_000);
      return [
        `Machine: ${machineLine()} · ${loadLine()}`,
        '',
        'The same mailbox on PostgreSQL (the local server) with the pg_trgm GIN indexes. The bench database fills with `synchronous_commit = off` (it changes no read); the plan is taken after `ANALYZE`, as autovacuum would have run it.',
        '',
        ...searchSection(await benchImapSearch(n, { log: (s) => console.log(`imap search (postgres): ${s}`), driver: 'postgres', scanUpTo: 0 })),
      ];
    },
  },
  {
    id: 'imap-idle',
    heading: 'IMAP: 2,000 IDLE connections',
    async run() {
      const n = Number(process.env.BENCH_IDLE_CONNECTIONS ?? 2000);
      const lines = [
        `Machine: ${machineLine()} · ${loadLine()}`,
        '',
        `${n} clients log in, SELECT INBOX and IDLE; the server runs in its own process (its RSS and heap, after a full GC). Then one message is appended and the time until every connection has read its \`* n EXISTS\` is the wake-up latency of the slowest.`,
        '',
      ];
      lines.push(...idleSection(await benchImapIdle(n)));
      return lines;
    },
  },
  {
    id: 'webmail',
    heading: 'Webmail API: a folder of 100,000 messages (SQLite)',
    async run() {
      // webmailSection writes its own heading.
      return [`Machine: ${machineLine()} · ${loadLine()}`, '', ...webmailSection(await benchWebmailApi()).slice(2)];
    },
  },
  {
    id: 'outbound',
    heading: 'Outbound delivery to a local sink',
    async run() {
      // outboundSection writes its own heading.
      return outboundSection([await benchOutbound(1), await benchOutbound(10)]).slice(2);
    },
  },
];

const only = process.env.BENCH_SECTIONS?.split(',').map((x) => x.trim()).filter((x) => x !== '');
const unknown = (only ?? []).filter((id) => !SECTIONS.some((sec) => sec.id === id));
if (unknown.length > 0) throw new Error(`unknown BENCH_SECTIONS ${unknown.join(', ')}; known: ${SECTIONS.map((sec) => sec.id).join(', ')}`);
const chosen = only ? SECTIONS.filter((sec) => only.includes(sec.id)) : SECTIONS;
const produced = new Map<string, string[]>();
for (const sec of chosen) {
  const body = await sec.run();
  while (body.at(-1) === '') body.pop();
  produced.set(sec.heading, [`## ${sec.heading}`, '', ...body, '']);
}

const docUrl = new URL('../docs/benchmarks.md', import.meta.url);
if (only) {
  // Replace the chosen sections in the existing file, append those it lacks.
  const old = (await readFile(docUrl, 'utf8')).split('\n');
  const out: string[] = [];
  const done = new Set<string>();
  for (let i = 0; i < old.length; ) {
    const line = old[i]!;
    const heading = line.startsWith('## ') ? line.slice(3) : null;
    if (heading !== null && produced.has(heading)) {
      out.push(...produced.get(heading)!);
      done.add(heading);
      i++;
      while (i < old.length && !old[i]!.startsWith('## ')) i++;
      continue;
    }
    out.push(line);
    i++;
  }
  if (out.at(-1) !== '') out.push('');
  for (const [heading, lines] of produced) if (!done.has(heading)) out.push(...lines);
  await writeFile(docUrl, out.join('\n'));
  console.log(`sections ${chosen.map((sec) => sec.id).join(', ')} written to docs/benchmarks.md`);
} else {
  const lines = ['# Benchmarks', '', 'Produced by `npm run bench` (set `BENCH_SECONDS` to change the length of each run; `BENCH_SECTIONS=id,…` reruns only some sections).', '', `Machine: ${machineLine()}`, ''];
  for (const sec of chosen) lines.push(...produced.get(sec.heading)!);
  await writeFile(docUrl, lines.join('\n'));
  console.log(`speed-up 20 vs 1: ${speedup.toFixed(1)}×; written to docs/benchmarks.md`);
}
