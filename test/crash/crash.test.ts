// Kills a process that is appending messages with SIGKILL at random moments,
// then checks that every acknowledged message is present with an intact blob
// and that the counters still add up.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.js';

const KILLS = Number(process.env.CRASH_KILLS ?? 20);

function runUntilKilled(dataDir: string, afterReadyMs: number): Promise<Map<number, string>> {
  return new Promise((resolve, reject) => {
    const script = new URL('./append-loop.ts', import.meta.url).pathname;
    const child = spawn(process.execPath, ['--import', 'tsx', script, dataDir, 'crash@example.org'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked = new Map<number, string>();
    let buffered = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line === 'ready') {
          setTimeout(() => {
            killed = true;
            child.kill('SIGKILL');
          }, afterReadyMs);
          continue;
        }
        const [uid, blobId] = line.split(' ');
        acked.set(Number(uid), blobId!);
      }
    });
    child.on('error', reject);
    child.on('exit', () => {
      if (!killed) reject(new Error(`append loop exited on its own: ${stderr}`));
      else resolve(acked);
    });
  });
}

test(`SIGKILL during appends loses no acknowledged message (${KILLS} kills)`, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-crash-'));
  try {
    const setup = await openStore({ driver: 'sqlite', dataDir: dir });
    await setup.createDomain('example.org');
    const account = await setup.createAccount({ address: 'crash@example.org', passwordHash: 'x' });
    await setup.close();
    const acked = new Map<number, string>();
    let lastMaxUid = 0;
    for (let i = 0; i < KILLS; i++) {
      const got = await runUntilKilled(dir, 30 + Math.floor(Math.random() * 250));
      for (const [uid, blob] of got) {
        assert.ok(!acked.has(uid), `UID ${uid} acknowledged twice`);
        acked.set(uid, blob);
      }
      const store = await openStore({ driver: 'sqlite', dataDir: dir });
      try {
        const inbox = (await store.getMailbox(account.id, 'INBOX'))!;
        const messages = await store.listMessages(inbox.id, { withoutStructure: true });
        const byUid = new Map(messages.map((m) => [m.uid, m]));
        for (const [uid, blobId] of acked) {
          const m = byUid.get(uid);
          assert.ok(m, `acknowledged UID ${uid} is missing after kill ${i + 1}`);
          assert.equal(m.blobId, blobId);
        }
        // Every stored message, acknowledged or not, has an intact blob.
        for (const m of messages.filter((x) => x.uid > lastMaxUid)) {
          const raw = await store.blobs.get(m.blobId);
          assert.equal(createHash('sha256').update(raw).digest('hex'), m.blobId, `blob of UID ${m.uid} is corrupt`);
          assert.equal(raw.length, m.size);
        }
        const uids = messages.map((m) => m.uid);
        assert.deepEqual(uids, [...uids].sort((a, b) => a - b));
        assert.equal(new Set(uids).size, uids.length);
        const maxUid = uids.at(-1) ?? 0;
        assert.ok(inbox.uidNext > maxUid, 'uidNext is above every UID in use');
        assert.equal(inbox.messages, messages.length, 'message counter');
        assert.equal(inbox.bytes, messages.reduce((s, m) => s + m.size, 0), 'byte counter');
        assert.equal(inbox.unseen, messages.filter((m) => !m.flags.includes('\\Seen')).length, 'unseen counter');
        assert.equal((await store.getAccountById(account.id))!.usedBytes, inbox.bytes, 'quota usage');
        lastMaxUid = maxUid;
      } finally {
        await store.close();
      }
    }
    assert.ok(acked.size > KILLS, `appends were acknowledged between kills (${acked.size})`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
