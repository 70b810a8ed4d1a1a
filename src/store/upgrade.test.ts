// Opening a SQLite store whose schema is behind the code first copies the database
// to data_dir/backups/, then migrates. The copy is the old schema with the old data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { openStore } from './open.js';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from './sql/migrate.js';

/** The version before the newest (migration numbers may have gaps while features merge). */
const PREVIOUS_VERSION = MIGRATIONS[MIGRATIONS.length - 2]!.version;
import type { Database } from './sql/schema.js';

function maxVersion(file: string): number {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return Number((db.prepare('select max(version) as v from schema_version').get() as { v: number }).v);
  } finally {
    db.close();
  }
}

test('pending migrations on SQLite run after a consistent copy of the old database', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-upgrade-'));
  try {
    // A store created by an older release: the schema stops one migration short.
    const file = join(dir, 'steadymail.db');
    const old = new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
    await migrate(old, 'sqlite', PREVIOUS_VERSION);
    await old.insertInto('domains').values({ name: 'example.org', created_at: Date.now() }).execute();
    await old.destroy();

    const store = await openStore({ driver: 'sqlite', dataDir: dir });
    assert.equal((await store.listDomains()).length, 1);
    await store.close();
    assert.equal(maxVersion(file), SCHEMA_VERSION);

    const backups = await readdir(join(dir, 'backups'));
    assert.equal(backups.length, 1);
    assert.match(backups[0]!, new RegExp(`^pre-migration-${PREVIOUS_VERSION}-\\d{8}T\\d{6}Z\\.db$`));
    const copy = join(dir, 'backups', backups[0]!);
    assert.equal(maxVersion(copy), PREVIOUS_VERSION, 'the copy is the database before the migration');
    const data = new BetterSqlite3(copy, { readonly: true });
    assert.deepEqual(data.prepare('select name from domains').all(), [{ name: 'example.org' }]);
    data.close();

    // Up to date: opening again takes no copy; a fresh store never needs one.
    await (await openStore({ driver: 'sqlite', dataDir: dir })).close();
    assert.equal((await readdir(join(dir, 'backups'))).length, 1);
    const fresh = join(dir, 'fresh');
    await (await openStore({ driver: 'sqlite', dataDir: fresh })).close();
    assert.ok(!(await readdir(fresh)).includes('backups'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a release older than the schema refuses to open the store and names the version needed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-upgrade-'));
  try {
    await (await openStore({ driver: 'sqlite', dataDir: dir })).close();
    const db = new BetterSqlite3(join(dir, 'steadymail.db'));
    db.prepare('insert into schema_version (version, name, applied_at) values (?, ?, ?)').run(SCHEMA_VERSION + 1, 'future', Date.now());
    db.close();
    await assert.rejects(openStore({ driver: 'sqlite', dataDir: dir }), new RegExp(`schema is version ${SCHEMA_VERSION + 1}, newer than this release supports \\(${SCHEMA_VERSION}\\)`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
