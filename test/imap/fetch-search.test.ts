// FETCH items on a multipart message, BINARY, SEARCH keys, ESEARCH, SEARCHRES, SORT.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, append, msg, startServer, type Harness } from './harness.js';

const MULTI = [
  'From: "Carol Q" <carol@example.net>',
  'To: alice@example.com, Dan <dan@example.org>',
  'Cc: eve@example.com',
  'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= report',
  'Date: Tue, 2 Jan 2024 10:00:00 +0000',
  'Message-ID: <multi@example.net>',
  'X-Tracking: abc123',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Caf=C3=A9 quarterly numbers',
  '--b1',
  'Content-Type: application/octet-stream; name="a.bin"',
  'Content-Transfer-Encoding: base64',
  'Content-Disposition: attachment; filename="a.bin"',
  '',
  'AAECAwQ=',
  '--b1--',
  '',
].join('\r\n');

let h: Harness;
let c: RawClient;
before(async () => {
  h = await startServer();
  c = await RawClient.connect(h.port);
  await c.login();
  await c.cmd('c', 'CREATE Box');
  await append(c, 'Box', msg('alpha', 'first body text'), '\\Seen');
  await append(c, 'Box', MULTI, '\\Flagged $Work');
  await append(c, 'Box', msg('beta', 'another thing', 'Cc: zed@example.com\r\n'));
  await c.cmd('s', 'SELECT Box');
});
after(async () => {
  c.close();
  await h.close();
});

