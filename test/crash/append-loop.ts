// Appends messages as fast as it can, printing "uid blobId" after each append
// has returned (been acknowledged). The crash test kills it at random moments.
import { randomBytes } from 'node:crypto';
import { openStore } from '../../src/store/open.js';

const [dataDir, address] = process.argv.slice(2) as [string, string];
const store = await openStore({ driver: 'sqlite', dataDir });
const account = (await store.getAccount(address))!;
const inbox = (await store.getMailbox(account.id, 'INBOX'))!;
process.stdout.write('ready\n');
const writers = Array.from({ length: 4 }, async () => {
  for (;;) {
    // Most bodies small enough for the database (store.inline_blob_max), one in five a file.
    const size = Math.random() < 0.2 ? 70_000 + Math.floor(Math.random() * 30_000) : 2048 + Math.floor(Math.random() * 8192);
    const raw = Buffer.concat([Buffer.from('Subject: crash\r\n\r\n'), randomBytes(size)]);
    const blob = await store.blobs.put(raw);
    const r = await store.appendMessage(inbox.id, {
      blobId: blob.id,
      size: blob.size,
      internalDate: new Date(),
      flags: Math.random() < 0.5 ? ['\\Seen'] : [],
      structure: {},
    });
    process.stdout.write(`${r.uid} ${blob.id}\n`);
  }
});
await Promise.all(writers);
