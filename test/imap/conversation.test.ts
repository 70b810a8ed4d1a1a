// Several sessions at once on one mailbox (mox style): what the OTHER sessions
// are told, and when (RFC 9051 7.5.1: no EXPUNGE during FETCH/STORE/SEARCH).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, append, msg, startServer, type Harness } from './harness.js';

let h: Harness;
before(async () => {
  h = await startServer({}, ['alice@example.com']);
});
after(async () => {
  await h.close();
});

async function session(mailbox = 'INBOX'): Promise<RawClient> {
  const c = await RawClient.connect(h.port);
  await c.login();
  await c.cmd('S', `SELECT ${mailbox}`);
  return c;
}

test('EXISTS, FETCH FLAGS and EXPUNGE reach the other session at the allowed moments', async () => {
  await (await session()).cmd('X', 'CREATE Shared1');
  const a = await session('Shared1');
  const b = await session('Shared1');
  const appended: string[] = [];
  for (const s of ['one', 'two', 'three']) appended.push(...(await append(b, 'Shared1', msg(s))));
  // b learns of its own appends with each APPEND's reply (RFC 9051 6.3.12), and being
  // the first session to hear of them, b alone gets them as \Recent (RFC 3501 2.3.2)
  assert.deepEqual(appended.filter((l) => l.startsWith('*')), ['* 1 EXISTS', '* 1 RECENT', '* 2 EXISTS', '* 2 RECENT', '* 3 EXISTS', '* 3 RECENT']);
  assert.deepEqual(await b.cmd('n1', 'NOOP'), ['n1 OK NOOP completed']);
  assert.deepEqual(await a.cmd('n1', 'NOOP'), ['* 3 EXISTS', '* 0 RECENT', 'n1 OK NOOP completed']);

  // flags changed by b are reported to a, once
  const st = await b.cmd('s1', 'STORE 2 +FLAGS (\\Flagged $Important)');
  assert.deepEqual(st, ['* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Important)', '* 2 FETCH (FLAGS (\\Flagged \\Recent $Important))', 's1 OK STORE completed']);
  const an = await a.cmd('n2', 'NOOP');
  assert.deepEqual(an, ['* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Important)', '* 2 FETCH (UID 2 FLAGS (\\Flagged $Important))', 'n2 OK NOOP completed']);
  assert.deepEqual(await b.cmd('n2', 'NOOP'), ['n2 OK NOOP completed'], 'own STORE is not repeated');

  // b expunges message 1; a is inside FETCH: no EXPUNGE, MSNs stay stable
  await b.cmd('s2', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
  assert.deepEqual(await b.cmd('e1', 'EXPUNGE'), ['* 1 EXPUNGE', 'e1 OK EXPUNGE completed']);
  const af = await a.cmd('f1', 'FETCH 1:3 (UID)');
  assert.ok(!af.some((l) => /^\* \d+ EXPUNGE/.test(l)), af.join('\n'));
  assert.ok(af.includes('* 2 FETCH (UID 2)') && af.includes('* 3 FETCH (UID 3)'), af.join('\n'));
  assert.equal(af.at(-1), 'f1 OK [EXPUNGEISSUED] Some messages were expunged meanwhile');
  const as = await a.cmd('f2', 'SEARCH ALL');
  assert.ok(!as.some((l) => l.includes('EXPUNGE')));
  assert.equal(as[0], '* SEARCH 2 3', 'numbers of the still-visible expunged message are not reused');
  // ... and at NOOP the expunge arrives
  const an3 = await a.cmd('n3', 'NOOP');
  assert.ok(an3.includes('* 1 EXPUNGE'), an3.join('\n'));
  assert.deepEqual(await a.cmd('f3', 'FETCH 1 (UID)'), ['* 1 FETCH (UID 2)', 'f3 OK FETCH completed']);
  a.close();
  b.close();
});

test('IDLE pushes changes from another session immediately, with keep-alives and DONE', async () => {
  await (await session()).cmd('X', 'CREATE Idle1');
  const a = await session('Idle1');
  const b = await session('Idle1');
  a.write('i1 IDLE\r\n');
  assert.equal(await a.next(), '+ idling');
  await append(b, 'Idle1', msg('pushed'));
  assert.equal(await a.next(), '* 1 EXISTS');
  // a (in IDLE) and b (answering its APPEND) race for \Recent; one of them gets it.
  const recent = await a.next();
  assert.match(recent, /^\* [01] RECENT$/);
  const r = recent === '* 1 RECENT' ? ' \\Recent' : '';
  await b.cmd('s', 'STORE 1 +FLAGS (\\Seen)');
  assert.equal(await a.next(), `* 1 FETCH (UID 1 FLAGS (\\Seen${r}))`);
  await b.cmd('s2', 'STORE 1 +FLAGS (\\Deleted)');
  assert.equal(await a.next(), `* 1 FETCH (UID 1 FLAGS (\\Seen \\Deleted${r}))`);
  await b.cmd('e', 'EXPUNGE');
  assert.equal(await a.next(), '* 1 EXPUNGE');
  a.write('DONE\r\n');
  assert.equal(await a.next(), 'i1 OK IDLE terminated');
  a.close();
  b.close();
});

test('IDLE: DONE pipelined with IDLE; a command instead of DONE ends IDLE and runs', async () => {
  const a = await session();
  a.write('i1 IDLE\r\nDONE\r\n');
  assert.equal(await a.next(), '+ idling');
  assert.equal(await a.next(), 'i1 OK IDLE terminated');
  a.write('i2 IDLE\r\n');
  assert.equal(await a.next(), '+ idling');
  a.write('n NOOP\r\n');
  assert.equal(await a.next(), 'i2 OK IDLE terminated');
  assert.equal(await a.next(), 'n OK NOOP completed');
  a.close();
});

test('IDLE keep-alive and QRESYNC sessions get VANISHED', async () => {
  const k = await startServer({}, ['carol@example.com']);
  try {
    const k2 = await startServer({ limits: { maxLineBytes: 8192, maxLiteralBytes: 1 << 20, idleTimeoutMs: 60_000, maxConnectionsPerIp: 10, idleKeepaliveMs: 50 } }, ['dave@example.com']);
    const a = await RawClient.connect(k2.port);
    await a.login('dave@example.com');
    await a.cmd('s', 'SELECT INBOX');
    a.write('i IDLE\r\n');
    assert.equal(await a.next(), '+ idling');
    assert.equal(await a.next(), '* OK Still here');
    a.write('DONE\r\n');
    assert.equal(await a.next(), 'i OK IDLE terminated');
    a.close();
    await k2.close();

    const q = await RawClient.connect(k.port);
    await q.login('carol@example.com');
    assert.deepEqual(await q.cmd('e', 'ENABLE QRESYNC'), ['* ENABLED QRESYNC', 'e OK ENABLE completed']);
    for (const s of ['a', 'b', 'c']) await append(q, 'INBOX', msg(s));
    const sel = await q.cmd('s', 'SELECT INBOX');
    const validity = /UIDVALIDITY (\d+)/.exec(sel.join('\n'))?.[1];
    const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(sel.join('\n'))?.[1]);
    const other = await RawClient.connect(k.port);
    await other.login('carol@example.com');
    await other.cmd('s', 'SELECT INBOX');
    await other.cmd('st', 'UID STORE 2 +FLAGS (\\Deleted \\Seen)');
    await other.cmd('x', 'UID EXPUNGE 2');
    await other.cmd('st2', 'UID STORE 3 +FLAGS (\\Answered)');
    const n = await q.cmd('n', 'NOOP');
    assert.ok(n.includes('* VANISHED 2'), n.join('\n'));
    // q selected INBOX first after the appends: the messages are \Recent in q only.
    assert.ok(n.some((l) => /^\* 2 FETCH \(UID 3 FLAGS \(\\Answered \\Recent\) MODSEQ \(\d+\)\)$/.test(l)), n.join('\n'));
    // A fresh session resynchronises from the old modseq (RFC 7162 3.2.5).
    const r = await RawClient.connect(k.port);
    await r.login('carol@example.com');
    await r.cmd('e', 'ENABLE QRESYNC');
    const rs = await r.cmd('s', `SELECT INBOX (QRESYNC (${validity} ${modseq} 1:3))`);
    assert.ok(rs.includes('* VANISHED (EARLIER) 2'), rs.join('\n'));
    assert.ok(rs.some((l) => /^\* 2 FETCH \(UID 3 FLAGS \(\\Answered\) MODSEQ/.test(l)), rs.join('\n'));
    const fv = await r.cmd('f', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`);
    assert.equal(fv[0], '* VANISHED (EARLIER) 2');
    for (const c of [q, other, r]) c.close();
  } finally {
    await k.close();
  }
});

test('MOVE reports COPYUID then EXPUNGE; the target session sees EXISTS', async () => {
  const src = await session();
  await src.cmd('c', 'CREATE Moved');
  const dst = await session('Moved');
  const startCount = Number(/\* (\d+) EXISTS/.exec((await src.cmd('s', 'SELECT INBOX')).join('\n'))?.[1]);
  await append(src, 'INBOX', msg('to-move'));
  await src.cmd('n', 'NOOP');
  const mv = await src.cmd('m', `MOVE ${startCount + 1} Moved`);
  assert.match(mv[0] ?? '', /^\* OK \[COPYUID \d+ \d+ 1\] Moved$/);
  assert.equal(mv[1], `* ${startCount + 1} EXPUNGE`);
  assert.equal(mv.at(-1), 'm OK MOVE completed');
  assert.deepEqual(await dst.cmd('n', 'NOOP'), ['* 1 EXISTS', '* 1 RECENT', 'n OK NOOP completed']);
  const cp = await dst.cmd('cp', 'UID COPY 1 INBOX');
  assert.match(cp.at(-1) ?? '', /^cp OK \[COPYUID \d+ 1 \d+\] COPY completed$/);
  assert.deepEqual((await dst.cmd('t', 'COPY 1 Nowhere')).at(-1), 't NO [TRYCREATE] Mailbox does not exist');
  src.close();
  dst.close();
});

test('CONDSTORE: UNCHANGEDSINCE refuses stale changes with MODIFIED', async () => {
  const c = await session();
  await c.cmd('c', 'CREATE Cond');
  await c.cmd('s', 'SELECT Cond (CONDSTORE)');
  await append(c, 'Cond', msg('c1'));
  await append(c, 'Cond', msg('c2'));
  await c.cmd('n', 'NOOP');
  const f = await c.cmd('f', 'FETCH 1:2 (MODSEQ)');
  const m1 = Number(/MODSEQ \((\d+)\)/.exec(f[0] ?? '')?.[1]);
  await c.cmd('x', 'STORE 2 +FLAGS.SILENT (\\Seen)');
  const st = await c.cmd('u', `STORE 1:2 (UNCHANGEDSINCE ${m1 + 1}) +FLAGS (\\Flagged)`);
  assert.equal(st.at(-1), 'u OK [MODIFIED 2] Conditional STORE failed for some messages');
  assert.ok(st.some((l) => /^\* 1 FETCH \(FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)$/.test(l)), st.join('\n'));
  const s = await c.cmd('q', `SEARCH MODSEQ ${m1 + 1}`);
  assert.match(s[0] ?? '', /^\* SEARCH 1 2 \(MODSEQ \d+\)$/);
  c.close();
});

test('EXPUNGE, UID EXPUNGE, CLOSE and UNSELECT', async () => {
  const c = await session();
  await c.cmd('c', 'CREATE Exp');
  for (const s of ['a', 'b', 'c', 'd']) await append(c, 'Exp', msg(s));
  await c.cmd('s', 'SELECT Exp');
  await c.cmd('st', 'STORE 1:3 +FLAGS.SILENT (\\Deleted)');
  assert.deepEqual(await c.cmd('ue', 'UID EXPUNGE 2'), ['* 2 EXPUNGE', 'ue OK UID EXPUNGE completed']);
  assert.deepEqual(await c.cmd('ex', 'EXPUNGE'), ['* 2 EXPUNGE', '* 1 EXPUNGE', 'ex OK EXPUNGE completed']);
  await c.cmd('st2', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
  assert.deepEqual(await c.cmd('u', 'UNSELECT'), ['u OK UNSELECT completed']);
  assert.match((await c.cmd('st', 'STATUS Exp (MESSAGES DELETED)'))[0] ?? '', /MESSAGES 1 DELETED 1/);
  await c.cmd('s2', 'SELECT Exp');
  assert.deepEqual(await c.cmd('cl', 'CLOSE'), ['cl OK CLOSE completed']);
  assert.match((await c.cmd('st3', 'STATUS Exp (MESSAGES)'))[0] ?? '', /MESSAGES 0/);
  assert.equal((await c.cmd('f', 'FETCH 1 FLAGS')).at(-1), 'f BAD FETCH needs a selected mailbox');
  await c.cmd('e', 'EXAMINE INBOX');
  assert.equal((await c.cmd('st4', 'STORE 1 +FLAGS (\\Seen)')).at(-1), 'st4 NO [READ-ONLY] Mailbox is read-only');
  c.close();
});

test('a session whose selected mailbox is deleted elsewhere is told BYE (also in IDLE)', async () => {
  const b = await session();
  await b.cmd('c', 'CREATE Doomed1');
  await b.cmd('c2', 'CREATE Doomed2');
  const a1 = await session('Doomed1');
  const a2 = await session('Doomed2');
  a2.write('i IDLE\r\n');
  assert.equal(await a2.next(), '+ idling');
  await b.cmd('d', 'DELETE Doomed1');
  await b.cmd('d2', 'DELETE Doomed2');
  assert.equal(await a2.next(), '* BYE Selected mailbox was deleted, have to disconnect');
  a1.write('n NOOP\r\n');
  assert.equal(await a1.next(), '* BYE Selected mailbox was deleted, have to disconnect');
  assert.deepEqual(h.logs.filter((l) => l.level === 'error'), []);
  for (const c of [a1, a2, b]) c.close();
});

test('sequence sets: 1:* on an empty mailbox matches nothing; numbers beyond it are BAD', async () => {
  const c = await session();
  await c.cmd('c', 'CREATE Empty1');
  await c.cmd('s', 'SELECT Empty1');
  assert.deepEqual(await c.cmd('f', 'FETCH 1:* (FLAGS)'), ['f OK FETCH completed']);
  assert.deepEqual(await c.cmd('g', 'FETCH 1 (FLAGS)'), ['g BAD Invalid message sequence number']);
  assert.deepEqual(await c.cmd('u', 'UID FETCH 1:10 (FLAGS)'), ['u OK FETCH completed']);
  c.close();
});
