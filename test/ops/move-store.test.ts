// steadymail move-store: a SQLite store with a row in every table of the schema moved
// into PostgreSQL and back into a new SQLite data directory; every row (ids included),
// the id counters and every body come back identical, clients keep their UIDs, and a
// new message gets ids never used before. Refused while the store is in use, into a
// non-empty target, and for a table the mover does not know.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';
import { TABLE_ROLES, unknownTables } from '../../src/ops/move-store/tables.js';
import { cliIn } from './cli-inprocess.js';
import { deliver, rawMessage, tempDir } from './helpers.js';

let dir: string;
before(() => {
  dir = tempDir();
});
after(() => rmSync(dir, { recursive: true, force: true }));

const pgEnv = (url: string) => ({ STEADYMAIL_STORE_DRIVER: 'postgres', STEADYMAIL_STORE_URL: url });

/** Fills a store through its API the way the server does. */
async function fillThroughApi(store: Store): Promise<void> {
  await store.createDomain('example.org');
  const alice = await store.createAccount({ address: 'alice@example.org', passwordHash: 'hash-a', quotaBytes: 50_000_000 });
  const bob = await store.createAccount({ address: 'bob@example.org', passwordHash: 'hash-b' });
  await store.addAlias('info@example.org', ['alice@example.org', 'bob@example.org']);
  const inbox = (await store.getMailbox(alice.id, 'INBOX'))!;
  const work = await store.createMailbox(alice.id, 'Work/Projekte Ü');
  for (let i = 1; i <= 12; i++) await deliver(store, inbox.id, rawMessage(i));
  await store.updateFlags(inbox.id, { uids: [1, 2, 3], operation: 'add', flags: ['\\Seen', '\\Flagged'], keywords: ['$Label1', 'project-x'] });
  await store.moveMessages(inbox.id, [4, 5], work.id, { actor: 'test', reason: 'filed' });
  // Expunged: tombstones, an audit entry, and the highest message row id gone (the counter must survive).
  await store.expungeMessages(inbox.id, [11, 12], { actor: 'test', reason: 'cleanup' });
  await store.setMetadata(alice.id, inbox.id, [{ name: '/private/comment', value: Buffer.from([0, 1, 2, 255]) }], 100);
  await store.setMetadata(alice.id, null, [{ name: '/shared/vendor/x', value: Buffer.from('server wide') }], 100);
  await store.putSieveScript(alice.id, 'vacation', 'require "vacation";\nvacation "away";\n');
  await store.activateSieveScript(alice.id, 'vacation');
  await store.recordAutoReply(alice.id, 'vacation', 'someone@example.net', 86_400_000);
  await store.acquireLease('search-backlog', 'node-a', 60_000);
  await store.recordAuthFailures(['ip:192.0.2.1'], 60_000);
  await store.setJunkScore(bob.id, 7.5);
  await store.setFilterListEntry(bob.id, 'block', '*@spam.example', true);
  await store.learnSender(bob.id, 'friend@example.net', 'ham');
  await store.greylist('192.0.2.1|a@example.net|bob@example.org', { delayMs: 60_000, retryWindowMs: 3_600_000, passMs: 86_400_000 });
  const blob = await store.blobs.put(Buffer.from('From: alice@example.org\r\nTo: x@example.net\r\nSubject: out\r\n\r\nbody\r\n'));
  await store.enqueueOutbound({ blobId: blob.id, size: blob.size, mailFrom: 'alice@example.org', recipients: ['x@example.net'], accountId: alice.id });
  await store.saveTlsCertificate('mail.example.org', '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n', '-----BEGIN PRIVATE KEY-----\ny\n-----END PRIVATE KEY-----\n', new Date('2027-01-01T00:00:00Z'));
  await store.putAcmeChallenge('token-1', 'token-1.key', 'mail.example.org', new Date('2027-01-01T00:00:00Z'));
  await store.webmail.putSettings(alice.id, {});
  await store.webmail.recordRecipients(alice.id, [{ address: 'x@example.net', name: 'X' }]);
  for (let i = 0; i < 3; i++) await store.indexSearchBacklog(0, 100);
}

/**
 * Tables the API calls above left empty get rows made from the catalog: every column a
 * value of its type (large numbers, non-ASCII text, bytes), foreign keys pointing at
 * existing rows, and a second row with NULL wherever NULL is allowed.
 */
