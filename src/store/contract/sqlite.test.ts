// The store contract on the embedded SQLite backend, plus what only SQLite
// needs proving: several processes writing one database file.

import { test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../open.js';
import { runStoreContract } from './suite.js';
import { assertConcurrentProcessAppends } from './concurrent-processes.js';
import { runSearchIndexContract } from './search-suite.js';
import { runAdminContract } from './admin-suite.js';

runStoreContract({
  name: 'sqlite',
  async open() {
    const dir = await mkdtemp(join(tmpdir(), 'steadymail-store-'));
    const store = await openStore({ driver: 'sqlite', dataDir: dir });
    return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
});

runAdminContract({
  name: 'sqlite',
  async open() {
    const dir = await mkdtemp(join(tmpdir(), 'steadymail-admin-'));
    const store = await openStore({ driver: 'sqlite', dataDir: dir });
    return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
});

runSearchIndexContract({
  name: 'sqlite',
  async open(searchText) {
    const dir = await mkdtemp(join(tmpdir(), 'steadymail-search-'));
    const store = await openStore({ driver: 'sqlite', dataDir: dir, searchText });
    return {
      store,
      reopen: (other) => openStore({ driver: 'sqlite', dataDir: dir, searchText: other }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
});

test('two processes appending to one SQLite mailbox get distinct, gapless UIDs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-mp-'));
  try {
    await assertConcurrentProcessAppends({ driver: 'sqlite', dataDir: dir });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
