// SEARCH BODY/TEXT/HEADER through the store's full-text index (migration 0008):
// messages appended over IMAP are indexed by the store, messages stored without the
// extractor are scanned (and indexed on the way), and every answer equals the full
// scan. `NOT NOT BODY x` is never sent to the index (search-plan.ts), so it is the
// scan's answer to compare with.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { RawClient, startServer, type Harness } from './harness.js';

/** APPEND of raw bytes (any charset) with a LITERAL+ literal. */
async function appendRaw(c: RawClient, mailbox: string, raw: Buffer, flags = ''): Promise<string[]> {
  c.write(Buffer.concat([Buffer.from(`AP APPEND ${mailbox} ${flags ? `(${flags}) ` : ''}{${raw.length}+}\r\n`), raw, Buffer.from('\r\n')]));
  return c.until('AP');
}

const crlf = (...lines: string[]) => lines.join('\r\n');

const CORPUS: Buffer[] = [
  Buffer.from(crlf('From: Bob <bob@example.org>', 'Subject: Plain one', '', 'The quick brown fox jumps over the lazy dog.', '')),
  // Quoted-printable UTF-8: the index holds the decoded text.
  Buffer.from(crlf('From: Carol <carol@example.net>', 'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', 'Caf=C3=A9 au lait, STRASSE and Stra=C3=9Fe', '')),
  // ISO-8859-1 bytes: decoded from the charset before matching.
  Buffer.concat([Buffer.from(crlf('From: Dan <dan@example.com>', 'Subject: latin', 'Content-Type: text/plain; charset=iso-8859-1', '', '')), Buffer.from('Ni\xf1o pr\xe9f\xe8re l\'\xe9t\xe9\r\n', 'latin1')]),
  // Base64 HTML in multipart/alternative with a plain part; an attachment that is not text.
  Buffer.from(
    crlf(
      'From: Eve <eve@example.com>',
      'Subject: Report Q3',
      'X-Ticket: T-4411',
      'Content-Type: multipart/mixed; boundary="m"',
      '',
      '--m',
      'Content-Type: multipart/alternative; boundary="a"',
      '',
      '--a',
      'Content-Type: text/plain',
      '',
      'Quarterly numbers attached. 100% done_ok',
      '--a',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('<p>Quarterly <b>numbers</b> attached</p>').toString('base64'),
      '--a--',
      '--m',
      'Content-Type: application/pdf; name="r.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('%PDF secret-binary-word').toString('base64'),
      '--m--',
      '',
    ),
  ),
  // A message inside a message: its headers and text are searched too.
  Buffer.from(crlf('From: Fay <fay@example.com>', 'Subject: Fwd: hello', 'Content-Type: message/rfc822', '', 'From: Gus <gus@example.org>', 'Subject: inner subject', '', 'Inner body with zebra stripes', '')),
  // Broken MIME: a missing closing boundary.
  Buffer.from(crlf('From: Hal <hal@example.com>', 'Subject: broken', 'Content-Type: multipart/mixed; boundary="zz"', '', '--zz', 'Content-Type: text/plain', '', 'unterminated zebra', '')),
];

let h: Harness;
let c: RawClient;
let plain: Store;

before(async () => {
  h = await startServer();
  c = await RawClient.connect(h.port);
  await c.login();
  await c.cmd('c', 'CREATE Box');
  for (const [i, raw] of CORPUS.entries()) {
    const r = await appendRaw(c, 'Box', raw, i % 2 === 0 ? '\\Seen' : '');
    assert.match(r.at(-1) ?? '', /^AP OK/);
  }
  // Another handle on the same database, without the extractor (an older release, a
  // process that does not index): what it stores is left unindexed.
  plain = await openStore({ driver: 'sqlite', dataDir: h.dataDir, bus: h.store.bus });
});
after(async () => {
  c.close();
  await h.close();
  await plain.close();
});

function uidsOf(lines: string[]): number[] {
  const line = lines.find((l) => l.startsWith('* SEARCH'));
  assert.ok(line, lines.join('\n'));
  return line
    .slice('* SEARCH'.length)
    .trim()
    .split(' ')
    .filter((x) => x !== '')
    .map(Number);
}

async function uidSearch(criteria: string): Promise<number[]> {
  const r = await c.cmd('s', `UID SEARCH CHARSET UTF-8 ${criteria}`);
  assert.match(r.at(-1) ?? '', /^s OK/, r.join('\n'));
  return uidsOf(r);
}

