// `steadymail check` sees a damaged SQLite search index (text lost, or text left
// without its row) and repair removes the damage; the backlog pass re-indexes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openStore } from './open.js';
import { SPLIT_V1 } from './contract/search-suite.js';

test('check finds search index rows without text and texts without rows; repair and the backlog fix them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-searchcheck-'));
  const store = await openStore({ driver: 'sqlite', dataDir: dir, searchText: SPLIT_V1 });
  try {
    await store.createDomain('example.org');
    const acc = await store.createAccount({ address: 'x@example.org', passwordHash: 'x' });
    const inbox = (await store.getMailbox(acc.id, 'INBOX'))!.id;
    for (const body of ['alpha walrus', 'beta walrus']) {
      const blob = await store.blobs.put(Buffer.from(`Subject: s\r\n\r\n${body}\r\n`));
      await store.appendMessage(inbox, { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: {} });
    }
    assert.deepEqual(await store.checkIntegrity({ blobs: 'none' }), []);
    // Damage, as a crash or a hand edit could: one text lost, one text without a row.
    const raw = new BetterSqlite3(join(dir, 'steadymail.db'));
    raw.prepare('delete from search_fts where rowid = (select min(id) from search_docs)').run();
    raw.prepare("insert into search_fts (rowid, headers, body) values (9999, 'x', 'ghost walrus')").run();
    raw.close();
    assert.deepEqual((await store.searchText(inbox, { field: 'body', value: 'walrus' })).matched, [2], 'the lost text hides message 1');
    const problems = await store.checkIntegrity({ blobs: 'none' });
    assert.deepEqual(problems.map((p) => [p.kind, p.repairable]), [['search-index', true], ['search-index', true]]);
    const actions = await store.repairIntegrity({ actor: 'test', reason: 'test' });
    assert.equal(actions.filter((a) => a.includes('search index') || a.includes('indexed texts')).length, 2, actions.join('\n'));
    assert.deepEqual(await store.checkIntegrity({ blobs: 'none' }), []);
    assert.deepEqual(await store.searchText(inbox, { field: 'body', value: 'walrus' }), { matched: [2], unindexed: [1] });
    assert.equal((await store.indexSearchBacklog(0, 10)).indexed, 1);
    assert.deepEqual(await store.searchText(inbox, { field: 'body', value: 'walrus' }), { matched: [1, 2], unindexed: [] });
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
