// The outbound queue: one entry per (message, recipient domain).

import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrate.js';

export const migration0003: Migration = {
  version: 3,
  name: 'outbound queue',
  async up(db: Kysely<unknown>, dialect) {
    const id = dialect === 'postgres' ? sql`bigserial primary key` : sql`integer primary key autoincrement`;
    await sql`create table queue (
      id ${id},
      blob_id text not null,
      size bigint not null,
      mail_from text not null,
      domain text not null,
      recipients text not null,
      account_id bigint,
      state text not null,
      attempts integer not null default 0,
      next_attempt_at bigint not null,
      last_error text,
      lease_holder text,
      lease_expires_at bigint,
      created_at bigint not null,
      updated_at bigint not null
    )`.execute(db);
    await sql`create index queue_due on queue(state, next_attempt_at)`.execute(db);
    await sql`create index queue_blob on queue(blob_id)`.execute(db);
  },
};
