// The webmail's store queries (sessions, settings, recipients, uploads, paging, filters)
// on SQLite and PostgreSQL alike: the sort and filter expressions differ per dialect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';
import { putMessage } from './api-harness.js';

async function withStore(driver: 'sqlite' | 'postgres', fn: (store: Store) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-webmail-store-'));
  const pgdb = driver === 'postgres' ? await createTestDatabase() : null;
  const store = await openStore(pgdb ? { driver: 'postgres', url: pgdb.url, dataDir: dir } : { driver: 'sqlite', dataDir: dir });
  try {
    await fn(store);
  } finally {
    await store.close();
    await pgdb?.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

for (const driver of ['sqlite', 'postgres'] as const) {
  test(`webmail store queries on ${driver}`, async () => {
    await withStore(driver, async (store) => {
      await store.createDomain('q.test');
      const a = await store.createAccount({ address: 'a@q.test', passwordHash: 'x' });
      const inbox = (await store.getMailbox(a.id, 'INBOX'))!.id;
      const rows: Array<[string, string, number, boolean]> = [
        ['"Zed" <zed@x.test>', 'apple pie', 1, false],
        ['bob@x.test', 'Cherry', 3, true],
        ['"Ann" <ann@y.test>', 'banana', 2, false],
        ['carl@x.test', 'date 100%_off', 4, true],
      ];
      for (const [from, subject, day, att] of rows) {
        const body = att
          ? `From: ${from}\nTo: a@q.test\nSubject: ${subject}\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhello\n--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=x.pdf\n\nxx\n--b--\n`
          : `From: ${from}\nTo: a@q.test\nSubject: ${subject}\n\nhello ${'x'.repeat(day * 100)}\n`;
        await putMessage(store, inbox, body, { date: new Date(Date.UTC(2026, 0, day)), flags: day === 2 ? ['\\Seen'] : day === 3 ? ['\\Flagged', '\\Seen'] : [] });
      }
      const page = async (sort: 'date' | 'from' | 'subject' | 'size', descending: boolean, extra = {}) =>
        (await store.webmail.pageMessages(inbox, { sort, descending, offset: 0, limit: 10, ...extra })).messages.map((m) => m.uid);
      assert.deepEqual(await page('date', true), [4, 2, 3, 1]);
      assert.deepEqual(await page('subject', false), [1, 3, 2, 4]); // apple, banana, cherry, date
      assert.deepEqual(await page('from', false), [3, 2, 4, 1]); // ann, bob, carl, zed (display names first)
      const p2 = await store.webmail.pageMessages(inbox, { sort: 'date', descending: true, offset: 1, limit: 2 });
      assert.deepEqual(p2.messages.map((m) => m.uid), [2, 3]);
      assert.equal(p2.total, 4);
      const unread = await store.webmail.pageMessages(inbox, { sort: 'date', descending: true, offset: 0, limit: 10, unread: true });
      assert.deepEqual(unread.messages.map((m) => m.uid), [4, 1]);
      assert.equal(unread.total, 2);
      assert.deepEqual(await page('date', false, { flagged: true }), [2]);

      const f = async (filter: object) => (await store.webmail.filterMessages([inbox], filter, 0, 10)).messages.map((m) => m.uid).sort();
      assert.deepEqual(await f({ from: 'ANN' }), [3]);
      assert.deepEqual(await f({ from: 'x.test' }), [1, 2, 4]);
      assert.deepEqual(await f({ subject: 'cherry' }), [2]);
      assert.deepEqual(await f({ subject: '100%_' }), [4], 'LIKE wildcards are literal');
      assert.deepEqual(await f({ subject: '%' }), [4]);
      assert.deepEqual(await f({ to: 'a@q' }), [1, 2, 3, 4]);
      assert.deepEqual(await f({ hasAttachment: true }), [2, 4]);
      assert.deepEqual(await f({ hasAttachment: false }), [1, 3]);
      assert.deepEqual(await f({ after: new Date(Date.UTC(2026, 0, 2)), before: new Date(Date.UTC(2026, 0, 4)) }), [2, 3]);
      assert.deepEqual(await f({ headerText: 'banana' }), [3]);
      assert.deepEqual(await f({ unread: true, hasAttachment: true }), [4]);
      const scanned: number[] = [];
      for await (const batch of store.webmail.scanMessages([inbox], {}, 3)) scanned.push(...batch.map((m) => m.uid));
      assert.deepEqual(scanned, [4, 2, 3, 1]);

      // Sessions, settings, recipients, uploads.
      const s = await store.webmail.createSession({ tokenHash: 'h1', publicId: 'p1', accountId: a.id, csrfToken: 'c', expiresAt: new Date(Date.now() + 60_000), remoteAddress: '127.0.0.1' });
      assert.equal((await store.webmail.getSession('h1'))?.id, s.id);
      assert.equal((await store.webmail.getSessionByPublicId('p1'))?.id, s.id);
      await store.webmail.createSession({ tokenHash: 'h2', publicId: 'p2', accountId: a.id, csrfToken: 'c', expiresAt: new Date(Date.now() - 1), remoteAddress: '127.0.0.1' });
      assert.equal(await store.webmail.getSession('h2'), undefined, 'expired');
      assert.equal(await store.webmail.deleteExpiredSessions(), 1);
      assert.equal(await store.webmail.deleteSessionsOf(a.id, s.id), 0);
      assert.deepEqual(await store.webmail.getSettings(a.id), { displayName: '', signature: '' });
      await store.webmail.putSettings(a.id, { displayName: 'A' });
      assert.deepEqual(await store.webmail.putSettings(a.id, { signature: '--\nA' }), { displayName: 'A', signature: '--\nA' });
      await store.webmail.recordRecipients(a.id, [{ address: 'Carol@x.test', name: 'Carol Jones' }, { address: 'dave@x.test', name: '' }]);
      await store.webmail.recordRecipients(a.id, [{ address: 'carol@x.test', name: '' }]);
      assert.deepEqual(await store.webmail.suggestRecipients(a.id, 'jo', 5), [{ address: 'carol@x.test', name: 'Carol Jones', uses: 2 }]);
      assert.deepEqual((await store.webmail.suggestRecipients(a.id, '', 5)).map((r) => r.address), ['carol@x.test', 'dave@x.test']);
      assert.deepEqual(await store.webmail.suggestRecipients(a.id, '%', 5), []);
      const blob = await store.blobs.put(Buffer.from('upload'));
      await store.webmail.addUpload({ id: 'u1', accountId: a.id, blobId: blob.id, filename: 'f.txt', contentType: 'text/plain', size: 6, createdAt: new Date() });
      assert.equal((await store.webmail.getUpload(a.id, 'u1'))?.filename, 'f.txt');
      assert.equal(await store.webmail.getUpload(a.id + 1, 'u1'), undefined);
      // An upload's blob is not garbage while the upload exists.
      assert.equal((await store.collectGarbage(0)).removed, 0);
      await store.webmail.deleteUpload(a.id, 'u1');
      assert.equal(await store.webmail.getUpload(a.id, 'u1'), undefined);
      // Deleting the account takes its webmail rows with it.
      await store.deleteAccount(a.id, { actor: 'test', reason: 'test' });
      assert.equal(await store.webmail.getSession('h1'), undefined);
    });
  });
}
