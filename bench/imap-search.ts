// SEARCH BODY over a large mailbox, over a real socket (SQLite store, fs blobs,
// ~3 KiB messages with varied words). The full-text index is filled by the store
// as messages are appended; `NOT NOT BODY x` is the full scan (never sent to the
// index), measured for comparison when the mailbox is small enough.
// With PostgreSQL (`driver: 'postgres'`) the plan of the BODY query is recorded
// (EXPLAIN ANALYZE) to show that the pg_trgm GIN index serves it.
// Standalone: `node --import tsx bench/imap-search.ts [messages] [sqlite|postgres] [appended]` (default 100000 sqlite).

import { pathToFileURL } from 'node:url';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { indexMessage, searchTextExtractor, toStoredStructure } from '../src/mime/index.js';
import { openStore } from '../src/store/open.js';
import { pgMatchQuery } from '../src/store/sql/search-index.js';
import { createTestDatabase } from '../src/store/contract/pg-test-db.js';
import { RawClient, startServer, type OpenHarnessStore } from '../test/imap/harness.js';

export interface SearchBenchRow {
  operation: string;
  ms: number;
  hits: number;
}

export interface SearchBenchResult {
  driver: 'sqlite' | 'postgres';
  messages: number;
  /** Messages appended through the store (PostgreSQL: the rest were copied in SQL). */
  appended: number;
  /** PostgreSQL: EXPLAIN ANALYZE of the BODY query for the rare word, one line per plan node. */
  plan?: string[];
  /** Appends per second while filling (each indexed in the same commit). */
  fillPerSecond: number;
  rows: SearchBenchRow[];
}

/** Deterministic words, so that runs compare. */
function vocabulary(size: number): string[] {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  return Array.from({ length: size }, () => Array.from({ length: 3 + Math.floor(rnd() * 7) }, () => letters[Math.floor(rnd() * 26)]).join(''));
}

const WORDS = vocabulary(20_000);

function message(i: number): Buffer {
  const words: string[] = [];
  for (let w = 0; w < 450; w++) words.push(WORDS[(i * 7919 + w * 104729) % WORDS.length]!);
  // One message in 1000 has the rare word; every one has "message".
  if (i % 1000 === 500) words.splice(200, 0, 'Kumquat-Marmalade');
  const lines: string[] = [];
  for (let l = 0; l < words.length; l += 15) lines.push(words.slice(l, l + 15).join(' '));
  return Buffer.from(
    `From: Sender ${i} <s${i}@example.org>\r\nTo: alice@example.com\r\nSubject: Message number ${i}\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <m${i}@example.org>\r\n\r\nThis is message ${i}.\r\n${lines.join('\r\n')}\r\n`,
  );
}

function hitsOf(lines: string[]): number {
  const line = lines.find((l) => l.startsWith('* SEARCH')) ?? '* SEARCH';
  return line.split(' ').length - 2;
}

/** EXPLAIN ANALYZE of the store's own BODY query (pgMatchQuery) for a needle, as text lines. */
async function explainBody(url: string, mailboxId: number, needle: string): Promise<string[]> {
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) });
  try {
    // As autovacuum would have done by now on a server that took these appends over days.
    await sql`analyze`.execute(db);
    const versions = await sql<{ version: number }>`select distinct version from search_docs`.execute(db);
    const version = Number(versions.rows[0]?.version ?? 0);
    const plan = await sql<{ 'QUERY PLAN': string }>`explain (analyze, costs off, timing off, summary off) ${pgMatchQuery(mailboxId, version, { field: 'body', value: needle })}`.execute(db);
    return plan.rows.map((r) => r['QUERY PLAN']);
  } finally {
    await db.destroy();
  }
}

