import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTransferEncoding, extractText, indexMessage } from './index.js';
import { htmlToText } from './html.js';
import { crlf } from './test-fixtures.js';

const extract = (raw: Buffer, maxBytes = 100_000): ReturnType<typeof extractText> => extractText(raw, indexMessage(raw), { maxBytes });

test('quoted-printable (RFC 2045 6.7): escapes, soft breaks, broken escapes kept', () => {
  const qp = (s: string): string => decodeTransferEncoding(Buffer.from(s, 'latin1'), 'quoted-printable').toString('latin1');
  assert.equal(qp('a=3Db'), 'a=b');
  assert.equal(qp('soft=\r\nbreak'), 'softbreak');
  assert.equal(qp('soft=\nbreak'), 'softbreak');
  assert.equal(qp('trailing=  \r\nspace'), 'trailingspace');
  assert.equal(qp('bad=ZZescape'), 'bad=ZZescape');
  assert.equal(qp('lower=e9'), 'lower\u00e9');
  assert.equal(qp('end='), 'end');
});

test('base64 with line breaks and junk', () => {
  assert.equal(decodeTransferEncoding(Buffer.from('SGVs\r\nbG8=\r\n'), 'base64').toString(), 'Hello');
  assert.equal(decodeTransferEncoding(Buffer.from('SGVs*bG8'), 'base64').toString(), 'Hello');
  assert.equal(decodeTransferEncoding(Buffer.from('as is'), '8bit').toString(), 'as is');
});

test('headers decoded, text parts decoded to UTF-8 from their charsets', () => {
  const raw = crlf(
    'From: =?iso-8859-1?q?Andr=E9?= <a@x.test>',
    'Subject: =?koi8-r?B?8NLJ18XU?=',
    'Content-Type: multipart/mixed; boundary=b',
    '',
    '--b',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Hall=F6chen, caf=E9',
    '--b',
    'Content-Type: text/plain; charset=shift_jis',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from([0x82, 0xb1, 0x82, 0xf1, 0x82, 0xc9, 0x82, 0xbf, 0x82, 0xcd]).toString('base64'),
    '--b',
    'Content-Type: image/png',
    'Content-Transfer-Encoding: base64',
    '',
    'iVBORw0KGgo=',
    '--b--',
  );
  const t = extract(raw);
  assert.match(t.headers, /^from: André <a@x\.test>$/m);
  assert.match(t.headers, /^subject: Привет$/m);
  assert.equal(t.body, 'Hallöchen, café\n\nこんにちは');
  assert.equal(t.truncated, false);
});

test('windows-1252 bytes come out right (Node 20 decodes them as C1 controls)', () => {
  const raw = Buffer.concat([crlf('Content-Type: text/plain; charset=windows-1252', '', ''), Buffer.from([0x93, 0x71, 0x94, 0x20, 0x80])]);
  assert.equal(extract(raw).body, '“q” €');
  const latin1 = Buffer.concat([crlf('Content-Type: text/plain; charset=iso-8859-1', '', ''), Buffer.from([0xe9, 0x20, 0x80])]);
  assert.equal(extract(latin1).body, 'é €');
});

test('8-bit text labelled us-ascii or unlabelled is read as UTF-8 when valid', () => {
  assert.equal(extract(crlf('Subject: x', '', 'Grüße')).body, 'Grüße');
  assert.equal(extract(Buffer.concat([crlf('Subject: x', '', ''), Buffer.from([0xe9])])).body, 'é');
});

test('multipart/alternative: plain text preferred, HTML stripped when it is the only rendering', () => {
  const alt = (plain: boolean): Buffer =>
    crlf(
      'Content-Type: multipart/alternative; boundary=a',
      '',
      ...(plain ? ['--a', '', 'the plain version'] : []),
      '--a',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<html><head><title>t</title><style>p{color:red}</style></head><body><p>Hello&nbsp;<b>World</b> &amp; caf&eacute; &#8364;&#x41;</p><script>alert(1)</script><!-- hidden --></body></html>',
      '--a--',
    );
  assert.equal(extract(alt(true)).body, 'the plain version');
  assert.equal(extract(alt(false)).body, 'Hello World & café €A');
});

test('htmlToText keeps block structure and drops markup', () => {
  assert.equal(htmlToText('<div>one</div><div>two<br>three</div>'), 'one\ntwo\nthree');
  assert.equal(htmlToText('a &lt;tag&gt; &unknown; &#0; x'), 'a <tag> &unknown; \uFFFD x');
  assert.equal(htmlToText('<p>unclosed <b'), 'unclosed');
});

test('embedded messages contribute their headers and text', () => {
  const raw = crlf('Content-Type: message/rfc822', '', 'Subject: =?utf-8?q?inner_=E2=82=AC?=', '', 'inner text');
  const t = extract(raw);
  assert.equal(t.body, 'subject: inner €\n\ninner text');
});

test('maxBytes bounds the output and never splits a UTF-8 character', () => {
  const raw = crlf('Subject: s', '', 'é'.repeat(1000));
  const t = extract(raw, 25);
  assert.equal(t.truncated, true);
  assert.ok(Buffer.byteLength(t.headers + t.body) <= 25);
  assert.equal(t.headers, 'subject: s');
  assert.equal(t.body, 'é'.repeat(7));
  const none = extract(raw, 0);
  assert.deepEqual(none, { headers: '', body: '', truncated: true });
});

test('a large base64 attachment is not decoded beyond the budget', () => {
  const big = Buffer.alloc(3_000_000, 0x61).toString('base64');
  const raw = crlf('Content-Type: text/plain', 'Content-Transfer-Encoding: base64', '', big);
  const started = process.hrtime.bigint();
  const t = extract(raw, 1000);
  assert.equal(t.truncated, true);
  assert.ok(Buffer.byteLength(t.headers + t.body) <= 1000);
  assert.ok(process.hrtime.bigint() - started < 200_000_000n, 'took too long');
});
