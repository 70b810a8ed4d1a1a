// \Recent (RFC 3501 2.3.2): a new message is recent in exactly one IMAP4rev1 session,
// the first to SELECT the mailbox (or to hear of the message while selecting it);
// EXAMINE and STATUS show recent messages without taking them; IMAP4rev2 sessions
// (RFC 9051 removed \Recent) neither see nor take them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, msg, startServer, type Harness } from './harness.js';

let h: Harness;
before(async () => {
  h = await startServer();
});
after(async () => {
  await h.close();
});

async function deliver(mailbox: string, subject: string): Promise<void> {
  const box = (await h.store.getMailbox(h.account.id, mailbox))!;
  const raw = Buffer.from(msg(subject));
  const blob = await h.store.blobs.put(raw);
  await h.store.appendMessage(box.id, { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: {} });
}

async function client(rev2 = false): Promise<RawClient> {
  const c = await RawClient.connect(h.port);
  await c.login();
  if (rev2) await c.cmd('e', 'ENABLE IMAP4rev2');
  return c;
}

test('one session gets \\Recent; EXAMINE, STATUS and IMAP4rev2 sessions take nothing', async () => {
  const setup = await client();
  await setup.cmd('c', 'CREATE Rec');
  await deliver('Rec', 'first');
  await deliver('Rec', 'second');
  const [v2, examiner, a, b] = [await client(true), await client(), await client(), await client()];
  try {
    assert.match((await setup.cmd('s', 'STATUS Rec (MESSAGES RECENT)'))[0] ?? '', /\(MESSAGES 2 RECENT 2\)/);
    const s2 = await v2.cmd('s', 'SELECT Rec');
    assert.ok(!s2.some((l) => l.includes('RECENT')), s2.join('\n'));
    assert.deepEqual(await v2.cmd('f', 'FETCH 1:2 FLAGS'), ['* 1 FETCH (FLAGS ())', '* 2 FETCH (FLAGS ())', 'f OK FETCH completed']);
    const ex = await examiner.cmd('x', 'EXAMINE Rec');
    assert.ok(ex.includes('* 2 RECENT'), ex.join('\n'));
    assert.deepEqual(await examiner.cmd('r', 'SEARCH RECENT'), ['* SEARCH 1 2', 'r OK SEARCH completed']);

    const sa = await a.cmd('s', 'SELECT Rec');
    assert.ok(sa.includes('* 2 RECENT'), 'neither the IMAP4rev2 SELECT nor EXAMINE took them: ' + sa.join('\n'));
    assert.deepEqual(await a.cmd('f', 'FETCH 1 FLAGS'), ['* 1 FETCH (FLAGS (\\Recent))', 'f OK FETCH completed']);
    assert.deepEqual(await a.cmd('n', 'SEARCH NEW'), ['* SEARCH 1 2', 'n OK SEARCH completed']);
    await a.cmd('st', 'STORE 1 +FLAGS (\\Seen)');
    assert.deepEqual(await a.cmd('n2', 'SEARCH NEW'), ['* SEARCH 2', 'n2 OK SEARCH completed']);
    assert.match((await setup.cmd('s2', 'STATUS Rec (RECENT)'))[0] ?? '', /\(RECENT 0\)/, 'taken by a');

    const sb = await b.cmd('s', 'SELECT Rec');
    assert.ok(sb.includes('* 0 RECENT'), sb.join('\n'));
    assert.deepEqual(await b.cmd('o', 'SEARCH OLD'), ['* SEARCH 1 2', 'o OK SEARCH completed']);
    assert.deepEqual(await b.cmd('r', 'SEARCH RECENT'), ['* SEARCH', 'r OK SEARCH completed']);

    // A new message: the first selected session to hear of it takes it.
    await deliver('Rec', 'third');
    const na = await a.cmd('n3', 'NOOP');
    assert.deepEqual(na.slice(0, 2), ['* 3 EXISTS', '* 3 RECENT']);
    const nb = await b.cmd('n3', 'NOOP');
    assert.deepEqual(nb.slice(0, 2), ['* 3 EXISTS', '* 0 RECENT']);
    assert.deepEqual(await b.cmd('f', 'FETCH 3 FLAGS'), ['* 3 FETCH (FLAGS ())', 'f OK FETCH completed']);
    assert.deepEqual(await a.cmd('f', 'FETCH 3 FLAGS'), ['* 3 FETCH (FLAGS (\\Recent))', 'f OK FETCH completed']);
    // The IMAP4rev2 session hears of it without RECENT.
    const nv = await v2.cmd('n', 'NOOP');
    assert.ok(nv.includes('* 3 EXISTS') && !nv.some((l) => l.includes('RECENT')), nv.join('\n'));
    // Expunged, a message is no longer counted.
    await a.cmd('d', 'STORE 3 +FLAGS.SILENT (\\Deleted)');
    await a.cmd('e', 'EXPUNGE');
    assert.deepEqual(await a.cmd('r', 'SEARCH RECENT'), ['* SEARCH 1 2', 'r OK SEARCH completed']);
  } finally {
    for (const c of [setup, v2, examiner, a, b]) c.close();
  }
});