test('appended messages are indexed by the store; SEARCH matches decoded, case-folded substrings', async () => {
  await c.cmd('x', 'SELECT Box');
  const box = (await h.store.getMailbox(h.account.id, 'Box'))!;
  assert.deepEqual((await h.store.searchText(box.id, { field: 'body', value: 'fox' })).unindexed, [], 'every appended message has its index row');
  assert.deepEqual(await uidSearch('BODY "QUICK BROWN"'), [1]);
  assert.deepEqual(await uidSearch('BODY "café AU"'), [2]);
  assert.deepEqual(await uidSearch('BODY "straße"'), [2]);
  assert.deepEqual(await uidSearch('BODY "NIÑO PRÉF"'), [3]);
  assert.deepEqual(await uidSearch('BODY "quarterly numbers"'), [4]);
  assert.deepEqual(await uidSearch('BODY "secret-binary"'), [], 'attachments are not text');
  assert.deepEqual(await uidSearch('BODY "100% done_ok"'), [4]);
  assert.deepEqual(await uidSearch('BODY "0%_"'), []);
  assert.deepEqual(await uidSearch('BODY zebra'), [5, 6]);
  assert.deepEqual(await uidSearch('BODY "inner subject"'), [5], 'the headers of an attached message are text');
  assert.deepEqual(await uidSearch('TEXT "grüße"'), [2], 'TEXT reaches decoded headers');
  assert.deepEqual(await uidSearch('BODY "grüße"'), [], 'BODY does not');
  assert.deepEqual(await uidSearch('HEADER X-Ticket 4411'), [4]);
  assert.deepEqual(await uidSearch('HEADER Subject 4411'), [], 'the field must match, not just the headers');
  assert.deepEqual(await uidSearch('HEADER X-Ticket ""'), [4]);
  assert.deepEqual(await uidSearch('BODY zebra SEEN'), [5], 'index plus flags');
  assert.deepEqual(await uidSearch('OR BODY fox BODY "niño"'), [1, 3]);
  assert.deepEqual(await uidSearch('OR BODY fox FROM carol'), [1, 2], 'an OR the index cannot answer alone');
  assert.deepEqual(await uidSearch('NOT BODY zebra'), [1, 2, 3, 4]);
  assert.deepEqual(await uidSearch('BODY zebra NOT BODY stripes'), [6]);
  assert.deepEqual(await uidSearch('(BODY the BODY dog) UID 1:3'), [1]);
  assert.deepEqual(await uidSearch('BODY "ñ"'), [3], 'one character');
  const sorted = await c.cmd('o', 'UID SORT (REVERSE ARRIVAL) UTF-8 BODY zebra');
  assert.ok(sorted.includes('* SORT 6 5'), sorted.join('\n'));
});

test('messages the index lacks are scanned, then indexed on the way', async () => {
  const box = (await h.store.getMailbox(h.account.id, 'Box'))!;
  const raw = Buffer.from(crlf('From: Ivy <ivy@example.com>', 'Subject: late', '', 'An unindexed Zebra appears', ''));
  const blob = await plain.blobs.put(raw);
  const { uid } = await plain.appendMessage(box.id, { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: {} });
  assert.deepEqual((await h.store.searchText(box.id, { field: 'body', value: 'zebra' })).unindexed, [uid]);
  await c.cmd('n', 'NOOP');
  assert.deepEqual(await uidSearch('BODY zebra'), [5, 6, uid]);
  // The scan handed the text to the index (not awaited by SEARCH: poll briefly).
  for (let i = 0; i < 50 && (await h.store.searchText(box.id, { field: 'body', value: 'zebra' })).unindexed.length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(await h.store.searchText(box.id, { field: 'body', value: 'zebra' }), { matched: [5, 6, uid], unindexed: [] });
  assert.deepEqual(await uidSearch('BODY zebra'), [5, 6, uid]);
});

test('the index answers exactly what the full scan answers', async () => {
  const needles = ['the', 'THE', 'e', 'é', 'Caf', 'café', 'ñ', 'stra', 'ße', 'SS', 'numbers', 'quarterly numbers attached', '%', '_', 'o', 'zebra', 'Z', 'inner', 'subject', 'q3', '4411', 'fox jumps', 'lait,', 'xyz', ''];
  for (const n of needles) {
    for (const key of ['BODY', 'TEXT']) {
      const quoted = `"${n}"`;
      const indexed = await uidSearch(`${key} ${quoted}`);
      const scanned = await uidSearch(`NOT NOT ${key} ${quoted}`);
      assert.deepEqual(indexed, scanned, `${key} ${quoted}`);
    }
    const indexed = await uidSearch(`HEADER Subject "${n}"`);
    assert.deepEqual(indexed, await uidSearch(`NOT NOT HEADER Subject "${n}"`), `HEADER Subject "${n}"`);
    const bySubject = await uidSearch(`SUBJECT "${n}"`);
    assert.deepEqual(bySubject, await uidSearch(`NOT NOT SUBJECT "${n}"`), `SUBJECT "${n}"`);
  }
});

test('SUBJECT finds a subject past the header bytes the index reads', async () => {
  // 80 KiB of other fields first: the indexed header text stops before the Subject.
  const filler = Array.from({ length: 1000 }, (_, i) => `X-Filler-${i}: ${'f'.repeat(70)}`);
  const raw = Buffer.from(crlf(...filler, 'Subject: Far-Away Kumquat', '', 'body', ''));
  const r = await appendRaw(c, 'Box', raw);
  const uid = Number(/APPENDUID \d+ (\d+)/.exec(r.at(-1) ?? '')?.[1]);
  await c.cmd('n', 'NOOP');
  assert.deepEqual(await uidSearch('SUBJECT "far-away kumquat"'), [uid]);
  assert.deepEqual(await uidSearch('SUBJECT kumquat'), await uidSearch('NOT NOT SUBJECT kumquat'));
  assert.deepEqual(await uidSearch('HEADER Subject kumquat'), [], 'HEADER reads the indexed header text, as the scan does');
});
