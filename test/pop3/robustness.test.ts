// Hostile and broken input: random bytes, half-valid commands, missing message
// bodies. The server answers, never crashes, and the next client is served.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Pop3TestClient } from './client.js';
import { harness, PASSWORD, sleep, USER } from './harness.js';
import { loseBlob } from '../blob-damage.js';

const WORDS = ['USER', 'PASS', 'STAT', 'LIST', 'RETR', 'DELE', 'TOP', 'UIDL', 'RSET', 'NOOP', 'CAPA', 'AUTH', 'STLS', 'APOP', 'XYZZY', ''];
const ARGS = ['', ' 1', ' 0', ' -1', ' 99999999999', ' 1 0', ' a b c', ' PLAIN', ' LOGIN', ' =', ' *', ` ${USER}`, ` ${PASSWORD}`, ' \u00ff\u00fe'];

function randomLine(): Buffer {
  const r = Math.random();
  if (r < 0.15) return Buffer.concat([randomBytes(Math.floor(Math.random() * 300)), Buffer.from('\r\n')]);
  if (r < 0.2) return Buffer.from('\0\0\0\r\n');
  const w = WORDS[Math.floor(Math.random() * WORDS.length)]!;
  const a = ARGS[Math.floor(Math.random() * ARGS.length)]!;
  return Buffer.from(`${Math.random() < 0.3 ? w.toLowerCase() : w}${a}${Math.random() < 0.2 ? '\n' : '\r\n'}`, 'latin1');
}

test('random input on several connections: no crash, no logged error, service continues', async () => {
  const h = await harness({ maxLineBytes: 256 });
  try {
    for (let i = 0; i < 5; i++) await h.deliver(`Subject: ${i}\r\n\r\n.body\0${i}\r\n`);
    await Promise.all(
      Array.from({ length: 6 }, async (_, k) => {
        const c = await Pop3TestClient.connect(h.port);
        if (k % 2 === 0) await c.login(USER, PASSWORD);
        for (let i = 0; i < 150 && !c.isClosed; i++) {
          c.write(randomLine());
          if (i % 10 === 0) await sleep(1);
        }
        await sleep(50);
        c.destroy();
      }),
    );
    assert.deepEqual(h.logger.entries.filter((e) => e.level === 'error'), []);
    // Each session's cleanup (lock release included) ends before it stops counting.
    for (let tries = 0; h.server.connections() > 0 && tries < 500; tries++) await sleep(20);
    assert.equal(h.server.connections(), 0, 'every dropped session was cleaned up');
    const c = await Pop3TestClient.connect(h.port);
    await c.greeting();
    assert.equal(await c.login(USER, PASSWORD), '+OK Logged in, 5 messages\r\n', 'no deletion happened without QUIT, the lock was released');
    c.destroy();
  } finally {
    await h.close();
  }
});

test('a message whose body is missing gets [SYS/TEMP]; the session and the other messages are fine', async () => {
  const h = await harness();
  try {
    await h.deliver('Subject: ok\r\n\r\nfine\r\n');
    const lost = await h.deliver('Subject: lost\r\n\r\ngone\r\n');
    const [meta] = await h.store.getMessages(h.inboxId, [lost.uid]);
    assert.ok(await loseBlob(h.dir, meta!.blobId));
    const c = await Pop3TestClient.connect(h.port);
    await c.greeting();
    await c.login(USER, PASSWORD);
    assert.equal(await c.command('RETR 1'), '+OK 21 octets\r\nSubject: ok\r\n\r\nfine\r\n.\r\n');
    assert.equal(await c.command('RETR 2'), '-ERR [SYS/TEMP] A message could not be read; the administrator has been told\r\n');
    assert.equal(await c.command('TOP 2 0'), '-ERR [SYS/TEMP] Message 2 cannot be read right now\r\n');
    assert.equal(await c.command('UIDL 2'), `+OK 2 ${lost.messageId}\r\n`);
    assert.equal(await c.command('QUIT'), '+OK Signing off, 0 deleted, 2 left\r\n');
    assert.equal(h.logger.entries.filter((e) => e.level === 'error').length, 2);
  } finally {
    await h.close();
  }
});
