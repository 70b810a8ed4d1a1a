// Session history, protocol traces and the live session list (src/sessions).
//   - session_history: one row per finished session (written once, at its end).
//   - live_sessions: one row per open session of any process or node, refreshed by its
//     owner (seen_at); kill_requested asks the owner to end it.
//   - trace_switches: an operator's "trace this account until …" with the bytes used.
//   - trace_lines: the recorded commands and replies, per session, in order.
// Accounts are named by login address (lower case), so that a failed login of a name
// that has no account still shows in the history of that name.

import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrate.js';

export const migration0011: Migration = {
  version: 11,
  name: 'session history and traces',
  async up(db: Kysely<unknown>, dialect) {
    const id = dialect === 'postgres' ? sql`bigserial primary key` : sql`integer primary key autoincrement`;
    await sql`create table session_history (
      id ${id},
      session_id text not null,
      account text,
      protocol text not null,
      node text not null,
      client_ip text not null,
      client_id text,
      tls text,
      login text not null,
      started_at bigint not null,
      ended_at bigint not null,
      end_reason text not null,
      bytes_in bigint not null,
      bytes_out bigint not null,
      commands integer not null,
      traced integer not null
    )`.execute(db);
    await sql`create index session_history_account on session_history(account, started_at)`.execute(db);
    await sql`create index session_history_ended on session_history(ended_at)`.execute(db);
    await sql`create table live_sessions (
      session_id text primary key,
      node text not null,
      protocol text not null,
      client_ip text not null,
      client_id text,
      tls text,
      account text,
      started_at bigint not null,
      seen_at bigint not null,
      kill_requested integer not null
    )`.execute(db);
    await sql`create index live_sessions_node on live_sessions(node)`.execute(db);
    await sql`create table trace_switches (
      account text primary key,
      until_at bigint not null,
      bodies integer not null,
      bytes bigint not null,
      created_at bigint not null
    )`.execute(db);
    await sql`create table trace_lines (
      id ${id},
      account text not null,
      session_id text not null,
      protocol text not null,
      at bigint not null,
      direction text not null,
      line text not null
    )`.execute(db);
    await sql`create index trace_lines_account on trace_lines(account, id)`.execute(db);
    await sql`create index trace_lines_session on trace_lines(session_id, id)`.execute(db);
  },
};
