// The full-text search index for IMAP SEARCH BODY/TEXT/HEADER (sql/search-index.ts).
//
// One row per blob (blobs are content-addressed, so copies and moves share it),
// holding the decoded text lowercased. SQLite: an FTS5 table with the trigram
// tokenizer (trigrams without positions), which narrows substring queries of 3+
// characters to the rows holding all of the needle's trigrams; PostgreSQL: the
// text in the table with pg_trgm GIN indexes, which serve LIKE '%…%'. Both only
// narrow the candidates: the exact substring test runs in the same query.
// Existing messages are indexed after the migration by the backlog pass.
//
// Also `mailboxes.first_recent_uid` for RFC 3501 \Recent: messages from that UID on
// are recent and not yet claimed by a session (0 in a new mailbox: all of them;
// existing mailboxes start with none recent).
//
// And `metadata` for RFC 5464 METADATA: entries per account, on a mailbox or (mailbox
// 0) on the server, names lowercased (they are case-insensitive), values binary.

import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrate.js';

export const migration0008: Migration = {
  version: 8,
  name: 'imap search index, recent, metadata',
  async up(db: Kysely<unknown>, dialect) {
    await sql`alter table mailboxes add column first_recent_uid bigint not null default 0`.execute(db);
    await sql`update mailboxes set first_recent_uid = uid_next`.execute(db);
    await sql`create table metadata (
      account_id bigint not null,
      mailbox_id bigint not null,
      name text not null,
      value ${dialect === 'postgres' ? sql`bytea` : sql`blob`} not null,
      primary key (account_id, mailbox_id, name)
    )`.execute(db);
    if (dialect === 'sqlite') {
      await sql`create table search_docs (
        id integer primary key autoincrement,
        blob_id text not null unique,
        version integer not null,
        whole integer not null,
        indexed_at bigint not null
      )`.execute(db);
      // detail=none: no positions or columns, a sixth of the size of the default; a
      // needle is then matched as all of its trigrams, and the exact test confirms.
      await sql`create virtual table search_fts using fts5(headers, body, tokenize = 'trigram', detail = none)`.execute(db);
      return;
    }
    await sql`create table search_docs (
      id bigserial primary key,
      blob_id text not null unique,
      version integer not null,
      whole integer not null,
      headers text not null,
      body text not null,
      indexed_at bigint not null
    )`.execute(db);
    // pg_trgm is a trusted extension (PostgreSQL 13+), but a database user may still
    // lack the right to create it: then searches read the stored text without an index.
    const available = await sql<{ n: number }>`select count(*)::int as n from pg_available_extensions where name = 'pg_trgm'`.execute(db);
    if ((available.rows[0]?.n ?? 0) === 0) return;
    await sql`savepoint trgm`.execute(db);
    try {
      await sql`create extension if not exists pg_trgm`.execute(db);
      await sql`release savepoint trgm`.execute(db);
    } catch {
      await sql`rollback to savepoint trgm`.execute(db);
      return;
    }
    await sql`create index search_docs_headers_trgm on search_docs using gin (headers gin_trgm_ops)`.execute(db);
    await sql`create index search_docs_body_trgm on search_docs using gin (body gin_trgm_ops)`.execute(db);
  },
};
