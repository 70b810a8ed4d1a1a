// The full-text search index (migration 0008): one row per blob with its decoded
// text, lowercased. IMAP SEARCH is a case-insensitive substring match (RFC 9051
// 6.4.4), so the index must never miss a message the full scan would find:
// - the stored text and the needle are lowercased by the same JavaScript
//   toLowerCase() the scan uses, so an exact, case-sensitive substring test on
//   the stored text (SQLite instr(), PostgreSQL LIKE) is the scan's answer;
// - the trigram index (FTS5 trigram tokenizer / pg_trgm) only narrows the rows
//   that test runs on. Needles under 3 characters cannot use trigrams: they are
//   tested over the mailbox's stored text, which is still far cheaper than
//   reading and decoding every blob.
// Messages whose blob has no row (or a row of an older extractor version) are
// returned as `unindexed` for the caller to check from the blob. So are messages
// whose text is longer than INDEX_MAX_CHARS: indexing megabytes of trigrams would
// hold the database's write lock for a second; their row (`whole` = 0) only records
// that they were looked at, so the backlog pass does not read them again.

import { sql, type RawBuilder } from 'kysely';
import type { Tx } from './write-batch.js';
import type { SearchText, TextFilter, TextSearchResult } from '../types.js';
import type { IntegrityProblem } from '../store.js';

type Dialect = 'sqlite' | 'postgres';

/** UTF-16 code units that are half of a pair: UTF-8 (both databases) cannot hold them. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The text as stored: lowercased, NUL (which PostgreSQL text cannot hold) and lone surrogates as U+FFFD. */
export function normalizeText(text: string): string {
  return text.toLowerCase().replace(/\0/g, '\uFFFD').replace(LONE_SURROGATE, '\uFFFD');
}

function normalizeNeedle(value: string): string {
  return value.toLowerCase();
}

/** Whether the index can answer for this needle (see TextFilter). */
export function indexableNeedle(value: string): boolean {
  return !value.includes('\0') && !value.includes('\uFFFD') && !new RegExp(LONE_SURROGATE.source).test(value);
}

export function filterIsIndexable(f: TextFilter): boolean {
  if ('field' in f) return indexableNeedle(f.value);
  return ('and' in f ? f.and : f.or).every(filterIsIndexable);
}

/** Texts longer than this (UTF-16 units, headers and body together) are left to the scan. */
export const INDEX_MAX_CHARS = 1_000_000;

/** Adds or replaces (when written by another extractor version) one blob's text. */
export async function putDoc(tx: Tx, dialect: Dialect, blobId: string, version: number, text: SearchText): Promise<void> {
  const whole = text.headers.length + text.body.length <= INDEX_MAX_CHARS ? 1 : 0;
  const headers = whole ? normalizeText(text.headers) : '';
  const body = whole ? normalizeText(text.body) : '';
  const now = Date.now();
  if (dialect === 'postgres') {
    await sql`insert into search_docs (blob_id, version, whole, headers, body, indexed_at)
      values (${blobId}, ${version}, ${whole}, ${headers}, ${body}, ${now})
      on conflict (blob_id) do update set version = excluded.version, whole = excluded.whole,
        headers = excluded.headers, body = excluded.body, indexed_at = excluded.indexed_at
      where search_docs.version <> excluded.version`.execute(tx);
    return;
  }
  const old = await sql<{ id: number; version: number }>`select id, version from search_docs where blob_id = ${blobId}`.execute(tx);
  const row = old.rows[0];
  if (row && Number(row.version) === version) return;
  if (row) await deleteRow(tx, Number(row.id));
  const inserted = await sql<{ id: number }>`insert into search_docs (blob_id, version, whole, indexed_at) values (${blobId}, ${version}, ${whole}, ${now}) returning id`.execute(tx);
  const id = Number(inserted.rows[0]!.id);
  if (whole) await sql`insert into search_fts (rowid, headers, body) values (${id}, ${headers}, ${body})`.execute(tx);
}

async function deleteRow(tx: Tx, id: number): Promise<void> {
  // (A row without text has no FTS row: the delete is then a no-op.)
  await sql`delete from search_fts where rowid = ${id}`.execute(tx);
  await sql`delete from search_docs where id = ${id}`.execute(tx);
}

