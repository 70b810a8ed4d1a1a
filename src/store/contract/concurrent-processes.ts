// Shared by the backend test files: two OS processes append to one mailbox at
// once; together their UIDs must be exactly 1..2N.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openStore, type StoreOptions } from '../open.js';

export async function assertConcurrentProcessAppends(options: StoreOptions, perProcess = 150): Promise<void> {
  const store = await openStore(options);
  await store.createDomain('example.org');
  const acc = await store.createAccount({ address: 'a@example.org', passwordHash: 'x' });
  await store.close();
  const worker = new URL('./append-worker.ts', import.meta.url).pathname;
  const run = (tag: string) =>
    new Promise<number[]>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', worker, JSON.stringify(options), String(acc.id), String(perProcess), tag], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(out.trim().split('\n').map(Number)) : reject(new Error(`worker exited ${code}`))));
    });
  const [a, b] = await Promise.all([run('A'), run('B')]);
  const all = [...a, ...b].sort((x, y) => x - y);
  assert.deepEqual(all, Array.from({ length: 2 * perProcess }, (_, i) => i + 1));
  const check = await openStore(options);
  try {
    const inbox = (await check.getMailbox(acc.id, 'INBOX'))!;
    assert.equal(inbox.messages, 2 * perProcess);
    assert.equal(inbox.uidNext, 2 * perProcess + 1);
    assert.equal((await check.getAccountById(acc.id))!.usedBytes, inbox.bytes);
  } finally {
    await check.close();
  }
}
