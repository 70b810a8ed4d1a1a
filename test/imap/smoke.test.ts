// The shortest useful conversation: login, append, select, fetch, search, logout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, append, msg, startServer } from './harness.js';

test('login, APPEND, SELECT, FETCH, SEARCH, LOGOUT', async () => {
  const h = await startServer();
  try {
    const c = await RawClient.connect(h.port);
    const caps = await c.cmd('a', 'CAPABILITY');
    assert.match(caps[0] ?? '', /^\* CAPABILITY IMAP4rev1 IMAP4rev2 .*AUTH=PLAIN/);
    await c.login();
    const ap = await append(c, 'INBOX', msg('first'));
    assert.match(ap.at(-1) ?? '', /^AP OK \[APPENDUID \d+ 1\]/);
    const sel = await c.cmd('c', 'SELECT INBOX');
    assert.ok(sel.includes('* 1 EXISTS'));
    assert.match(sel.at(-1) ?? '', /^c OK \[READ-WRITE\]/);
    const f = await c.cmd('d', 'FETCH 1 (UID FLAGS BODY[HEADER.FIELDS (Subject)] BODY[]<0.10>)');
    assert.equal(f[0], '* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent) BODY[HEADER.FIELDS (Subject)] {18}');
    assert.deepEqual(f.slice(1, 5), ['Subject: first', '', ' BODY[]<0> {10}', 'From: Bob )']);
    assert.deepEqual(await c.cmd('e', 'SEARCH SUBJECT first'), ['* SEARCH 1', 'e OK SEARCH completed']);
    assert.deepEqual(await c.cmd('f', 'LOGOUT'), ['* BYE Logging out', 'f OK LOGOUT completed']);
  } finally {
    await h.close();
  }
});

test('the operator can hide capabilities for one account', async () => {
  const h = await startServer({ disabledCapabilities: (account) => (account?.address === 'alice@example.com' ? ['COMPRESS=DEFLATE', 'qresync'] : []) }, ['alice@example.com', 'bob@example.com']);
  try {
    const a = await RawClient.connect(h.port);
    await a.login();
    const caps = (await a.cmd('c', 'CAPABILITY'))[0] ?? '';
    assert.doesNotMatch(caps, /COMPRESS=DEFLATE|QRESYNC/);
    assert.match(caps, /CONDSTORE/);
    assert.deepEqual(await a.cmd('e', 'ENABLE QRESYNC'), ['* ENABLED', 'e OK ENABLE completed']);
    assert.deepEqual(await a.cmd('z', 'COMPRESS DEFLATE'), ['z BAD COMPRESS is not supported']);
    const b = await RawClient.connect(h.port);
    await b.login('bob@example.com');
    assert.match((await b.cmd('c', 'CAPABILITY'))[0] ?? '', /QRESYNC .*COMPRESS=DEFLATE/);
    a.close();
    b.close();
  } finally {
    await h.close();
  }
});
