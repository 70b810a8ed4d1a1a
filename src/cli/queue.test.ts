// steadymail queue … and domain dkim, in-process against a store in a temp dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runCli } from './program.js';
import { openStore } from '../store/open.js';

async function run(dataDir: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['node', 'steadymail', ...args], {
    stdin: Readable.from(['']),
    env: { STEADYMAIL_DATA_DIR: dataDir },
    out: (line) => (out += `${line}\n`),
    write: (text) => (out += text),
    error: (text) => (err += text),
  });
  return { code, out, err };
}

test('queue list, show, retry, flush and audited delete; domain dkim prints the record', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steadymail-cli-queue-'));
  const store = await openStore({ driver: 'sqlite', dataDir: dir });
  const blob = await store.blobs.put(Buffer.from('Subject: x\r\n\r\nx\r\n'));
  const [a, b] = await store.enqueueOutbound({ blobId: blob.id, size: blob.size, mailFrom: 'alice@example.org', recipients: ['x@one.test', 'y@two.test'] });
  await store.failQueueEntry(b!.id, '550 5.1.1 no such user');
  await store.close();

  const list = await run(dir, ['queue', 'list']);
  assert.equal(list.code, 0, list.err);
  assert.match(list.out, new RegExp(`^${a!.id}\\tqueued\\t0\\t\\S+\\talice@example\\.org\\tx@one\\.test\\t\\n`, 'm'));
  assert.match(list.out, new RegExp(`^${b!.id}\\tfailed\\t1\\t-\\talice@example\\.org\\ty@two\\.test\\t550 5\\.1\\.1 no such user\\n`, 'm'));
  assert.equal((await run(dir, ['queue', 'list', '--state', 'failed'])).out.split('\n').filter(Boolean).length, 1);
  assert.match((await run(dir, ['queue', 'show', String(a!.id)])).out, /"domain": "one\.test"/);
  assert.equal((await run(dir, ['queue', 'retry', String(b!.id)])).code, 0);
  assert.match((await run(dir, ['queue', 'flush'])).out, /2 queued entries are due now/);
  assert.equal((await run(dir, ['queue', 'delete', String(b!.id)])).code, 0);
  const missing = await run(dir, ['queue', 'delete', String(b!.id)]);
  assert.notEqual(missing.code, 0);
  assert.equal((await run(dir, ['queue', 'show', 'abc'])).code, 64);

  const after = await openStore({ driver: 'sqlite', dataDir: dir });
  assert.deepEqual((await after.listQueue()).map((e) => e.id), [a!.id]);
  assert.equal((await after.listAudit())[0]?.action, 'queue.delete');
  await after.close();

  const dkim = await run(dir, ['domain', 'dkim', 'Example.org']);
  assert.equal(dkim.code, 0, dkim.err);
  assert.match(dkim.out, /^created key .*dkim\/example\.org\.pem$/m);
  assert.match(dkim.out, /^publish: steadymail\._domainkey\.example\.org\. IN TXT "v=DKIM1; k=rsa; p=[^"]+"( "[^"]+")*$/m);
  assert.match((await run(dir, ['domain', 'dkim', 'example.org'])).out, /^kept existing key/m);
});