function fillTheRest(file: string): string[] {
  const db = new BetterSqlite3(file);
  const filled: string[] = [];
  try {
    const tables = (db.prepare(`select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\'`).all() as Array<{ name: string }>).map((r) => r.name);
    for (const table of tables) {
      if (TABLE_ROLES[table] !== 'copy') continue;
      if ((db.prepare(`select count(*) as n from "${table}"`).get() as { n: number }).n > 0) continue;
      const cols = db.prepare(`pragma table_info("${table}")`).all() as Array<{ name: string; type: string; notnull: number; pk: number }>;
      const fks = db.prepare(`pragma foreign_key_list("${table}")`).all() as Array<{ from: string; table: string; to: string | null }>;
      for (const variant of [0, 1]) {
        const row: Record<string, unknown> = {};
        for (const c of cols) {
          const fk = fks.find((f) => f.from === c.name);
          if (fk) {
            row[c.name] = (db.prepare(`select "${fk.to ?? 'id'}" as v from "${fk.table}" order by 1 limit 1`).get() as { v: unknown }).v;
          } else if (variant === 1 && c.notnull === 0 && c.pk === 0) {
            row[c.name] = null;
          } else if (/int/i.test(c.type)) {
            row[c.name] = c.pk > 0 ? 1000 + variant : /bigint/i.test(c.type) ? 2 ** 41 + variant : 7 + variant;
          } else if (/real|double|float/i.test(c.type)) {
            row[c.name] = 0.25 + variant;
          } else if (/blob/i.test(c.type)) {
            row[c.name] = Buffer.from([0, 200, variant]);
          } else {
            row[c.name] = `${table}.${c.name} ✓ ${variant}`;
          }
        }
        const names = Object.keys(row);
        db.prepare(`insert into "${table}" (${names.map((n) => `"${n}"`).join(', ')}) values (${names.map(() => '?').join(', ')})`).run(...names.map((n) => row[n]));
      }
      filled.push(table);
    }
  } finally {
    db.close();
  }
  return filled;
}

type Dump = Record<string, string[]>;

/** Every copied table's rows as canonical JSON, sorted; plus the id counters. */
function dumpSqlite(file: string): { rows: Dump; counters: Record<string, number> } {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    const rows: Dump = {};
    for (const [table, role] of Object.entries(TABLE_ROLES)) {
      if (role !== 'copy') continue;
      rows[table] = (db.prepare(`select * from "${table}"`).all() as Array<Record<string, unknown>>)
        .map((r) => JSON.stringify(Object.keys(r).sort().map((k) => [k, Buffer.isBuffer(r[k]) ? (r[k]).toString('hex') : r[k]])))
        .sort();
    }
    const counters = Object.fromEntries((db.prepare('select name, seq from sqlite_sequence').all() as Array<{ name: string; seq: number }>).filter((r) => TABLE_ROLES[r.name] === 'copy').map((r) => [r.name, r.seq]));
    return { rows, counters };
  } finally {
    db.close();
  }
}

async function blobIds(store: Store): Promise<string[]> {
  const ids: string[] = [];
  for await (const b of store.blobs.list()) ids.push(b.id);
  return ids.sort();
}

test('every table of the schema (SQLite and PostgreSQL) is known to move-store', async () => {
  const data = join(dir, 'catalog');
  const lite = await openStore({ driver: 'sqlite', dataDir: data });
  await lite.close();
  const db = new BetterSqlite3(join(data, 'steadymail.db'), { readonly: true });
  const sqliteTables = (db.prepare(`select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\'`).all() as Array<{ name: string }>).map((r) => r.name);
  db.close();
  const pgDb = await createTestDatabase();
  try {
    await (await openStore({ driver: 'postgres', url: pgDb.url, dataDir: data })).close();
    const c = new pg.Client({ connectionString: pgDb.url });
    await c.connect();
    const pgTables = (await c.query(`select tablename from pg_tables where schemaname = current_schema()`)).rows.map((r: { tablename: string }) => r.tablename);
    await c.end();
    assert.deepEqual(unknownTables(sqliteTables), [], 'a SQLite table is missing from src/ops/move-store/tables.ts');
    assert.deepEqual(unknownTables(pgTables), [], 'a PostgreSQL table is missing from src/ops/move-store/tables.ts');
    const stale = Object.keys(TABLE_ROLES).filter((t) => !sqliteTables.includes(t) && !pgTables.includes(t));
    assert.deepEqual(stale, [], 'tables.ts names tables the schema no longer has');
  } finally {
    await pgDb.drop();
  }
});

