// Sieve: each account's scripts (at most one active) and the record of vacation
// replies sent, so that a sender gets one reply per :days (RFC 5230 4.1).

import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrate.js';

export const migration0005: Migration = {
  version: 5,
  name: 'sieve scripts and vacation replies',
  async up(db: Kysely<unknown>, dialect) {
    const id = dialect === 'postgres' ? sql`bigserial primary key` : sql`integer primary key autoincrement`;
    await sql`create table sieve_scripts (
      id ${id},
      account_id bigint not null,
      name text not null,
      content text not null,
      active integer not null default 0,
      updated_at bigint not null,
      unique (account_id, name)
    )`.execute(db);
    await sql`create table sieve_replies (
      account_id bigint not null,
      handle text not null,
      sender text not null,
      expires_at bigint not null,
      primary key (account_id, handle, sender)
    )`.execute(db);
  },
};