/**
 * PostgreSQL: the first `seeded` messages went through the store (blob, message
 * row, index row, trigram index maintenance); here they are copied in SQL until
 * the mailbox holds `target` (new UIDs, modseqs and blob ids, the same text), so
 * that 100,000 messages take minutes, not hours, on a small machine. The GIN
 * indexes are maintained by these inserts as by the store's own.
 */
async function copyInSql(url: string, mailboxId: number, seeded: number, target: number): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const columns = async (table: string) =>
      (await c.query<{ column_name: string }>(`select column_name from information_schema.columns where table_name = $1 and column_name <> 'id' order by ordinal_position`, [table])).rows.map((r) => r.column_name);
    const messageCols = await columns('messages');
    const docCols = await columns('search_docs');
    const shifted = (col: string, k: number): string => {
      if (col === 'uid' || col === 'modseq') return `${col} + ${k * seeded}`;
      if (col === 'blob_id' || col === 'message_id') return `${col} || '-${k}'`;
      return col;
    };
    for (let k = 1; (k + 1) * seeded <= target; k++) {
      await c.query('begin');
      await c.query(`insert into messages (${messageCols.join(', ')}) select ${messageCols.map((col) => shifted(col, k)).join(', ')} from messages where mailbox_id = $1 and uid <= $2`, [mailboxId, seeded]);
      await c.query(
        `insert into search_docs (${docCols.join(', ')}) select ${docCols.map((col) => (col === 'blob_id' ? `d.blob_id || '-${k}'` : `d.${col}`)).join(', ')}
         from search_docs d join messages m on m.blob_id = d.blob_id where m.mailbox_id = $1 and m.uid <= $2`,
        [mailboxId, seeded],
      );
      await c.query('commit');
    }
    await c.query(
      `update mailboxes set messages = s.n, unseen = s.n, uid_next = s.top + 1, highest_modseq = greatest(highest_modseq, s.modseq)
       from (select count(*) as n, max(uid) as top, max(modseq) as modseq from messages where mailbox_id = $1) s where id = $1`,
      [mailboxId],
    );
  } finally {
    await c.end();
  }
}