/** Removes a blob's row (the blob itself is gone). */
export async function deleteDoc(tx: Tx, dialect: Dialect, blobId: string): Promise<void> {
  if (dialect === 'postgres') {
    await sql`delete from search_docs where blob_id = ${blobId}`.execute(tx);
    return;
  }
  const old = await sql<{ id: number }>`select id from search_docs where blob_id = ${blobId}`.execute(tx);
  if (old.rows[0]) await deleteRow(tx, Number(old.rows[0].id));
}

export async function hasDoc(tx: Tx, blobId: string, version: number): Promise<boolean> {
  const r = await sql`select 1 as one from search_docs where blob_id = ${blobId} and version = ${version}`.execute(tx);
  return r.rows.length > 0;
}

/** The exact test, as SQL over the stored text (f.* on SQLite, d.* on PostgreSQL). */
function exact(f: TextFilter, dialect: Dialect): RawBuilder<unknown> {
  if ('field' in f) {
    const needle = normalizeNeedle(f.value);
    const one = (column: 'headers' | 'body'): RawBuilder<unknown> =>
      dialect === 'sqlite'
        ? sql`instr(${sql.ref(`f.${column}`)}, ${needle}) > 0`
        : sql`${sql.ref(`d.${column}`)} like ${likePattern(needle)} escape '\\'`;
    if (f.field === 'text') return sql`(${one('headers')} or ${one('body')})`;
    return one(f.field);
  }
  const parts = ('and' in f ? f.and : f.or).map((p) => exact(p, dialect));
  if (parts.length === 0) return 'and' in f ? sql`1 = 1` : sql`1 = 0`;
  return sql`(${sql.join(parts, 'and' in f ? sql` and ` : sql` or `)})`;
}

function likePattern(needle: string): string {
  return '%' + needle.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
}

/** Trigrams looked up per needle: enough to be selective, few enough to stay cheap. */
const MAX_TRIGRAMS = 24;

/**
 * An FTS5 query that every row passing `exact` also matches (it may match more),
 * or null when the filter cannot be narrowed by trigrams. The table keeps neither
 * positions nor columns (detail=none), so a needle becomes the AND of its trigrams
 * in any column; the exact test then checks order and column.
 */
export function ftsQuery(f: TextFilter): string | null {
  if ('field' in f) {
    const chars = [...normalizeNeedle(f.value)];
    if (chars.length < 3) return null;
    const grams = new Set<string>();
    for (let i = 0; i + 3 <= chars.length; i++) grams.add(chars.slice(i, i + 3).join(''));
    let picked = [...grams];
    // Spread over the needle when there are too many.
    if (picked.length > MAX_TRIGRAMS) picked = Array.from({ length: MAX_TRIGRAMS }, (_, i) => picked[Math.floor((i * (picked.length - 1)) / (MAX_TRIGRAMS - 1))]!);
    return `(${picked.map((g) => `"${g.replace(/"/g, '""')}"`).join(' AND ')})`;
  }
  if ('and' in f) {
    const parts = f.and.map(ftsQuery).filter((q): q is string => q !== null);
    return parts.length === 0 ? null : `(${parts.join(' AND ')})`;
  }
  const parts = f.or.map(ftsQuery);
  if (parts.length === 0 || parts.some((q) => q === null)) return null;
  return `(${parts.join(' OR ')})`;
}

/**
 * The PostgreSQL query for the messages of a mailbox whose stored text passes the
 * exact test. The pg_trgm GIN indexes serve the LIKE tests (bench/imap-search.ts
 * records the plan over 100,000 messages in docs/benchmarks.md).
 */
export function pgMatchQuery(mailboxId: number, version: number, filter: TextFilter): RawBuilder<{ uid: number }> {
  return sql<{ uid: number }>`select m.uid from messages m join search_docs d on d.blob_id = m.blob_id
    where m.mailbox_id = ${mailboxId} and d.version = ${version} and d.whole = 1 and ${exact(filter, 'postgres')}`;
}

