// Every upgrade path: for each schema version N of MIGRATIONS (whatever migrations
// exist), a database is created at version N with data in every table the first
// schema has, then opened by this release (which migrates it to the latest version),
// on SQLite and on PostgreSQL. The data must be intact (same rows, same values), the
// store must work and check clean, and the upgraded schema must equal a fresh one.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { indexMessage, toStoredStructure } from '../../src/mime/index.js';
import { openStore, type StoreOptions } from '../../src/store/open.js';
import { MIGRATIONS, SCHEMA_VERSION, migrate, type Dialect } from '../../src/store/sql/migrate.js';
import type { Database } from '../../src/store/sql/schema.js';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';
import { runCheck } from '../../src/ops/check.js';
import { inspectSchema } from '../../src/store/schema-status.js';

/** The tables and columns of the first schema: what every later version must keep. */
const KEPT: Record<string, { key: string; columns: string[] }> = {
  domains: { key: 'id', columns: ['id', 'name', 'created_at'] },
  accounts: { key: 'id', columns: ['id', 'address', 'domain_id', 'password_hash', 'quota_bytes', 'used_bytes', 'disabled', 'last_uid_validity', 'created_at'] },
  aliases: { key: 'id', columns: ['id', 'source', 'domain_id', 'targets'] },
  mailboxes: { key: 'id', columns: ['id', 'account_id', 'name', 'special_use', 'subscribed', 'uid_validity', 'uid_next', 'highest_modseq', 'messages', 'unseen', 'bytes'] },
  messages: { key: 'id', columns: ['id', 'mailbox_id', 'uid', 'message_id', 'modseq', 'flags', 'keywords', 'internal_date', 'size', 'blob_id', 'structure'] },
  tombstones: { key: 'uid', columns: ['mailbox_id', 'uid', 'modseq'] },
  audit_log: { key: 'id', columns: ['id', 'at', 'actor', 'action', 'account_id', 'subject', 'reason', 'detail'] },
  leases: { key: 'key', columns: ['key', 'holder', 'expires_at'] },
};

function body(n: number): Buffer {
  return Buffer.from(`From: old${n}@example.net\r\nTo: alice@example.org\r\nSubject: kept across upgrades ${n}\r\n\r\nbody ${n}\r\n`);
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Data as an older release wrote it: plain rows in the first schema's tables. */
async function fill(db: Kysely<Database>): Promise<void> {
  const now = Date.UTC(2025, 0, 1);
  await sql`insert into domains (name, created_at) values ('example.org', ${now})`.execute(db);
  await sql`insert into accounts (address, domain_id, password_hash, quota_bytes, used_bytes, disabled, last_uid_validity, created_at)
    values ('alice@example.org', 1, '$argon2id$v=19$m=1024,t=1,p=1$old', 1000000, ${body(1).length + body(2).length + body(3).length}, 0, 1001, ${now})`.execute(db);
  await sql`insert into aliases (source, domain_id, targets) values ('info@example.org', 1, '["alice@example.org"]')`.execute(db);
  await sql`insert into mailboxes (account_id, name, special_use, subscribed, uid_validity, uid_next, highest_modseq, messages, unseen, bytes)
    values (1, 'INBOX', null, 1, 1000, 4, 9, 2, 1, ${body(1).length + body(2).length})`.execute(db);
  await sql`insert into mailboxes (account_id, name, special_use, subscribed, uid_validity, uid_next, highest_modseq, messages, unseen, bytes)
    values (1, 'Sent', '\\Sent', 1, 1001, 2, 3, 1, 0, ${body(3).length})`.execute(db);
  const msg = (mailbox: number, uid: number, n: number, flags: number, keywords: string, modseq: number) =>
    sql`insert into messages (mailbox_id, uid, message_id, modseq, flags, keywords, internal_date, size, blob_id, structure)
      values (${mailbox}, ${uid}, ${`mid-${n}`}, ${modseq}, ${flags}, ${keywords}, ${now + n * 1000}, ${body(n).length}, ${sha(body(n))}, ${JSON.stringify(toStoredStructure(indexMessage(body(n))))})`.execute(db);
  await msg(1, 1, 1, 1, '["$Important"]', 8);
  await msg(1, 3, 2, 0, '[]', 9);
  await msg(2, 1, 3, 1, '[]', 3);
  await sql`insert into tombstones (mailbox_id, uid, modseq) values (1, 2, 7)`.execute(db);
  await sql`insert into audit_log (at, actor, action, account_id, subject, reason, detail) values (${now}, 'user:alice@example.org', 'message.expunge', 1, 'INBOX uid 2', 'expunged', '{"uids":[2]}')`.execute(db);
  await sql`insert into leases (key, holder, expires_at) values ('pop3:1', 'node-a', ${now})`.execute(db);
}

async function keptRows(db: Kysely<Database>): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, { key, columns }] of Object.entries(KEPT)) {
    const rows = await sql<Record<string, string | number | null>>`select ${sql.join(columns.map((c) => sql.ref(c)))} from ${sql.table(table)} order by ${sql.ref(key)}`.execute(db);
    // PostgreSQL returns bigint as strings here (raw pool): compare as strings.
    out[table] = rows.rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] === null ? null : String(r[c])])));
  }
  return out;
}

/** table → sorted column names. */
async function columnsOf(db: Kysely<Database>, dialect: Dialect): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  if (dialect === 'sqlite') {
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(db);
    for (const { name } of tables.rows) {
      out[name] = (await sql<{ name: string }>`select name from pragma_table_info(${name})`.execute(db)).rows.map((r) => r.name).sort();
    }
  } else {
    const cols = await sql<{ t: string; c: string }>`select table_name as t, column_name as c from information_schema.columns where table_schema = 'public' order by 1, 2`.execute(db);
    for (const { t, c } of cols.rows) (out[t] ??= []).push(c);
  }
  return out;
}

