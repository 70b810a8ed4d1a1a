// Small message bodies of an SQLite installation live in the database
// (blobs/sqlite.ts): written through the group commit, many of them share one WAL
// fsync instead of three fsyncs each as files. One row per body, the bytes last so
// that reading the size does not read them. PostgreSQL keeps every body in the
// tables of migration 0002 and has no use for this one.

import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrate.js';

export const migration0014: Migration = {
  version: 14,
  name: 'sqlite inline blobs',
  async up(db: Kysely<unknown>, dialect) {
    if (dialect !== 'sqlite') return;
    await sql`create table inline_blobs (
      id text primary key,
      size integer not null,
      touched_at integer not null,
      data blob not null
    )`.execute(db);
  },
};
