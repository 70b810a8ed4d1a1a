// The operator console: admin accounts (apart from mail accounts), their API tokens and
// sign-in sessions, and messages counted per hour for the console's traffic chart.
// Tokens and session cookies are stored as sha256 hashes only.

import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrate.js';

export const migration0012: Migration = {
  version: 12,
  name: 'admin console',
  async up(db: Kysely<unknown>, dialect) {
    const id = dialect === 'postgres' ? sql`bigserial primary key` : sql`integer primary key autoincrement`;
    await sql`create table admin_accounts (
      id ${id},
      name text not null unique,
      password_hash text not null,
      created_at bigint not null
    )`.execute(db);
    await sql`create table admin_tokens (
      id text primary key,
      label text not null,
      token_hash text not null unique,
      created_by text not null,
      created_at bigint not null,
      last_used_at bigint,
      revoked_at bigint
    )`.execute(db);
    await sql`create table admin_sessions (
      id ${id},
      token_hash text not null unique,
      admin_id bigint not null references admin_accounts(id) on delete cascade,
      csrf_token text not null,
      created_at bigint not null,
      expires_at bigint not null,
      remote_address text not null
    )`.execute(db);
    await sql`create index admin_sessions_expires on admin_sessions(expires_at)`.execute(db);
    await sql`create table traffic_hourly (
      hour bigint primary key,
      received bigint not null default 0,
      delivered_local bigint not null default 0,
      transmitted bigint not null default 0,
      failed bigint not null default 0
    )`.execute(db);
    await sql`create index audit_log_actor on audit_log(actor, id)`.execute(db);
  },
};
