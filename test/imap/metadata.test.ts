// RFC 5464 METADATA over a real socket: server and mailbox entries, depth, MAXSIZE,
// removal with NIL, the size and count limits, and persistence across sessions.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startServer, type Harness } from './harness.js';

let h: Harness;
before(async () => {
  h = await startServer({ limits: { maxLineBytes: 8192, maxLiteralBytes: 1 << 20, idleTimeoutMs: 60_000, maxConnectionsPerIp: 20, authFailureDelayMs: 10, metadataMaxEntryBytes: 16, metadataMaxEntries: 4 } });
});
after(async () => {
  await h.close();
});

test('SETMETADATA and GETMETADATA on a mailbox and the server', async () => {
  const c = await RawClient.connect(h.port);
  const other = await RawClient.connect(h.port);
  try {
    await c.login();
    await other.login();
    assert.match((await c.cmd('c', 'CAPABILITY'))[0] ?? '', / METADATA /);
    assert.deepEqual(await c.cmd('s', 'SETMETADATA INBOX (/private/comment "hello" /shared/vendor/x/y {3+}\r\nabc /shared/vendor/x/y/z "deep")'), ['s OK SETMETADATA completed']);
    assert.deepEqual(await c.cmd('s2', 'SETMETADATA "" (/private/Comment "server side")'), ['s2 OK SETMETADATA completed']);
    assert.deepEqual(await other.cmd('g', 'GETMETADATA INBOX /PRIVATE/COMMENT'), ['* METADATA INBOX (/private/comment {5}', 'hello)', 'g OK GETMETADATA completed']);
    assert.deepEqual(await other.cmd('g2', 'GETMETADATA (DEPTH 1) INBOX (/shared/vendor/x)'), ['* METADATA INBOX (/shared/vendor/x/y {3}', 'abc)', 'g2 OK GETMETADATA completed']);
    assert.deepEqual(await other.cmd('g3', 'GETMETADATA (DEPTH infinity) INBOX /shared'), ['* METADATA INBOX (/shared/vendor/x/y {3}', 'abc /shared/vendor/x/y/z {4}', 'deep)', 'g3 OK GETMETADATA completed']);
    assert.deepEqual(await other.cmd('g4', 'GETMETADATA "" /private/comment'), ['* METADATA "" (/private/comment {11}', 'server side)', 'g4 OK GETMETADATA completed']);
    // MAXSIZE leaves out bigger values and names the biggest.
    assert.deepEqual(await other.cmd('m', 'GETMETADATA (MAXSIZE 4 DEPTH infinity) INBOX /private'), ['m OK [METADATA LONGENTRIES 5] GETMETADATA completed']);
    // NIL removes; an absent entry is not listed.
    assert.deepEqual(await c.cmd('d', 'SETMETADATA INBOX (/private/comment NIL)'), ['d OK SETMETADATA completed']);
    assert.deepEqual(await other.cmd('g5', 'GETMETADATA INBOX /private/comment'), ['g5 OK GETMETADATA completed']);
  } finally {
    c.close();
    other.close();
  }
});

test('limits, missing mailboxes and bad entry names', async () => {
  const c = await RawClient.connect(h.port);
  try {
    await c.login();
    await c.cmd('c', 'CREATE Notes');
    assert.deepEqual(await c.cmd('a', 'SETMETADATA Notes (/private/comment "seventeen bytes!!")'), ['a NO [METADATA MAXSIZE 16] Value too large']);
    assert.deepEqual(await c.cmd('b', 'SETMETADATA Notes (/private/a "1" /private/b "2" /private/c "3" /private/d "4" /private/e "5")'), ['b NO [METADATA TOOMANY] Too many entries']);
    assert.deepEqual(await c.cmd('b2', 'GETMETADATA (DEPTH infinity) Notes /private'), ['b2 OK GETMETADATA completed'], 'nothing of a refused SETMETADATA is kept');
    assert.match((await c.cmd('n', 'SETMETADATA Nowhere (/private/comment "x")')).at(-1) ?? '', /^n NO \[NONEXISTENT\]/);
    assert.match((await c.cmd('n2', 'GETMETADATA Nowhere /private/comment')).at(-1) ?? '', /^n2 NO \[NONEXISTENT\]/);
    for (const bad of ['/other/x', '/private/', '/private//x', '/private/a*']) {
      assert.match((await c.cmd('x', `GETMETADATA Notes "${bad}"`)).at(-1) ?? '', /^x BAD/, bad);
    }
    // Deleting the mailbox removes its entries: a new one of the same name has none.
    await c.cmd('s', 'SETMETADATA Notes (/private/comment "old")');
    await c.cmd('d', 'DELETE Notes');
    await c.cmd('c2', 'CREATE Notes');
    assert.deepEqual(await c.cmd('g', 'GETMETADATA Notes /private/comment'), ['g OK GETMETADATA completed']);
  } finally {
    c.close();
  }
});
