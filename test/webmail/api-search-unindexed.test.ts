// Body search over messages the full-text index does not cover yet (stored by a process
// without the text extractor, before the backlog pass reaches them), on SQLite and
// PostgreSQL: the search reads them itself, newest first and at most
// webmail.search_max_scanned of them, finds the matches, and leaves them in the index,
// so the next search finds them there and reads the rest.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';
import { Client, mailboxId, putMessage, startApiServer, type ApiServer } from './api-harness.js';
import type { MessagePage } from '../../src/http/api/types.js';

const PW = 'pw-unindexed-1';
/** The backlog pass's store lease (src/store/search-backlog.ts): held here, the pass cannot index behind the test's back. */
const BACKLOG_LEASE = 'search-backlog';

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

for (const driver of ['sqlite', 'postgres'] as const) {
  let dir: string;
  let db: { url: string; drop: () => Promise<void> } | null = null;
  let s: ApiServer;
  let plain: Store;
  let c: Client;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'steadymail-webmail-unindexed-'));
    db = driver === 'postgres' ? await createTestDatabase() : null;
    s = await startApiServer(
      { 'u@ix.test': PW },
      { STEADYMAIL_DATA_DIR: dir, STEADYMAIL_WEBMAIL_SEARCH_MAX_SCANNED: '4', ...(db ? { STEADYMAIL_STORE_DRIVER: 'postgres', STEADYMAIL_STORE_URL: db.url } : {}) },
    );
    // The same database, opened without a text extractor: what it stores is not indexed.
    plain = await openStore(db ? { driver: 'postgres', url: db.url, dataDir: dir } : { driver: 'sqlite', dataDir: dir });
    await until('the backlog lease', () => s.store.acquireLease(BACKLOG_LEASE, 'api-search-unindexed test', 600_000));
    c = await Client.login(s.base, 'u@ix.test', PW);
  });
  after(async () => {
    await s.store.releaseLease(BACKLOG_LEASE, 'api-search-unindexed test');
    await plain.close();
    await s.close();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test(`${driver}: a body search finds messages not yet indexed (at most search_max_scanned per search) and indexes them`, async () => {
    const inbox = await mailboxId(s.store, 'u@ix.test', 'INBOX');
    const base = Date.UTC(2024, 0, 1);
    // Indexed on arrival (the server's store has the extractor).
    const indexed = await putMessage(s.store, inbox, 'From: a@x.test\nSubject: indexed\n\nAn indexed quokka.\n', { date: new Date(base) });
    // Five matches and, newest of all, one message without the word: not indexed.
    const older = [];
    for (let i = 1; i <= 5; i++) older.push(await putMessage(plain, inbox, `From: b@x.test\nSubject: match ${i}\n\nA quokka, number ${i}.\n`, { date: new Date(base + i * 60_000) }));
    const other = await putMessage(plain, inbox, 'From: c@x.test\nSubject: other\n\nNo marsupial here.\n', { date: new Date(base + 6 * 60_000) });
    const uids = (xs: Array<{ uid: number }>) => xs.map((x) => x.uid).sort((a, b) => a - b);

    const initially = await s.store.searchText(inbox, { field: 'body', value: 'quokka' });
    assert.deepEqual(initially.matched, [indexed.uid]);
    assert.deepEqual([...initially.unindexed].sort((a, b) => a - b), uids([...older, other]), 'the precondition: six messages the index lacks');

    // search_max_scanned = 4: the newest four unindexed messages are read (other, match 5..3).
    const first = await c.get<MessagePage>('/api/search?body=quokka');
    assert.deepEqual(first.items.map((m) => m.subject), ['match 5', 'match 4', 'match 3', 'indexed']);
    assert.equal(first.total, 4);

    // What the search read, matching or not, is in the index now; the two it did not reach are not.
    await until('the read messages to be indexed', async () => (await s.store.searchText(inbox, { field: 'body', value: 'quokka' })).unindexed.length === 2);
    const afterFirst = await s.store.searchText(inbox, { field: 'body', value: 'quokka' });
    assert.deepEqual([...afterFirst.matched].sort((a, b) => a - b), uids([indexed, older[2]!, older[3]!, older[4]!]));
    assert.deepEqual([...afterFirst.unindexed].sort((a, b) => a - b), uids([older[0]!, older[1]!]));
    assert.deepEqual((await s.store.searchText(inbox, { field: 'body', value: 'marsupial' })).matched, [other.uid], 'the non-matching message was indexed too');

    // The next search takes the indexed ones from the index and reads the remaining two.
    const second = await c.get<MessagePage>('/api/search?body=quokka');
    assert.deepEqual(second.items.map((m) => m.subject), ['match 5', 'match 4', 'match 3', 'match 2', 'match 1', 'indexed']);
    assert.equal(second.total, 6);
    await until('every message to be indexed', async () => (await s.store.searchText(inbox, { field: 'body', value: 'quokka' })).unindexed.length === 0);
    const done = await s.store.searchText(inbox, { field: 'body', value: 'quokka' });
    assert.deepEqual([...done.matched].sort((a, b) => a - b), uids([indexed, ...older]));
  });
}
