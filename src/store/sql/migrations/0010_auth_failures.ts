// Failed-login counters shared by every process and node, so that login throttling
// counts across workers and across a farm (src/auth/throttle.ts).

import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrate.js';

export const migration0010: Migration = {
  version: 10,
  name: 'auth failure counters',
  async up(db: Kysely<unknown>) {
    await sql`create table auth_failures (
      key text primary key,
      count integer not null,
      first_at bigint not null
    )`.execute(db);
    await sql`create index auth_failures_first_at on auth_failures(first_at)`.execute(db);
  },
};
