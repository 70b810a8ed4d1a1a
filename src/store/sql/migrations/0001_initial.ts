// The first schema. Column types are chosen to mean the same on SQLite and
// PostgreSQL: `bigint` holds ids, sizes, times (epoch ms) and modseqs.

import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrate.js';

export const migration0001: Migration = {
  version: 1,
  name: 'initial',
  async up(db: Kysely<unknown>, dialect) {
    const id = dialect === 'postgres' ? sql`bigserial primary key` : sql`integer primary key autoincrement`;
    await sql`create table domains (
      id ${id},
      name text not null unique,
      created_at bigint not null
    )`.execute(db);
    await sql`create table accounts (
      id ${id},
      address text not null unique,
      domain_id bigint not null references domains(id),
      password_hash text not null,
      quota_bytes bigint not null default 0,
      used_bytes bigint not null default 0,
      disabled integer not null default 0,
      last_uid_validity bigint not null default 0,
      created_at bigint not null
    )`.execute(db);
    await sql`create index accounts_domain on accounts(domain_id)`.execute(db);
    await sql`create table aliases (
      id ${id},
      source text not null unique,
      domain_id bigint not null references domains(id),
      targets text not null
    )`.execute(db);
    await sql`create index aliases_domain on aliases(domain_id)`.execute(db);
    await sql`create table mailboxes (
      id ${id},
      account_id bigint not null references accounts(id),
      name text not null,
      special_use text,
      subscribed integer not null default 1,
      uid_validity bigint not null,
      uid_next bigint not null default 1,
      highest_modseq bigint not null default 1,
      messages bigint not null default 0,
      unseen bigint not null default 0,
      bytes bigint not null default 0,
      unique (account_id, name)
    )`.execute(db);
    await sql`create table messages (
      id ${id},
      mailbox_id bigint not null references mailboxes(id),
      uid bigint not null,
      message_id text not null unique,
      modseq bigint not null,
      flags integer not null default 0,
      keywords text not null default '[]',
      internal_date bigint not null,
      size bigint not null,
      blob_id text not null,
      structure text not null,
      unique (mailbox_id, uid)
    )`.execute(db);
    await sql`create index messages_modseq on messages(mailbox_id, modseq)`.execute(db);
    await sql`create index messages_blob on messages(blob_id)`.execute(db);
    await sql`create table tombstones (
      mailbox_id bigint not null,
      uid bigint not null,
      modseq bigint not null,
      primary key (mailbox_id, uid)
    )`.execute(db);
    await sql`create index tombstones_modseq on tombstones(mailbox_id, modseq)`.execute(db);
    await sql`create table audit_log (
      id ${id},
      at bigint not null,
      actor text not null,
      action text not null,
      account_id bigint,
      subject text not null,
      reason text not null,
      detail text not null
    )`.execute(db);
    await sql`create index audit_log_account on audit_log(account_id, at)`.execute(db);
    await sql`create index audit_log_at on audit_log(at)`.execute(db);
    await sql`create table leases (
      key text primary key,
      holder text not null,
      expires_at bigint not null
    )`.execute(db);
  },
};