test('FETCH ENVELOPE, BODYSTRUCTURE, BODY, INTERNALDATE, RFC822.SIZE and macros', async () => {
  const f = await c.cmd('f', 'FETCH 2 (ENVELOPE BODYSTRUCTURE)');
  assert.equal(f.length, 2, f.join('\n'));
  assert.match(f[0] ?? '', /^\* 2 FETCH \(ENVELOPE \("Tue, 2 Jan 2024 10:00:00 \+0000" "=\?UTF-8\?Q\?Gr=C3=BC=C3=9Fe\?= report" \(\("Carol Q" NIL "carol" "example.net"\)\)/);
  assert.match(f[0] ?? '', /BODYSTRUCTURE \(\("text" "plain" \("charset" "utf-8"\) NIL NIL "quoted-printable" \d+ \d+ NIL NIL NIL NIL\)\("application" "octet-stream" \("name" "a.bin"\) NIL NIL "base64" 8 NIL \("attachment" \("filename" "a.bin"\)\) NIL NIL\) "mixed" \("boundary" "b1"\) NIL NIL NIL\)\)$/);
  const b = await c.cmd('g', 'FETCH 2 BODY');
  assert.match(b[0] ?? '', /^\* 2 FETCH \(BODY \(\("text" "plain" \("charset" "utf-8"\) NIL NIL "quoted-printable" \d+ \d+\)\("application"/);
  const all = await c.cmd('h', 'FETCH 1 ALL');
  assert.match(all[0] ?? '', /^\* 1 FETCH \(FLAGS \(\\Seen \\Recent\) INTERNALDATE "[ \d]\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d \+0000" RFC822.SIZE \d+ ENVELOPE \(/);
  const fast = await c.cmd('i', 'UID FETCH 1:* FAST');
  assert.equal(fast.length, 4);
  assert.match(fast[2] ?? '', /^\* 3 FETCH \(UID 3 FLAGS \(\\Recent\) INTERNALDATE ".*" RFC822.SIZE \d+\)$/);
});

test('FETCH body sections: parts, MIME, HEADER.FIELDS(.NOT), TEXT, partial; PEEK vs \\Seen', async () => {
  const p1 = await c.cmd('a', 'FETCH 2 (BODY.PEEK[1] BODY.PEEK[1.MIME])');
  assert.deepEqual(p1.slice(0, 5), [
    '* 2 FETCH (BODY[1] {27}',
    'Caf=C3=A9 quarterly numbers BODY[1.MIME] {88}',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
  ]);
  const hf = await c.cmd('b', 'FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT x-tracking)])');
  assert.deepEqual(hf.slice(0, 4), ['* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT x-tracking)] {67}', 'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= report', 'X-Tracking: abc123', '']);
  const hn = await c.cmd('c', 'FETCH 1 (BODY.PEEK[HEADER.FIELDS.NOT (From To Date Message-ID)])');
  assert.deepEqual(hn.slice(0, 3), ['* 1 FETCH (BODY[HEADER.FIELDS.NOT (From To Date Message-ID)] {18}', 'Subject: alpha', '']);
  const tx = await c.cmd('d', 'FETCH 1 (BODY.PEEK[TEXT]<6.4> RFC822.SIZE)');
  assert.equal(tx[0], '* 1 FETCH (BODY[TEXT]<6> {4}');
  assert.match(tx[1] ?? '', /^body RFC822.SIZE \d+\)$/);
  const none = await c.cmd('e', 'FETCH 1 (BODY.PEEK[5])');
  assert.equal(none[0], '* 1 FETCH (BODY[5] NIL)');
  // Without PEEK, \Seen is set and the new FLAGS come with the data.
  const seen = await c.cmd('f', 'FETCH 3 (BODY[HEADER.FIELDS (Subject)])');
  assert.equal(seen[0], '* 3 FETCH (FLAGS (\\Seen \\Recent) BODY[HEADER.FIELDS (Subject)] {17}');
  const again = await c.cmd('g', 'FETCH 3 (FLAGS)');
  assert.equal(again[0], '* 3 FETCH (FLAGS (\\Seen \\Recent))');
  await c.cmd('h', 'STORE 3 -FLAGS.SILENT (\\Seen)');
  const r822 = await c.cmd('i', 'FETCH 1 (RFC822.HEADER)');
  assert.match(r822[0] ?? '', /^\* 1 FETCH \(RFC822.HEADER \{\d+\}$/);
});

test('BINARY and BINARY.SIZE decode the transfer encoding (RFC 3516)', async () => {
  const b = await c.cmd('a', 'FETCH 2 (BINARY.PEEK[2] BINARY.SIZE[1])');
  assert.equal(b[0], '* 2 FETCH (BINARY[2] ~{5}');
  assert.equal(b[1], '\u0000\u0001\u0002\u0003\u0004 BINARY.SIZE[1] 23)');
  const t = await c.cmd('b', 'FETCH 2 (BINARY.PEEK[1])');
  assert.deepEqual(t.slice(0, 2), ['* 2 FETCH (BINARY[1] {23}', 'Café quarterly numbers)']);
});

test('SEARCH keys', async () => {
  const s = async (q: string): Promise<string> => ((await c.cmd('s', `SEARCH ${q}`))[0] ?? '').replace(/^\* SEARCH ?/, '');
  assert.equal(await s('ALL'), '1 2 3');
  assert.equal(await s('SEEN'), '1');
  assert.equal(await s('UNSEEN'), '2 3');
  assert.equal(await s('FLAGGED KEYWORD $Work'), '2');
  assert.equal(await s('UNKEYWORD $work'), '1 3');
  assert.equal(await s('FROM carol'), '2');
  assert.equal(await s('FROM "Carol Q"'), '2');
  assert.equal(await s('TO dan@example.org'), '2');
  assert.equal(await s('CC zed'), '3');
  assert.equal(await s('SUBJECT report'), '2');
  assert.equal(await s(`CHARSET UTF-8 SUBJECT {${Buffer.byteLength('Grüße')}+}\r\nGrüße`), '2');
  assert.equal(await s(`BODY {${Buffer.byteLength('café')}+}\r\ncafé`), '2');
  assert.equal(await s('BODY "first body"'), '1');
  assert.equal(await s('TEXT abc123'), '2');
  assert.equal(await s('HEADER X-Tracking abc'), '2');
  assert.equal(await s('HEADER X-Tracking ""'), '2');
  assert.equal(await s('SENTBEFORE 1-Jan-2000'), '1 3');
  assert.equal(await s('SENTON 2-Jan-2024'), '2');
  assert.equal(await s('SINCE 1-Jan-2020'), '1 2 3');
  assert.equal(await s('BEFORE 1-Jan-2020'), '');
  assert.equal(await s('LARGER 400'), '2');
  assert.equal(await s('SMALLER 400'), '1 3');
  assert.equal(await s('OR SEEN FLAGGED'), '1 2');
  assert.equal(await s('NOT SEEN'), '2 3');
  assert.equal(await s('2:*'), '2 3');
  assert.equal(await s('UID 1,3'), '1 3');
  assert.equal(await s('(SEEN) (NOT DELETED)'), '1');
  // This session selected Box first after the appends: all three are \Recent here (RFC 3501 2.3.2).
  assert.equal(await s('RECENT'), '1 2 3');
  assert.equal(await s('NEW'), '2 3');
  assert.equal(await s('OLD'), '');
  const u = await c.cmd('u', 'UID SEARCH FLAGGED');
  assert.equal(u[0], '* SEARCH 2');
  assert.equal((await c.cmd('b', 'SEARCH CHARSET KOI8-R ALL')).at(-1), 'b NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset KOI8-R');
});

test('ESEARCH, SEARCHRES and SORT', async () => {
  assert.deepEqual(await c.cmd('a', 'SEARCH RETURN (MIN MAX COUNT) UNSEEN'), ['* ESEARCH (TAG "a") MIN 2 MAX 3 COUNT 2', 'a OK SEARCH completed']);
  assert.deepEqual(await c.cmd('b', 'UID SEARCH RETURN () ALL'), ['* ESEARCH (TAG "b") UID ALL 1:3', 'b OK SEARCH completed']);
  assert.deepEqual(await c.cmd('c', 'SEARCH RETURN (COUNT) KEYWORD nothing'), ['* ESEARCH (TAG "c") COUNT 0', 'c OK SEARCH completed']);
  assert.deepEqual(await c.cmd('d', 'SEARCH RETURN (SAVE) UNSEEN'), ['d OK SEARCH completed']);
  assert.deepEqual(await c.cmd('e', 'FETCH $ (UID)'), ['* 2 FETCH (UID 2)', '* 3 FETCH (UID 3)', 'e OK FETCH completed']);
  assert.deepEqual(await c.cmd('f', 'SORT (SUBJECT) UTF-8 ALL'), ['* SORT 1 3 2', 'f OK SORT completed']);
  assert.deepEqual(await c.cmd('g', 'SORT (REVERSE SIZE) UTF-8 ALL'), ['* SORT 2 3 1', 'g OK SORT completed']);
  assert.deepEqual(await c.cmd('h', 'UID SORT (DATE) UTF-8 UNSEEN'), ['* SORT 3 2', 'h OK SORT completed']);
  assert.deepEqual(await c.cmd('i', 'SORT (FROM) UTF-8 ALL'), ['* SORT 1 3 2', 'i OK SORT completed']);
  // RFC 5267 ESORT: ALL keeps the sort order
  assert.deepEqual(await c.cmd('j', 'SORT RETURN (MIN MAX COUNT ALL) (REVERSE SIZE) UTF-8 ALL'), ['* ESEARCH (TAG "j") MIN 2 MAX 1 COUNT 3 ALL 2:3,1', 'j OK SORT completed']);
  // RFC 5957 SORT=DISPLAY: display name first ("Bob" < "Carol Q")
  assert.deepEqual(await c.cmd('k', 'SORT (DISPLAYFROM) UTF-8 ALL'), ['* SORT 1 3 2', 'k OK SORT completed']);
  // RFC 5032 WITHIN
  assert.deepEqual(await c.cmd('l', 'SEARCH YOUNGER 3600'), ['* SEARCH 1 2 3', 'l OK SEARCH completed']);
  assert.deepEqual(await c.cmd('m', 'SEARCH OLDER 3600'), ['* SEARCH', 'm OK SEARCH completed']);
});

test('IMAP4rev2: ESEARCH by default, no RECENT, LIST in SELECT', async () => {
  const r = await RawClient.connect(h.port);
  await r.login();
  assert.deepEqual(await r.cmd('e', 'ENABLE IMAP4rev2'), ['* ENABLED IMAP4rev2', 'e OK ENABLE completed']);
  const sel = await r.cmd('s', 'SELECT Box');
  assert.ok(!sel.some((l) => /RECENT|UNSEEN/.test(l)), sel.join('\n'));
  assert.match((await r.cmd('g', 'FETCH 1 FLAGS'))[0] ?? '', /^\* 1 FETCH \(FLAGS \(\\Seen\)\)$/, 'no \\Recent in IMAP4rev2');
  assert.ok(sel.includes('* LIST (\\HasNoChildren) "/" Box'));
  assert.deepEqual(await r.cmd('f', 'SEARCH SEEN'), ['* ESEARCH (TAG "f") ALL 1', 'f OK SEARCH completed']);
  r.close();
});