interface Backend {
  dialect: Dialect;
  /** A raw database plus the store options that open it, and cleanup. */
  create(): Promise<{ db: Kysely<Database>; options: StoreOptions; dispose: () => Promise<void>; closeRaw: () => Promise<void> }>;
}

const sqliteBackend: Backend = {
  dialect: 'sqlite',
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'steadymail-migrations-'));
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(join(dir, 'steadymail.db')) }) });
    return { db, options: { driver: 'sqlite', dataDir: dir }, closeRaw: () => db.destroy(), dispose: () => rm(dir, { recursive: true, force: true }) };
  },
};

/** A pool whose idle connections may be ended by the server (as a database drop does) without an unhandled error. */
function quietPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined);
  return pool;
}

const pgBackend: Backend = {
  dialect: 'postgres',
  async create() {
    const t = await createTestDatabase();
    const dir = await mkdtemp(join(tmpdir(), 'steadymail-migrations-pg-'));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: quietPool(t.url, 2) }) });
    let closed = false;
    const closeRaw = async () => {
      if (!closed) await db.destroy();
      closed = true;
    };
    return {
      db,
      options: { driver: 'postgres', url: t.url, dataDir: dir },
      closeRaw,
      dispose: async () => {
        await closeRaw();
        await t.drop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

async function freshColumns(backend: Backend): Promise<Record<string, string[]>> {
  const b = await backend.create();
  try {
    await migrate(b.db, backend.dialect);
    return await columnsOf(b.db, backend.dialect);
  } finally {
    await b.closeRaw();
    await b.dispose();
  }
}

test('migrations are numbered 1, 2, 3, … without gaps (SCHEMA_VERSION is their count)', () => {
  assert.deepEqual(
    MIGRATIONS.map((m) => m.version),
    Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
  );
});

for (const backend of [sqliteBackend, pgBackend]) {
  describe(`upgrades on ${backend.dialect}`, () => {
    let fresh: Record<string, string[]> | undefined;
    for (let from = 1; from <= SCHEMA_VERSION; from++) {
      test(from < SCHEMA_VERSION ? `from schema version ${from} to ${SCHEMA_VERSION}, with data` : `at schema version ${from} (nothing pending), with data`, async () => {
        fresh ??= await freshColumns(backend);
        const b = await backend.create();
        try {
          await migrate(b.db, backend.dialect, from);
          await fill(b.db);
          const before = await keptRows(b.db);
          await b.closeRaw();

          const status = await inspectSchema(b.options);
          assert.deepEqual([status.current, status.latest, status.hasData], [from, SCHEMA_VERSION, true]);
          assert.deepEqual(status.pending.map((m) => m.version), MIGRATIONS.filter((m) => m.version > from).map((m) => m.version));

          const store = await openStore(b.options);
          try {
            for (const n of [1, 2, 3]) await store.blobs.put(body(n));
            const alice = (await store.getAccount('alice@example.org'))!;
            assert.equal(alice.quotaBytes, 1000000);
            const inbox = (await store.getMailbox(alice.id, 'INBOX'))!;
            assert.deepEqual([inbox.uidValidity, inbox.uidNext, inbox.highestModseq, inbox.messages, inbox.unseen], [1000, 4, 9, 2, 1]);
            const msgs = await store.listMessages(inbox.id);
            assert.deepEqual(msgs.map((m) => [m.uid, m.messageId, m.flags, m.keywords]), [
              [1, 'mid-1', ['\\Seen'], ['$Important']],
              [3, 'mid-2', [], []],
            ]);
            assert.deepEqual(await store.blobs.get(msgs[0]!.blobId), body(1));
            assert.deepEqual((await store.changesSince(inbox.id, 6)).vanished, [2]);
            const info = await store.resolveRecipient('info@example.org');
            assert.equal(info.kind, 'alias');
            assert.equal((await store.listAudit({ accountId: alice.id }))[0]?.action, 'message.expunge');
            const report = await runCheck(store, { hash: true, structure: 'full' });
            assert.deepEqual(report.problems, [], 'the upgraded store checks clean');
            // It takes new mail where the old release left off.
            const blob = await store.blobs.put(body(4));
            const r = await store.appendMessage(inbox.id, { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: toStoredStructure(indexMessage(body(4))) });
            assert.equal(r.uid, 4);
          } finally {
            await store.close();
          }
          const reopened = backend.dialect === 'sqlite'
            ? new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(join(b.options.dataDir, 'steadymail.db')) }) })
            : new Kysely<Database>({ dialect: new PostgresDialect({ pool: quietPool((b.options as { url: string }).url, 1) }) });
          try {
            const now = await keptRows(reopened);
            // The append above added one message and moved the counters; everything else is as written.
            now['messages'] = now['messages']!.slice(0, before['messages']!.length);
            const { mailboxes: m1, accounts: a1, ...restBefore } = before;
            const { mailboxes: m2, accounts: a2, ...restNow } = now;
            assert.deepEqual(restNow, restBefore);
            assert.deepEqual(m2!.slice(1), m1!.slice(1), 'other mailboxes unchanged');
            assert.equal(a2!.length, a1!.length);
            assert.deepEqual(await columnsOf(reopened, backend.dialect), fresh, 'the upgraded schema is the fresh schema');
          } finally {
            await reopened.destroy();
          }
          if (backend.dialect === 'sqlite' && from < SCHEMA_VERSION) {
            const copies = await readdir(join(b.options.dataDir, 'backups'));
            assert.equal(copies.length, 1);
            assert.match(copies[0]!, new RegExp(`^pre-migration-${from}-`));
          }
        } finally {
          await b.dispose();
        }
      });
    }
  });
}
