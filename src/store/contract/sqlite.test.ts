// The store contract on the embedded SQLite backend, plus what only SQLite
// needs proving: several processes writing one database file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { openStore } from '../open.js';
import { runStoreContract } from './suite.js';

runStoreContract({
  name: 'sqlite',
  async open() {
    const dir = await mkdtemp(join(tmpdir(), 'steadymail-store-'));
    const store = await openStore({ driver: 'sqlite', dataDir: dir });
    return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
});

test('two processes appending to one SQLite mailbox get distinct, gapless UIDs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-mp-'));
  try {
    const store = await openStore({ driver: 'sqlite', dataDir: dir });
    await store.createDomain('example.org');
    const acc = await store.createAccount({ address: 'a@example.org', passwordHash: 'x' });
    await store.close();
    const worker = new URL('./append-worker.ts', import.meta.url).pathname;
    const perProcess = 150;
    const run = (tag: string) =>
      new Promise<number[]>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', worker, dir, String(acc.id), String(perProcess), tag], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve(out.trim().split('\n').map(Number)) : reject(new Error(`worker exited ${code}`))));
      });
    const [a, b] = await Promise.all([run('A'), run('B')]);
    const all = [...a, ...b].sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: 2 * perProcess }, (_, i) => i + 1));
    const check = await openStore({ driver: 'sqlite', dataDir: dir });
    const inbox = (await check.getMailbox(acc.id, 'INBOX'))!;
    assert.equal(inbox.messages, 2 * perProcess);
    assert.equal(inbox.uidNext, 2 * perProcess + 1);
    assert.equal((await check.getAccountById(acc.id))!.usedBytes, inbox.bytes);
    await check.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
