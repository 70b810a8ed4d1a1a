// Large messages: literals streamed from the blob arrive byte-exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, append, startServer } from './harness.js';

test('FETCH of a large message streams exact bytes (BODY[], partial, TEXT, RFC822)', async () => {
  const h = await startServer();
  try {
    const c = await RawClient.connect(h.port);
    await c.login();
    const body = Array.from({ length: 60_000 }, (_, i) => `line ${i} of a long message`).join('\r\n') + '\r\n';
    const raw = `From: a@example.org\r\nSubject: big\r\n\r\n${body}`;
    assert.ok(Buffer.byteLength(raw) > 1_000_000);
    await append(c, 'INBOX', raw);
    await c.cmd('s', 'SELECT INBOX');
    const whole = (await c.cmd('f', 'FETCH 1 (BODY.PEEK[])', 20_000)).join('\r\n');
    const header = `* 1 FETCH (BODY[] {${Buffer.byteLength(raw)}}\r\n`;
    assert.equal(whole, `${header}${raw})\r\nf OK FETCH completed`);
    const part = (await c.cmd('g', 'UID FETCH 1 (BODY.PEEK[TEXT]<1000.300000>)', 20_000)).join('\r\n');
    assert.equal(part, `* 1 FETCH (UID 1 BODY[TEXT]<1000> {300000}\r\n${body.slice(1000, 301_000)})\r\ng OK FETCH completed`);
    const r822 = (await c.cmd('r', 'FETCH 1 (RFC822.SIZE RFC822)', 20_000)).join('\r\n');
    assert.equal(r822, `* 1 FETCH (FLAGS (\\Seen \\Recent) RFC822.SIZE ${Buffer.byteLength(raw)} RFC822 {${Buffer.byteLength(raw)}}\r\n${raw})\r\nr OK FETCH completed`);
    c.close();
  } finally {
    await h.close();
  }
});

test('a message whose body is missing answers NO [SERVERBUG] and the session goes on', async () => {
  const h = await startServer();
  try {
    const c = await RawClient.connect(h.port);
    await c.login();
    const small = 'From: a@example.org\r\nSubject: small\r\n\r\nhello\r\n';
    const big = `From: a@example.org\r\nSubject: big\r\n\r\n${'x'.repeat(300_000)}\r\n`;
    await append(c, 'INBOX', small);
    await append(c, 'INBOX', big);
    const inbox = (await h.store.getMailbox(h.account.id, 'INBOX'))!;
    for (const m of await h.store.listMessages(inbox.id)) await h.store.blobs.delete(m.blobId);
    await c.cmd('s', 'SELECT INBOX');
    for (const [tag, seq] of [['a', '1'], ['b', '2']] as const) {
      const lines = await c.cmd(tag, `FETCH ${seq} (BODY.PEEK[])`);
      assert.match(lines.at(-1)!, new RegExp(`^${tag} NO \\[SERVERBUG\\]`), lines.join(' | '));
    }
    // Metadata still answers, and the connection is alive.
    const env = await c.cmd('e', 'FETCH 1:2 (ENVELOPE)');
    assert.match(env.at(-1)!, /^e OK/);
    assert.match((await c.cmd('n', 'NOOP')).at(-1)!, /^n OK/);
    c.close();
  } finally {
    await h.close();
  }
});
