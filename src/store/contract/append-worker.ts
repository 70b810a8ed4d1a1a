// Child process for the multi-process tests: appends N messages, printing each UID.
// argv: JSON store options, account id, count, tag.
import { openStore, type StoreOptions } from '../open.js';

const [optionsJson, accountId, count, tag] = process.argv.slice(2) as [string, string, string, string];
const store = await openStore(JSON.parse(optionsJson) as StoreOptions);
const inbox = (await store.getMailbox(Number(accountId), 'INBOX'))!;
const n = Number(count);
const pending: Array<Promise<void>> = [];
for (let i = 0; i < n; i++) {
  const raw = Buffer.from(`From: ${tag}\r\nSubject: ${i}\r\n\r\nbody ${tag} ${i}\r\n`);
  pending.push(
    (async () => {
      const blob = await store.blobs.put(raw);
      const r = await store.appendMessage(inbox.id, { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: {} });
      process.stdout.write(`${r.uid}\n`);
    })(),
  );
  if (pending.length >= 10) await Promise.all(pending.splice(0));
}
await Promise.all(pending);
await store.close();