export async function benchImapSearch(
  messages: number,
  options: { scanUpTo?: number; log?: (s: string) => void; driver?: 'sqlite' | 'postgres'; /** PostgreSQL: appended through the store, the rest copied in SQL. */ seeded?: number } = {},
): Promise<SearchBenchResult> {
  const log = options.log ?? (() => undefined);
  const driver = options.driver ?? 'sqlite';
  const db = driver === 'postgres' ? await createTestDatabase() : null;
  if (db) {
    // Filling 100,000 messages one commit each waits for 100,000 WAL flushes; the
    // searches measured are reads, which this setting does not change.
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(`alter database ${new URL(db.url).pathname.slice(1)} set synchronous_commit = off`);
    await admin.end();
  }
  const open: OpenHarnessStore | undefined = db ? (dataDir) => openStore({ driver: 'postgres', url: db.url, dataDir, searchText: searchTextExtractor }) : undefined;
  const h = await startServer({ limits: { maxLineBytes: 65536, maxLiteralBytes: 50 << 20, idleTimeoutMs: 3_600_000, maxConnectionsPerIp: 10, authFailureDelayMs: 0 } }, undefined, open);
  try {
    const inbox = (await h.store.getMailbox(h.account.id, 'INBOX'))!;
    let next = 0;
    const fillStart = performance.now();
    const appended = db ? Math.min(messages, options.seeded ?? 2000) : messages;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < appended) {
          const i = next++;
          const raw = message(i);
          const blob = await h.store.blobs.put(raw);
          await h.store.appendMessage(inbox.id, { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: toStoredStructure(indexMessage(raw)) });
          if (i % 10_000 === 0 && i > 0) log(`filled ${i}`);
        }
      }),
    );
    const fillPerSecond = (appended * 1000) / (performance.now() - fillStart);
    log(`appended ${appended} (${fillPerSecond.toFixed(0)}/s)`);
    if (db && appended < messages) {
      await copyInSql(db.url, inbox.id, appended, messages);
      log(`copied to ${messages}`);
    }
    const c = await RawClient.connect(h.port);
    await c.login();
    await c.cmd('s', 'SELECT INBOX', 600_000);
    const rows: SearchBenchRow[] = [];
    const run = async (operation: string, command: string) => {
      const start = performance.now();
      const r = await c.cmd('q', command, 3_600_000);
      const ms = performance.now() - start;
      if (!r.at(-1)?.startsWith('q OK')) throw new Error(`${command}: ${r.at(-1) ?? ''}`);
      rows.push({ operation, ms, hits: hitsOf(r) });
      log(`${operation}: ${ms.toFixed(0)} ms, ${hitsOf(r)} hits`);
    };
    await run('SEARCH BODY, a rare word (1 in 1000)', 'SEARCH BODY "kumquat-marmalade"');
    await run('SEARCH BODY, a rare word, again', 'SEARCH BODY "KUMQUAT-MARMALADE"');
    await run('SEARCH BODY, rare word AND UNSEEN', 'SEARCH UNSEEN BODY "kumquat"');
    await run('SEARCH BODY, no match', 'SEARCH BODY "zzzzqqqq"');
    await run('SEARCH TEXT, in every message', 'SEARCH TEXT "message"');
    await run('SEARCH BODY, two characters (no trigram)', 'SEARCH BODY "q-"');
    await run('SEARCH OR BODY x BODY y (rare)', 'SEARCH OR BODY "kumquat" BODY "zzzzqqqq"');
    if (messages <= (options.scanUpTo ?? 20_000)) await run('SEARCH NOT NOT BODY, a rare word (full scan)', 'SEARCH NOT NOT BODY "kumquat-marmalade"');
    c.close();
    const plan = db ? await explainBody(db.url, inbox.id, 'kumquat-marmalade') : undefined;
    return { driver, messages, appended, fillPerSecond, rows, ...(plan ? { plan } : {}) };
  } finally {
    await h.close();
    await db?.drop();
  }
}

export function searchSection(r: SearchBenchResult): string[] {
  const lines = [`| operation over ${r.messages} messages | time | hits |`, '|---|---:|---:|'];
  for (const row of r.rows) lines.push(`| ${row.operation} | ${row.ms.toFixed(0)} ms | ${row.hits} |`);
  lines.push('', `Filling the mailbox (append with the index row in the same commit, 20 writers): ${r.fillPerSecond.toFixed(0)} messages/s.`);
  if (r.appended < r.messages) lines.push('', `The first ${r.appended} messages were appended through the store; the mailbox was then filled to ${r.messages} by copying their rows in SQL (new UIDs and blob ids, the same text, the trigram indexes maintained as usual).`);
  if (r.plan) {
    const gin = r.plan.some((l) => /Bitmap Index Scan on search_docs_(body|headers)_trgm/.test(l));
    lines.push(
      '',
      gin
        ? 'The plan of `SEARCH BODY "kumquat-marmalade"` (EXPLAIN ANALYZE of the store\'s query): the pg_trgm GIN index finds the candidate texts, LIKE checks them.'
        : 'The plan of `SEARCH BODY "kumquat-marmalade"` (EXPLAIN ANALYZE of the store\'s query) does NOT use the pg_trgm GIN index:',
      '',
      '```',
      ...r.plan,
      '```',
    );
  }
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.argv[2] ?? 100_000);
  const driver = process.argv[3] === 'postgres' ? 'postgres' : 'sqlite';
  const seeded = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
  // Copied rows have no blob: no full scan on PostgreSQL.
  const result = await benchImapSearch(n, { log: (s) => console.log(s), driver, ...(seeded ? { seeded } : {}), ...(driver === 'postgres' ? { scanUpTo: 0 } : {}) });
  console.log('\n' + searchSection(result).join('\n'));
}
