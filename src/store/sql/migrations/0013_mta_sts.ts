// MTA-STS policies (RFC 8461) the outbound queue fetched, cached by recipient domain in
// the store so that every process and node enforces the same policy and a policy keeps
// applying while its web server is unreachable (RFC 8461 5.1).

import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrate.js';

export const migration0013: Migration = {
  version: 13,
  name: 'mta-sts policy cache',
  async up(db: Kysely<unknown>) {
    await sql`create table mta_sts_policies (
      domain text primary key,
      policy_id text not null,
      mode text not null,
      mx text not null,
      max_age integer not null,
      fetched_at bigint not null,
      expires_at bigint not null
    )`.execute(db);
  },
};
