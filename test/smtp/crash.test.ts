// SIGKILL the SMTP server during a stream of deliveries from several senders; after
// each restart, every message that got 250 must be in the store, byte for byte.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SmtpTalk, testStore } from './harness.js';
import { openStore } from '../../src/store/open.js';

const KILLS = Number(process.env.SMTP_CRASH_KILLS ?? 3);
const SENDERS = 4;

function startServer(dir: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const script = new URL('./crash-server.ts', import.meta.url).pathname;
    const child = spawn(process.execPath, ['--import', 'tsx', script, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /port (\d+)\n/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${err}`)));
  });
}

function bodyFor(token: string): string {
  return `From: <s@remote.test>\r\nTo: <alice@example.org>\r\nSubject: ${token}\r\n\r\n${`${token} payload line\r\n`.repeat(60)}`;
}

/** Sends messages until the connection dies; returns the tokens that got 250. */
async function sender(port: number, round: number, id: number, onAck: () => void): Promise<string[]> {
  const acked: string[] = [];
  try {
    const c = await SmtpTalk.connect(port);
    await c.reply();
    await c.cmd('EHLO crash.remote.test');
    for (let n = 0; ; n++) {
      const token = `crash-${round}-${id}-${n}`;
      const r = await c.send('s@remote.test', ['alice@example.org'], bodyFor(token));
      if (!r.startsWith('250')) break;
      acked.push(token);
      onAck();
    }
  } catch {
    // The server died: what was acknowledged so far is what counts.
  }
  return acked;
}

test(`SIGKILL during deliveries loses no acknowledged message (${KILLS} kills, ${SENDERS} senders)`, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-smtp-crash-'));
  try {
    const setup = await testStore(dir);
    await setup.close();
    const acked: string[] = [];
    for (let round = 0; round < KILLS; round++) {
      const { child, port } = await startServer(dir);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // Kill at a random point in the stream: after 5 to 30 acknowledgements.
      const killAfter = 5 + Math.floor(Math.random() * 25);
      let acks = 0;
      const senders: Array<Promise<string[]>> = [];
      const killed = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10_000);
        const check = () => {
          if (++acks === killAfter) {
            clearTimeout(timer);
            resolve();
          }
        };
        senders.push(...Array.from({ length: SENDERS }, (_, i) => sender(port, round, i, check)));
      });
      await killed;
      child.kill('SIGKILL');
      await exited;
      for (const got of await Promise.all(senders)) acked.push(...got);
    }
    t.diagnostic(`${acked.length} messages acknowledged before the kills`);
    assert.ok(acked.length >= KILLS * 5, `the senders got some messages through (${acked.length})`);

    const store = await openStore({ driver: 'sqlite', dataDir: dir });
    try {
      const alice = (await store.getAccount('alice@example.org'))!;
      const inbox = (await store.getMailbox(alice.id, 'INBOX'))!;
      const msgs = await store.listMessages(inbox.id, { withoutStructure: true });
      const bySubject = new Map<string, Buffer>();
      for (const m of msgs) {
        const raw = await store.blobs.get(m.blobId);
        assert.equal(createHash('sha256').update(raw).digest('hex'), m.blobId, 'blob intact');
        assert.equal(raw.length, m.size);
        const subject = /\r\nSubject: (\S+)\r\n/.exec(raw.toString())?.[1];
        if (subject) bySubject.set(subject, raw);
      }
      for (const token of acked) {
        const raw = bySubject.get(token);
        assert.ok(raw, `acknowledged message ${token} is in the store`);
        assert.ok(raw.toString().endsWith(bodyFor(token)), `message ${token} is intact`);
      }
      assert.equal(inbox.messages, msgs.length);
      assert.equal(alice.usedBytes, msgs.reduce((s, m) => s + m.size, 0));
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
