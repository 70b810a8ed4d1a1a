// MailboxView rules without sockets: MSNs stay stable while expunges are held
// back, and each change is reported exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.js';
import { MailboxView } from '../../src/imap/mailbox-view.js';

const lines = (bufs: Buffer[]): string[] => bufs.map((b) => b.toString().trimEnd());

test('held-back expunges, EXISTS after EXPUNGE, flag changes once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-view-'));
  const store = await openStore({ driver: 'sqlite', dataDir: dir });
  try {
    await store.createDomain('example.com');
    const account = await store.createAccount({ address: 'v@example.com', passwordHash: 'x' });
    const box = (await store.getMailbox(account.id, 'INBOX'))!;
    const add = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const raw = Buffer.from(`Subject: ${i}\r\n\r\nx\r\n`);
        const blob = await store.blobs.put(raw);
        await store.appendMessage(box.id, { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: {} });
      }
    };
    await add(3);
    let changes = 0;
    const view = await MailboxView.open(store, box, false, () => changes++);
    const opts = { allowExpunge: true, condstore: false, qresync: false };
    assert.equal(view.count, 3);
    assert.deepEqual(await view.sync(opts), []);

    await store.updateFlags(box.id, { uids: [2], operation: 'add', flags: ['\\Seen'], keywords: [] });
    await store.expungeMessages(box.id, [1]);
    await add(1);
    assert.ok(changes >= 3);
    // During FETCH/STORE/SEARCH: no EXPUNGE, the expunged message keeps MSN 1.
    assert.deepEqual(lines(await view.sync({ ...opts, allowExpunge: false })), ['* 4 EXISTS', '* 2 FETCH (UID 2 FLAGS (\\Seen))']);
    assert.equal(view.uidAt(1), 1);
    assert.ok(view.isPendingExpunge(1));
    // Later, at an allowed moment, the expunge is reported and numbers shift.
    assert.deepEqual(lines(await view.sync(opts)), ['* 1 EXPUNGE']);
    assert.equal(view.uidAt(1), 2);
    assert.deepEqual(await view.sync(opts), [], 'nothing is reported twice');

    // A change this session reported itself (STORE) is not repeated.
    const r = await store.updateFlags(box.id, { uids: [3], operation: 'add', flags: ['\\Flagged'], keywords: ['$x'] });
    for (const c of r.changed) view.setFlags(c.uid, c);
    assert.deepEqual(await view.sync(opts), []);
    // With QRESYNC, VANISHED replaces EXPUNGE; with CONDSTORE, FETCH carries MODSEQ.
    await store.expungeMessages(box.id, [2]);
    await store.updateFlags(box.id, { uids: [4], operation: 'add', flags: ['\\Answered'], keywords: [] });
    const q = lines(await view.sync({ allowExpunge: true, condstore: true, qresync: true }));
    assert.equal(q[0], '* VANISHED 2');
    assert.match(q[1] ?? '', /^\* 2 FETCH \(UID 4 FLAGS \(\\Answered\) MODSEQ \(\d+\)\)$/);
    view.close();
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
