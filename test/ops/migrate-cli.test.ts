// steadymail migrate [--dry-run]: lists pending migrations without changing anything;
// applies them after a copy of the database (SQLite: its own snapshot; PostgreSQL: a
// pg_dump that restores to the old version); refuses a schema newer than the release.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { MIGRATIONS, SCHEMA_VERSION, migrate } from '../../src/store/sql/migrate.js';
import type { Database } from '../../src/store/sql/schema.js';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';
import { inspectSchema } from '../../src/store/schema-status.js';
import { pgRestore } from '../../src/ops/pg-backup.js';
import { cliIn } from './cli-inprocess.js';
import { tempDir } from './helpers.js';

const OLD = SCHEMA_VERSION - 1;
const last = MIGRATIONS[MIGRATIONS.length - 1]!;

async function oldDatabase(db: Kysely<Database>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  await migrate(db, dialect, OLD);
  await db.insertInto('domains').values({ name: 'example.org', created_at: Date.now() }).execute();
  await db.destroy();
}

test('SQLite: --dry-run lists and changes nothing; migrate copies then applies; a newer schema is refused', async () => {
  const dir = tempDir();
  try {
    const fresh = await cliIn(join(dir, 'none'), ['migrate', '--dry-run']);
    assert.equal(fresh.code, 0, fresh.err);
    assert.match(fresh.out, /no store yet/);
    assert.ok(!existsSync(join(dir, 'none', 'steadymail.db')), 'a dry run creates no store');

    const data = join(dir, 'data');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(data);
    await oldDatabase(new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(join(data, 'steadymail.db')) }) }), 'sqlite');

    const dry = await cliIn(data, ['migrate', '--dry-run']);
    assert.equal(dry.code, 0, dry.err);
    assert.match(dry.out, new RegExp(`schema version ${OLD} \\(this release: ${SCHEMA_VERSION}\\)`));
    assert.match(dry.out, new RegExp(`pending: ${String(last.version).padStart(4, '0')} ${last.name}`));
    assert.match(dry.out, /a copy of the database is written to .*pre-migration-/);
    const json = JSON.parse((await cliIn(data, ['migrate', '--dry-run', '--json'])).out) as { current: number; pending: Array<{ version: number }> };
    assert.deepEqual([json.current, json.pending.map((m) => m.version)], [OLD, [SCHEMA_VERSION]]);
    assert.equal((await inspectSchema({ driver: 'sqlite', dataDir: data })).current, OLD, 'the dry run changed nothing');
    assert.ok(!existsSync(join(data, 'backups')));

    const run = await cliIn(data, ['migrate']);
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, new RegExp(`applied: ${String(last.version).padStart(4, '0')}`));
    assert.match(run.out, new RegExp(`schema version ${OLD} → ${SCHEMA_VERSION}; the database before it: .*pre-migration-${OLD}-\\d{8}T\\d{6}Z\\.db`));
    const copies = await readdir(join(data, 'backups'));
    assert.equal(copies.length, 1);
    const copy = new BetterSqlite3(join(data, 'backups', copies[0]!), { readonly: true });
    assert.equal((copy.prepare('select max(version) as v from schema_version').get() as { v: number }).v, OLD);
    copy.close();
    assert.match((await cliIn(data, ['migrate'])).out, new RegExp(`up to date: schema version ${SCHEMA_VERSION}`));

    const db = new BetterSqlite3(join(data, 'steadymail.db'));
    db.prepare('insert into schema_version (version, name, applied_at) values (?, ?, ?)').run(SCHEMA_VERSION + 1, 'future', Date.now());
    db.close();
    const tooNew = await cliIn(data, ['migrate', '--dry-run']);
    assert.equal(tooNew.code, 75);
    assert.match(tooNew.err, new RegExp(`run a release that supports schema version ${SCHEMA_VERSION + 1}`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('PostgreSQL: migrate takes a pg_dump first (restorable, at the old version); without pg_dump it migrates nothing', async () => {
  const dir = tempDir();
  const t = await createTestDatabase();
  const restored = await createTestDatabase();
  const env = { STEADYMAIL_STORE_DRIVER: 'postgres', STEADYMAIL_STORE_URL: t.url };
  try {
    await oldDatabase(new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: t.url, max: 1 }) }) }), 'postgres');
    const dry = await cliIn(dir, ['migrate', '--dry-run'], '', env);
    assert.match(dry.out, /a pg_dump is written to/);

    const broken = await cliIn(dir, ['migrate', '--pg-dump', '/nonexistent/pg_dump'], '', env);
    assert.equal(broken.code, 75);
    assert.match(broken.err, /no migration: the copy before migrating failed/);
    assert.equal((await inspectSchema({ driver: 'postgres', url: t.url, dataDir: dir })).current, OLD);

    const run = await cliIn(dir, ['migrate', '--json'], '', env);
    assert.equal(run.code, 0, run.err);
    const result = JSON.parse(run.out) as { from: number; to: number; backup: string };
    assert.deepEqual([result.from, result.to], [OLD, SCHEMA_VERSION]);
    assert.match(result.backup, /pre-migration-\d+-\d{8}T\d{6}Z\.pgdump$/);

    await pgRestore(restored.url, result.backup);
    const status = await inspectSchema({ driver: 'postgres', url: restored.url, dataDir: dir });
    assert.deepEqual([status.current, status.hasData], [OLD, true], 'the copy is the database before the migration');
  } finally {
    await t.drop();
    await restored.drop();
    await rm(dir, { recursive: true, force: true });
  }
});
