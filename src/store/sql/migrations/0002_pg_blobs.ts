// Farm mode keeps message bodies in PostgreSQL, chunked (see blobs/postgres.ts).
// On SQLite the bodies are files, so this migration does nothing there.

import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrate.js';

export const migration0002: Migration = {
  version: 2,
  name: 'postgres blob tables',
  async up(db: Kysely<unknown>, dialect) {
    if (dialect !== 'postgres') return;
    await sql`create table blobs (
      id text primary key,
      size bigint not null,
      touched_at bigint not null
    )`.execute(db);
    await sql`create table blob_chunks (
      blob_id text not null,
      seq integer not null,
      data bytea not null,
      primary key (blob_id, seq)
    )`.execute(db);
    // Stored compressed would cost CPU for mail that is mostly already compact.
    await sql`alter table blob_chunks alter column data set storage external`.execute(db);
  },
};
