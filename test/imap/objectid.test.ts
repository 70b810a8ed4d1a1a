// RFC 8474 OBJECTID: MAILBOXID survives RENAME and is new for a re-created mailbox;
// EMAILID survives MOVE; THREADID is shared by the messages of one thread; both
// can be searched.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, append, startServer, type Harness } from './harness.js';

let h: Harness;
let c: RawClient;
before(async () => {
  h = await startServer();
  c = await RawClient.connect(h.port);
  await c.login();
});
after(async () => {
  c.close();
  await h.close();
});

const idIn = (lines: string[], re: RegExp): string => {
  const m = re.exec(lines.join('\n'));
  assert.ok(m?.[1], lines.join('\n'));
  return m[1];
};

test('MAILBOXID from CREATE, SELECT and STATUS; kept by RENAME, new after DELETE and CREATE', async () => {
  assert.match((await c.cmd('c', 'CAPABILITY'))[0] ?? '', / OBJECTID /);
  const id = idIn(await c.cmd('a', 'CREATE Objects'), /^a OK \[MAILBOXID \(([A-Za-z0-9_-]+)\)\]/m);
  assert.equal(idIn(await c.cmd('s', 'EXAMINE Objects'), /^\* OK \[MAILBOXID \(([^)]+)\)\]/m), id);
  await c.cmd('r', 'RENAME Objects Things');
  assert.equal(idIn(await c.cmd('t', 'STATUS Things (MAILBOXID)'), /MAILBOXID \(([^)]+)\)/), id);
  await c.cmd('u', 'UNSELECT');
  await c.cmd('d', 'DELETE Things');
  const again = idIn(await c.cmd('a2', 'CREATE Things'), /^a2 OK \[MAILBOXID \(([^)]+)\)\]/m);
  assert.notEqual(again, id);
});

test('EMAILID and THREADID in FETCH and SEARCH; MOVE keeps the EMAILID', async () => {
  await c.cmd('c', 'CREATE Threads');
  await c.cmd('c2', 'CREATE Elsewhere');
  await append(c, 'Threads', 'Message-ID: <root@x>\r\nSubject: start\r\n\r\nroot\r\n');
  await append(c, 'Threads', 'Message-ID: <other@x>\r\nSubject: unrelated\r\n\r\nother\r\n');
  await append(c, 'Threads', 'Message-ID: <reply@x>\r\nIn-Reply-To: <root@x>\r\nReferences: <ROOT@x>\r\nSubject: Re: start\r\n\r\nreply\r\n');
  await c.cmd('s', 'SELECT Threads');
  const f = await c.cmd('f', 'UID FETCH 1:3 (EMAILID THREADID)');
  const ids = [1, 2, 3].map((uid) => {
    const line = f.find((l) => l.includes(`UID ${uid} `)) ?? '';
    const m = /EMAILID \(([A-Za-z0-9_-]+)\) THREADID \(([A-Za-z0-9_-]+)\)/.exec(line);
    assert.ok(m, f.join('\n'));
    return { email: m[1]!, thread: m[2]! };
  });
  assert.equal(new Set(ids.map((i) => i.email)).size, 3);
  assert.equal(ids[0]!.thread, ids[2]!.thread, 'the reply is in the thread of its root');
  assert.notEqual(ids[0]!.thread, ids[1]!.thread);
  assert.deepEqual(await c.cmd('q', `UID SEARCH THREADID ${ids[0]!.thread}`), ['* SEARCH 1 3', 'q OK SEARCH completed']);
  assert.deepEqual(await c.cmd('e', `UID SEARCH EMAILID ${ids[1]!.email}`), ['* SEARCH 2', 'e OK SEARCH completed']);
  assert.match((await c.cmd('b', 'SEARCH EMAILID "a b"')).at(-1) ?? '', /^b BAD/);
  await c.cmd('m', 'UID MOVE 2 Elsewhere');
  await c.cmd('s2', 'SELECT Elsewhere');
  assert.match((await c.cmd('f2', 'FETCH 1 (EMAILID THREADID)'))[0] ?? '', new RegExp(`EMAILID \\(${ids[1]!.email}\\) THREADID \\(${ids[1]!.thread}\\)`));
});