test('SQLite → PostgreSQL → SQLite with every table filled: rows, ids, counters, bodies identical; UIDs kept; refusals', async () => {
  const source = join(dir, 'source');
  const store = await openStore({ driver: 'sqlite', dataDir: source });
  let uidNext: number;
  try {
    await fillThroughApi(store);
    const alice = (await store.getAccount('alice@example.org'))!;
    uidNext = (await store.getMailbox(alice.id, 'INBOX'))!.uidNext;
  } finally {
    await store.close();
  }
  const synthetic = fillTheRest(join(source, 'steadymail.db'));
  mkdirSync(join(source, 'dkim'), { recursive: true });
  writeFileSync(join(source, 'dkim', 'example.org.pem'), 'dkim key');
  const before = dumpSqlite(join(source, 'steadymail.db'));
  for (const [table, rows] of Object.entries(before.rows)) assert.ok(rows.length > 0, `${table} has rows before the move`);
  const sourceStore = await openStore({ driver: 'sqlite', dataDir: source });
  const sourceBlobs = await blobIds(sourceStore);
  await sourceStore.close();
  assert.ok(sourceBlobs.length >= 11);

  const pgDb = await createTestDatabase();
  try {
    // Refused while another process has the store open (here: this test's own connection).
    const holder = await openStore({ driver: 'sqlite', dataDir: source });
    let busy;
    try {
      busy = await cliIn(source, ['move-store', '--to', pgDb.url]);
    } finally {
      await holder.close();
    }
    assert.equal(busy.code, 75, busy.err);
    assert.match(busy.err, /in use by another process/);

    const moved = await cliIn(source, ['move-store', '--to', pgDb.url]);
    assert.equal(moved.code, 0, moved.err + moved.out);
    assert.match(moved.out, /verified: every table has the same rows/);
    assert.match(moved.out, /driver = "postgres"/);

    // Into a store that holds something: refused, and nothing changed there.
    const again = await cliIn(source, ['move-store', '--to', pgDb.url]);
    assert.equal(again.code, 73, again.err);
    assert.match(again.err, /not empty/);

    // Clients see the same mailbox: UIDs and UIDVALIDITY; a new message gets the next UID and a never-used row id.
    const pgStore = await openStore({ driver: 'postgres', url: pgDb.url, dataDir: join(dir, 'pg-data') });
    try {
      assert.deepEqual(await blobIds(pgStore), sourceBlobs);
      const alice = (await pgStore.getAccount('alice@example.org'))!;
      const inbox = (await pgStore.getMailbox(alice.id, 'INBOX'))!;
      assert.equal(inbox.uidNext, uidNext);
    } finally {
      await pgStore.close();
    }

    // A PostgreSQL store in use: refused.
    const busyPg = new pg.Client({ connectionString: pgDb.url });
    await busyPg.connect();
    let refused;
    try {
      refused = await cliIn(join(dir, 'pg-data'), ['move-store', '--to', `sqlite:${join(dir, 'back')}`], '', pgEnv(pgDb.url));
    } finally {
      await busyPg.end();
    }
    assert.equal(refused.code, 75, refused.err);
    assert.match(refused.err, /other session/);

    // And back into a new SQLite data directory.
    const back = join(dir, 'back');
    const returned = await cliIn(source, ['move-store', '--to', `sqlite:${back}`, '--json'], '', pgEnv(pgDb.url));
    assert.equal(returned.code, 0, returned.err + returned.out);
    const result = JSON.parse(returned.out) as { rows: number; blobs: number; files: string[]; check: { clean: boolean } };
    assert.equal(result.blobs, sourceBlobs.length);
    assert.ok(result.check.clean);
    assert.deepEqual(result.files, ['dkim'], 'the data directory files come along');
    assert.equal(readFileSync(join(back, 'dkim', 'example.org.pem'), 'utf8'), 'dkim key');

    const after = dumpSqlite(join(back, 'steadymail.db'));
    assert.deepEqual(after.rows, before.rows, 'every row of every table, ids included');
    assert.deepEqual(after.counters, before.counters, 'the id counters');
    const backStore = await openStore({ driver: 'sqlite', dataDir: back });
    try {
      assert.deepEqual(await blobIds(backStore), sourceBlobs);
      const alice = (await backStore.getAccount('alice@example.org'))!;
      const inbox = (await backStore.getMailbox(alice.id, 'INBOX'))!;
      const r = await deliver(backStore, inbox.id, rawMessage(99));
      assert.equal(r.uid, uidNext, 'the next UID continues where the source stopped');
      const db = new BetterSqlite3(join(back, 'steadymail.db'), { readonly: true });
      const maxId = (db.prepare('select max(id) as m from messages').get() as { m: number }).m;
      db.close();
      assert.ok(maxId > before.counters['messages']!, `a new message row id (${maxId}) is above every id the source handed out (${before.counters['messages']})`);
    } finally {
      await backStore.close();
    }
    assert.ok(synthetic.length > 0);
  } finally {
    await pgDb.drop();
  }
});

test('a table move-store does not know stops it before anything is copied', async () => {
  const source = join(dir, 'unknown-table');
  const store = await openStore({ driver: 'sqlite', dataDir: source });
  await store.createDomain('example.org');
  await store.close();
  const db = new BetterSqlite3(join(source, 'steadymail.db'));
  db.exec('create table plugin_state (k text primary key, v text)');
  db.close();
  const target = join(dir, 'unknown-target');
  const r = await cliIn(source, ['move-store', '--to', `sqlite:${target}`]);
  assert.equal(r.code, 65, r.err);
  assert.match(r.err, /does not know the table\(s\) plugin_state/);
  const t = new BetterSqlite3(join(target, 'steadymail.db'), { readonly: true });
  assert.equal((t.prepare('select count(*) as n from domains').get() as { n: number }).n, 0);
  t.close();
});