export async function searchText(tx: Tx, dialect: Dialect, mailboxId: number, version: number, filter: TextFilter): Promise<TextSearchResult> {
  const test = exact(filter, dialect);
  let matched: Array<{ uid: number }>;
  if (dialect === 'postgres') {
    matched = (await pgMatchQuery(mailboxId, version, filter).execute(tx)).rows;
  } else {
    const match = ftsQuery(filter);
    matched =
      match === null
        ? (
            await sql<{ uid: number }>`select m.uid from messages m join search_docs d on d.blob_id = m.blob_id
              join search_fts f on f.rowid = d.id
              where m.mailbox_id = ${mailboxId} and d.version = ${version} and d.whole = 1 and ${test}`.execute(tx)
          ).rows
        : // The FTS table first (the trigram match is the selective part), then each
          // row's messages by blob; `+` keeps SQLite from scanning the mailbox per row.
          (
            await sql<{ uid: number }>`select m.uid from search_fts f cross join search_docs d cross join messages m
              where search_fts match ${match} and d.id = f.rowid and m.blob_id = d.blob_id
                and +m.mailbox_id = ${mailboxId} and d.version = ${version} and d.whole = 1 and ${test}`.execute(tx)
          ).rows;
  }
  const unindexed = await sql<{ uid: number }>`select m.uid from messages m where m.mailbox_id = ${mailboxId}
    and not exists (select 1 from search_docs d where d.blob_id = m.blob_id and d.version = ${version} and d.whole = 1)`.execute(tx);
  const byUid = (a: number, b: number) => a - b;
  return { matched: matched.map((r) => Number(r.uid)).sort(byUid), unindexed: unindexed.rows.map((r) => Number(r.uid)).sort(byUid) };
}

export interface BacklogRow {
  id: number;
  blobId: string;
  structure: string;
}

/** Message rows after `afterId` whose blob the index lacks (at this version). */
export async function backlog(tx: Tx, version: number, afterId: number, limit: number): Promise<BacklogRow[]> {
  const rows = await sql<{ id: number; blob_id: string; structure: string }>`select m.id, m.blob_id, m.structure from messages m
    where m.id > ${afterId} and not exists (select 1 from search_docs d where d.blob_id = m.blob_id and d.version = ${version})
    order by m.id limit ${limit}`.execute(tx);
  return rows.rows.map((r) => ({ id: Number(r.id), blobId: r.blob_id, structure: r.structure }));
}

/**
 * SQLite keeps the text in a second table: a row whose text is missing would hide its
 * messages from every SEARCH, and text without a row is dead weight. (PostgreSQL keeps
 * both in one row.) Repair removes both kinds; the backlog pass re-indexes.
 */
export async function checkIndex(tx: Tx, dialect: Dialect): Promise<IntegrityProblem[]> {
  if (dialect !== 'sqlite') return [];
  const problems: IntegrityProblem[] = [];
  const missing = await sql<{ n: number }>`select count(*) as n from search_docs d where d.whole = 1 and not exists (select 1 from search_fts f where f.rowid = d.id)`.execute(tx);
  const m = Number(missing.rows[0]?.n ?? 0);
  if (m > 0) problems.push({ kind: 'search-index', detail: `${m} search index rows have no text`, repairable: true });
  const orphans = await sql<{ n: number }>`select count(*) as n from search_fts f where not exists (select 1 from search_docs d where d.id = f.rowid and d.whole = 1)`.execute(tx);
  const o = Number(orphans.rows[0]?.n ?? 0);
  if (o > 0) problems.push({ kind: 'search-index', detail: `${o} indexed texts belong to no search index row`, repairable: true });
  return problems;
}

export async function repairIndex(tx: Tx, dialect: Dialect): Promise<string[]> {
  if (dialect !== 'sqlite') return [];
  const actions: string[] = [];
  const missing = await sql`delete from search_docs where whole = 1 and not exists (select 1 from search_fts f where f.rowid = search_docs.id)`.execute(tx);
  const m = Number(missing.numAffectedRows ?? 0);
  if (m > 0) actions.push(`removed ${m} search index rows without text (to be indexed again)`);
  const orphans = await sql`delete from search_fts where rowid not in (select id from search_docs where whole = 1)`.execute(tx);
  const o = Number(orphans.numAffectedRows ?? 0);
  if (o > 0) actions.push(`removed ${o} indexed texts without a search index row`);
  return actions;
}
