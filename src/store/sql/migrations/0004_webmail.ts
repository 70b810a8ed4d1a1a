// Webmail: sessions (shared by every worker and node), per-account settings, the
// recipients an account has written to (address autocomplete), uploaded attachments
// waiting to be sent, and indexes that let the message list page through a large
// mailbox by date, size, sender or subject without reading every row.

import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrate.js';
import { sortKeyExpression } from '../webmail.js';

export const migration0004: Migration = {
  version: 4,
  name: 'webmail',
  async up(db: Kysely<unknown>, dialect) {
    const id = dialect === 'postgres' ? sql`bigserial primary key` : sql`integer primary key autoincrement`;
    await sql`create table webmail_sessions (
      id ${id},
      token_hash text not null unique,
      public_id text not null unique,
      account_id bigint not null references accounts(id) on delete cascade,
      csrf_token text not null,
      created_at bigint not null,
      last_seen_at bigint not null,
      expires_at bigint not null,
      remote_address text not null
    )`.execute(db);
    await sql`create index webmail_sessions_account on webmail_sessions(account_id)`.execute(db);
    await sql`create index webmail_sessions_expires on webmail_sessions(expires_at)`.execute(db);
    await sql`create table webmail_settings (
      account_id bigint primary key references accounts(id) on delete cascade,
      display_name text not null default '',
      signature text not null default '',
      updated_at bigint not null
    )`.execute(db);
    await sql`create table webmail_recipients (
      account_id bigint not null references accounts(id) on delete cascade,
      address text not null,
      name text not null default '',
      uses bigint not null default 1,
      last_used_at bigint not null,
      primary key (account_id, address)
    )`.execute(db);
    await sql`create table webmail_uploads (
      id text primary key,
      account_id bigint not null references accounts(id) on delete cascade,
      blob_id text not null,
      filename text not null,
      content_type text not null,
      size bigint not null,
      created_at bigint not null
    )`.execute(db);
    await sql`create index webmail_uploads_account on webmail_uploads(account_id, created_at)`.execute(db);
    // Message list sorting: date and size by column, sender and subject by the cached
    // structure's sort keys (an expression index, the same expression the queries use).
    await sql`create index messages_webmail_date on messages(mailbox_id, internal_date)`.execute(db);
    await sql`create index messages_webmail_size on messages(mailbox_id, size)`.execute(db);
    await sql`create index messages_webmail_from on messages(mailbox_id, ${sortKeyExpression(dialect, 'from')})`.execute(db);
    await sql`create index messages_webmail_subject on messages(mailbox_id, ${sortKeyExpression(dialect, 'subject')})`.execute(db);
  },
};
