// The two ends of a move-store, reached with the drivers directly (not through the
// Store): the catalog (tables, columns, foreign keys, id counters), rows streamed out
// and inserted in batches, all inside one transaction per side.
//
// Locks, so that nothing else uses either store while it is copied:
// - SQLite: `locking_mode = EXCLUSIVE` and BEGIN EXCLUSIVE. In WAL mode every open
//   connection holds a shared lock, so this fails while any other process (a running
//   serve, another command) has the database open, and once held, no other process can
//   open it until move-store ends.
// - PostgreSQL source: refused while any other session is connected to the database;
//   then every table is locked IN EXCLUSIVE MODE (reads go on, writes wait) in one
//   REPEATABLE READ transaction that is read from and rolled back at the end.

import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { MoveStoreError } from './tables.js';

export type Row = Record<string, unknown>;

export interface SqlSide {
  readonly dialect: 'sqlite' | 'postgres';
  /** SQLite: the connection holding the lock, for reading the bodies kept in the database. */
  readonly sqlite?: BetterSqlite3.Database;
  tables(): Promise<string[]>;
  columns(table: string): Promise<string[]>;
  /** Tables this one references by foreign key. */
  parents(table: string): Promise<string[]>;
  rows(table: string): AsyncIterable<Row>;
  count(table: string): Promise<number>;
  insert(table: string, columns: string[], rows: Row[]): Promise<void>;
  /** The id counter of an autoincrement/serial `id` column: the last id handed out (undefined: no such column). */
  counter(table: string): Promise<number | undefined>;
  setCounter(table: string, value: number): Promise<void>;
  schemaVersion(): Promise<number>;
  commit(): Promise<void>;
  /** Ends the transaction without keeping anything and disconnects. */
  close(): Promise<void>;
}

const ident = (name: string): string => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new MoveStoreError('schema', `unexpected name in the schema: ${JSON.stringify(name)}`);
  return `"${name}"`;
};

/** Rows per INSERT: under SQLite's and PostgreSQL's parameter limits. */
const batchRows = (columns: number): number => Math.max(1, Math.min(500, Math.floor(30_000 / Math.max(1, columns))));

