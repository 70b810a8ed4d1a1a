// Webmail API benchmark: time to the first page of a 100,000-message folder (each sort
// order, and threaded), to a deep page, to open a message, and to search (headers in
// SQL; body text through the store's full-text index), over real HTTP against a real
// SQLite store opened with the search-text extractor as `serve` opens it. Client and
// server share one process, so the times include both.
//
// Run: `node --import tsx bench/webmail-api.ts [messages]`, `BENCH_SECTIONS=webmail npm run bench`
// (rewrites only this section of docs/benchmarks.md), or call benchWebmailApi().

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { hash } from '@node-rs/argon2';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/log.js';
import { buildHttpApp } from '../src/http/app.js';
import { webmailApi } from '../src/http/api/index.js';
import { webmailSubmission } from '../src/listeners.js';
import { indexMessage, searchTextExtractor, toStoredStructure, type MessageIndex } from '../src/mime/index.js';
import { openStore } from '../src/store/open.js';
import { machineLine } from './machine.js';
import { median } from './stats.js';

export interface WebmailBenchResult {
  messages: number;
  fillSeconds: number;
  /** Median milliseconds per request. */
  ms: Record<string, number>;
}

const DISTINCT_BLOBS = 500;
const WORDS = ['invoice', 'meeting', 'report', 'holiday', 'budget', 'launch', 'review', 'party', 'update', 'question'];

export async function benchWebmailApi(messages = 100_000, runs = 7): Promise<WebmailBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-bench-webmail-'));
  const config = loadConfig({ cwd: dir, env: { STEADYMAIL_DATA_DIR: dir, STEADYMAIL_HOSTNAME: 'bench.test' } });
  const logger = createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() }));
  const store = await openStore({ driver: 'sqlite', dataDir: dir, searchText: searchTextExtractor });
  try {
    await store.createDomain('bench.test');
    const account = await store.createAccount({ address: 'u@bench.test', passwordHash: await hash('bench password', { memoryCost: 1024, timeCost: 1, parallelism: 1 }) });
    const inbox = (await store.getMailbox(account.id, 'INBOX'))!.id;

    // A few hundred real blobs; each message row gets its own subject, sender and date
    // in its cached structure (what the list sorts on), pointing at one of them.
    const blobs: Array<{ id: string; size: number; index: MessageIndex }> = [];
    for (let i = 0; i < DISTINCT_BLOBS; i++) {
      const raw = Buffer.from(
        `From: "Sender ${i}" <s${i}@example.test>\r\nTo: u@bench.test\r\nSubject: ${WORDS[i % WORDS.length]} ${i}\r\nMessage-ID: <b${i}@example.test>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Body of message ${i}: ${WORDS[(i * 7) % WORDS.length]} ${i === 0 ? 'quetzalcoatl ' : ''}${'lorem ipsum '.repeat(200)}</p>\r\n`,
      );
      const blob = await store.blobs.put(raw);
      blobs.push({ ...blob, index: indexMessage(raw) });
    }
    const started = Date.now();
    const base = Date.UTC(2020, 0, 1);
    for (let i = 0; i < messages; i += 1000) {
      const batch = [];
      for (let j = i; j < Math.min(messages, i + 1000); j++) {
        const b = blobs[j % DISTINCT_BLOBS]!;
        const subject = `${WORDS[j % WORDS.length]} number ${(j * 7919) % messages}`;
        const fromName = `Person ${(j * 104729) % 5000}`;
        const index: MessageIndex = {
          ...b.index,
          decoded: { ...b.index.decoded, subject, from: [{ name: fromName, address: `p${j % 5000}@example.test` }], date: base + j * 60_000 },
          sort: { ...b.index.sort, subject: subject.toUpperCase(), displayFrom: fromName },
        };
        batch.push(store.appendMessage(inbox, { blobId: b.id, size: b.size, internalDate: new Date(base + j * 60_000), flags: j % 3 === 0 ? [] : ['\\Seen'], structure: toStoredStructure(index) }));
      }
      await Promise.all(batch);
    }
    const fillSeconds = (Date.now() - started) / 1000;

    const app = await buildHttpApp({ config, store, logger }, [webmailApi(webmailSubmission({ config, store, logger }))]);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    try {
      const login = await fetch(`${url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'u@bench.test', password: 'bench password' }) });
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
      const get = async (path: string): Promise<number> => {
        const t = process.hrtime.bigint();
        const res = await fetch(url + path, { headers: { cookie } });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
        return Number(process.hrtime.bigint() - t) / 1e6;
      };
      const measure = async (path: string) => {
        await get(path); // warm
        const times: number[] = [];
        for (let r = 0; r < runs; r++) times.push(await get(path));
        return median(times);
      };
      const list = `/api/folders/${inbox}/messages?limit=50`;
      // The uncached threaded request also as CPU time of this process (server and client):
      // unlike its wall time, that does not grow when other work shares the machine.
      const cpu = process.cpuUsage();
      const uncached = await get(`${list}&threads=1&order=asc`);
      const used = process.cpuUsage(cpu);
      const ms: Record<string, number> = {
        'threading the whole folder (one uncached threaded request)': uncached,
        'the same request, CPU time (server and client)': (used.user + used.system) / 1000,
        'first page, by date': await measure(list),
        'first page, by subject': await measure(`${list}&sort=subject&order=asc`),
        'first page, by sender': await measure(`${list}&sort=from&order=asc`),
        'first page, by size': await measure(`${list}&sort=size`),
        'first page, unread only': await measure(`${list}&unread=1`),
        'first page, threaded (whole folder; cached until the folder changes)': await measure(`${list}&threads=1`),
        'page at offset 90%': await measure(`${list}&offset=${Math.floor(messages * 0.9)}`),
        'open a message': await measure(`/api/messages/${inbox}.${Math.floor(messages / 2)}?markSeen=0`),
        'search subject': await measure(`/api/search?folderId=${inbox}&subject=${encodeURIComponent('number 4242')}`),
        'search sender': await measure(`/api/search?folderId=${inbox}&from=${encodeURIComponent('person 123')}`),
        'search body, common word (index; 10% of the folder matches)': await measure(`/api/search?folderId=${inbox}&body=holiday`),
        'search body, rare word (index; 200 matches, down to the oldest message)': await measure(`/api/search?folderId=${inbox}&body=quetzalcoatl`),
      };
      return { messages, fillSeconds, ms };
    } finally {
      await app.close();
    }
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function webmailSection(r: WebmailBenchResult): string[] {
  return [
    `## Webmail API: a folder of ${r.messages.toLocaleString('en')} messages (SQLite)`,
    '',
    'Median of 7 requests after one warm-up, over HTTP on loopback, client in the same process. Pages are 50 messages. The first threaded page threads the whole folder by Message-ID, In-Reply-To and References; the warm-up request pays that once and the order is kept until the folder changes (the first row is one such uncached request, the second its CPU time, which unlike wall time does not grow when other work shares the machine). Body searches go through the store\'s full-text index.',
    '',
    '| request | time |',
    '|---|---:|',
    ...Object.entries(r.ms).map(([k, v]) => `| ${k} | ${v.toFixed(1)} ms |`),
    '',
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 100_000);
  const r = await benchWebmailApi(n);
  console.log(`Machine: ${machineLine()}`);
  console.log(`filled ${n} messages in ${r.fillSeconds.toFixed(1)} s`);
  console.log(webmailSection(r).join('\n'));
}
