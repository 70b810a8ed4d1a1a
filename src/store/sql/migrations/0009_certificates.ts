// TLS certificates obtained over ACME, the ACME account key, and pending HTTP-01
// challenge tokens: in the store so that every node of a farm serves the same
// certificates and any node can answer the CA's validation request.

import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrate.js';

export const migration0009: Migration = {
  version: 9,
  name: 'certificates',
  async up(db: Kysely<unknown>) {
    await sql`create table tls_certificates (
      name text primary key,
      cert_pem text,
      key_pem text,
      not_after bigint,
      updated_at bigint not null,
      failures integer not null default 0,
      next_attempt_at bigint,
      last_error text
    )`.execute(db);
    await sql`create table acme_accounts (
      directory_url text primary key,
      key_pem text not null,
      account_url text,
      created_at bigint not null
    )`.execute(db);
    await sql`create table acme_challenges (
      token text primary key,
      key_authorization text not null,
      name text not null,
      expires_at bigint not null
    )`.execute(db);
  },
};