export function openSqliteSide(file: string, options: { readonly: boolean }): SqlSide {
  const db = new BetterSqlite3(file, { fileMustExist: true, timeout: 1000 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('begin exclusive');
  } catch (err) {
    db.close();
    if (err instanceof Error && /locked|busy/i.test(err.message)) {
      throw new MoveStoreError('in-use', `${file} is in use by another process: stop every steadymail process using it (serve on every node, other commands) and run move-store again`);
    }
    throw err;
  }
  let open = true;
  const side: SqlSide = {
    dialect: 'sqlite',
    sqlite: db,
    tables: () => Promise.resolve((db.prepare(`select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\'`).all() as Array<{ name: string }>).map((r) => r.name)),
    columns: (table) => Promise.resolve((db.prepare(`pragma table_info(${ident(table)})`).all() as Array<{ name: string }>).map((r) => r.name)),
    parents: (table) => Promise.resolve([...new Set((db.prepare(`pragma foreign_key_list(${ident(table)})`).all() as Array<{ table: string }>).map((r) => r.table))]),
    async *rows(table) {
      for (const row of db.prepare(`select * from ${ident(table)}`).iterate()) yield row as Row;
    },
    count: (table) => Promise.resolve(Number((db.prepare(`select count(*) as n from ${ident(table)}`).get() as { n: number }).n)),
    insert(table, columns, rows) {
      if (options.readonly) throw new Error('the source is not written to');
      const per = batchRows(columns.length);
      for (let i = 0; i < rows.length; i += per) {
        const chunk = rows.slice(i, i + per);
        const values = chunk.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
        db.prepare(`insert into ${ident(table)} (${columns.map(ident).join(', ')}) values ${values}`).run(...chunk.flatMap((r) => columns.map((c) => r[c] ?? null)));
      }
      return Promise.resolve();
    },
    counter(table) {
      const def = db.prepare(`select sql from sqlite_master where type = 'table' and name = ?`).get(table) as { sql: string } | undefined;
      if (!def || !/autoincrement/i.test(def.sql)) return Promise.resolve(undefined);
      const seq = db.prepare('select seq from sqlite_sequence where name = ?').get(table) as { seq: number } | undefined;
      return Promise.resolve(Number(seq?.seq ?? 0));
    },
    setCounter(table, value) {
      const changed = db.prepare('update sqlite_sequence set seq = ? where name = ?').run(value, table).changes;
      if (changed === 0) db.prepare('insert into sqlite_sequence (name, seq) values (?, ?)').run(table, value);
      return Promise.resolve();
    },
    schemaVersion: () => Promise.resolve(Number((db.prepare('select max(version) as v from schema_version').get() as { v: number | null }).v ?? 0)),
    commit() {
      db.exec('commit');
      db.exec('begin exclusive');
      return Promise.resolve();
    },
    close() {
      if (open) {
        open = false;
        if (db.inTransaction) db.exec('rollback');
        db.close();
      }
      return Promise.resolve();
    },
  };
  return side;
}

export async function openPgSide(url: string, options: { readonly: boolean }): Promise<SqlSide> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let open = true;
  const q = async <T extends object>(text: string, values: unknown[] = []): Promise<T[]> => (await client.query(text, values)).rows as T[];
  try {
    if (options.readonly) {
      // Sessions that just closed (this command's own schema check) may linger a moment.
      let others: Array<{ n: number; apps: string | null }> = [];
      for (let attempt = 0; attempt < 30; attempt++) {
        others = await q<{ n: number; apps: string | null }>(
          `select count(*)::int as n, string_agg(distinct coalesce(nullif(application_name, ''), client_addr::text, 'local'), ', ') as apps
             from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`,
        );
        if ((others[0]?.n ?? 0) === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      if ((others[0]?.n ?? 0) > 0) {
        throw new MoveStoreError('in-use', `${others[0]!.n} other session(s) are connected to the source database (${others[0]!.apps ?? '?'}): stop every steadymail node and command using it and run move-store again`);
      }
      await client.query('begin isolation level repeatable read');
      const tables = await q<{ tablename: string }>(`select tablename from pg_tables where schemaname = current_schema()`);
      try {
        for (const t of tables) await client.query(`lock table ${ident(t.tablename)} in exclusive mode nowait`);
      } catch (err) {
        throw new MoveStoreError('in-use', `the source database is in use (a table is locked: ${err instanceof Error ? err.message : String(err)})`);
      }
    } else {
      await client.query('begin');
    }
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  let cursor = 0;
  // No query may fail inside the transaction (it would abort it): ask only about tables that have an id column.
  const serialSequence = async (table: string): Promise<string | undefined> =>
    (
      await q<{ s: string | null }>(
        `select pg_get_serial_sequence(quote_ident(table_name), column_name) as s from information_schema.columns
          where table_schema = current_schema() and table_name = $1 and column_name = 'id'`,
        [table],
      )
    )[0]?.s ?? undefined;
  return {
    dialect: 'postgres',
    tables: async () => (await q<{ tablename: string }>(`select tablename from pg_tables where schemaname = current_schema()`)).map((r) => r.tablename),
    columns: async (table) =>
      (await q<{ column_name: string }>(`select column_name from information_schema.columns where table_schema = current_schema() and table_name = $1 order by ordinal_position`, [table])).map((r) => r.column_name),
    parents: async (table) =>
      (
        await q<{ parent: string }>(
          `select distinct confrelid::regclass::text as parent from pg_constraint where contype = 'f' and conrelid = $1::regclass`,
          [ident(table)],
        )
      ).map((r) => r.parent.replace(/^"|"$/g, '')),
    async *rows(table) {
      const name = `move_${++cursor}`;
      await client.query(`declare ${name} no scroll cursor for select * from ${ident(table)}`);
      try {
        for (;;) {
          const batch = await q<Row>(`fetch 1000 from ${name}`);
          if (batch.length === 0) break;
          yield* batch;
        }
      } finally {
        await client.query(`close ${name}`);
      }
    },
    count: async (table) => (await q<{ n: number }>(`select count(*)::bigint as n from ${ident(table)}`))[0]?.n ?? 0,
    async insert(table, columns, rows) {
      if (options.readonly) throw new Error('the source is not written to');
      const per = batchRows(columns.length);
      for (let i = 0; i < rows.length; i += per) {
        const chunk = rows.slice(i, i + per);
        let n = 0;
        const values = chunk.map(() => `(${columns.map(() => `$${++n}`).join(', ')})`).join(', ');
        await client.query(`insert into ${ident(table)} (${columns.map(ident).join(', ')}) values ${values}`, chunk.flatMap((r) => columns.map((c) => r[c] ?? null)));
      }
    },
    async counter(table) {
      const seq = await serialSequence(table);
      if (seq === undefined) return undefined;
      const row = (await q<{ last_value: number; is_called: boolean }>(`select last_value, is_called from ${seq}`))[0];
      return row?.is_called === true ? Number(row.last_value) : 0;
    },
    async setCounter(table, value) {
      const seq = await serialSequence(table);
      if (seq === undefined) return;
      // setval(…, false) makes the next id 1 for a counter that never handed one out.
      await client.query(`select setval($1, $2, $3)`, [seq, Math.max(1, value), value > 0]);
    },
    schemaVersion: async () => Number((await q<{ v: number | null }>('select max(version) as v from schema_version'))[0]?.v ?? 0),
    async commit() {
      await client.query('commit');
      await client.query('begin');
    },
    async close() {
      if (!open) return;
      open = false;
      await client.query('rollback').catch(() => undefined);
      await client.end();
    },
  };
}
