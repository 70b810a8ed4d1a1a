// Inbound filtering state: greylisting triplets, per-account junk thresholds and
// allow/block lists, and what users taught by moving mail into or out of Junk.
// Per-account rows go with their account (on delete cascade).

import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrate.js';

export const migration0006: Migration = {
  version: 6,
  name: 'inbound filter',
  async up(db: Kysely<unknown>, dialect) {
    const real = dialect === 'postgres' ? sql`double precision` : sql`real`;
    await sql`create table filter_greylist (
      triplet text primary key,
      first_seen bigint not null,
      last_seen bigint not null,
      passed_at bigint
    )`.execute(db);
    await sql`create index filter_greylist_last_seen on filter_greylist(last_seen)`.execute(db);
    await sql`create table filter_accounts (
      account_id bigint primary key references accounts(id) on delete cascade,
      junk_score ${real}
    )`.execute(db);
    await sql`create table filter_lists (
      account_id bigint not null references accounts(id) on delete cascade,
      kind text not null,
      pattern text not null,
      created_at bigint not null,
      primary key (account_id, kind, pattern)
    )`.execute(db);
    await sql`create table filter_senders (
      account_id bigint not null references accounts(id) on delete cascade,
      sender text not null,
      spam integer not null default 0,
      ham integer not null default 0,
      updated_at bigint not null,
      primary key (account_id, sender)
    )`.execute(db);
  },
};
