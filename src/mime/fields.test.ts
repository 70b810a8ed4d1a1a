import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attachmentFilename, indexMessage, readMessageIndex, toStoredStructure, MESSAGE_INDEX_VERSION, type MimePart } from './index.js';
import { crlf } from './test-fixtures.js';

test('Content-Type parsing: case, comments, invalid values, RFC 2231', () => {
  const ct = (v: string): MimePart => indexMessage(crlf(`Content-Type: ${v}`, '', 'x')).root;
  assert.deepEqual(
    [ct('TEXT/HTML; CHARSET=UTF-8').type, ct('TEXT/HTML; CHARSET=UTF-8').subtype, ct('TEXT/HTML; CHARSET=UTF-8').params],
    ['text', 'html', [{ name: 'charset', value: 'UTF-8' }]],
  );
  assert.equal(ct('text (comment) / plain (another); charset=x').subtype, 'plain');
  // RFC 2045 5.2: an invalid Content-Type means text/plain; charset=us-ascii.
  for (const bad of ['text', '/plain', '', ';;;', 'text/']) {
    const p = ct(bad);
    assert.equal(`${p.type}/${p.subtype}`, 'text/plain', bad);
    assert.deepEqual(p.params, [{ name: 'charset', value: 'us-ascii' }], bad);
  }
  // RFC 2231 3: continuations; 4: charset and language.
  assert.deepEqual(
    ct(`application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2="isn't it!"`).params,
    [{ name: 'title', value: "This is even more ***fun*** isn't it!", extended: "us-ascii'en'This%20is%20even%20more%20%2A%2A%2Afun%2A%2A%2A%20isn%27t%20it!" }],
  );
  assert.deepEqual(ct('application/x-stuff; URL*0="ftp://"; URL*1="cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"').params, [
    { name: 'url', value: 'ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar' },
  ]);
  assert.deepEqual(ct("application/pdf; name=plain.pdf; name*=iso-8859-1''%E9t%E9.pdf").params, [
    { name: 'name', value: 'plain.pdf' },
    { name: 'name', value: 'été.pdf', extended: "iso-8859-1''%E9t%E9.pdf" },
  ]);
  assert.deepEqual(ct("application/pdf; name*=koi8-r''%F0%D2%C9%D7%C5%D4").params, [
    { name: 'name', value: 'Привет', extended: "koi8-r''%F0%D2%C9%D7%C5%D4" },
  ]);
  // Broken parameters are skipped, not fatal.
  assert.deepEqual(ct('text/plain; junk; charset=utf-8; =x; format="flowed').params, [
    { name: 'charset', value: 'utf-8' },
    { name: 'format', value: 'flowed' },
  ]);
});

test('Content-ID, Description, Language, Location, Disposition', () => {
  const raw = crlf(
    'Content-Type: image/png; name="p.png"',
    'Content-ID: <img1@x.test>',
    'Content-Description: A picture',
    'Content-Language: en, de (German)',
    'Content-Location: http://x.test/p.png',
    'Content-Disposition: INLINE; filename=p.png; size=3',
    'Content-Transfer-Encoding: BASE64',
    '',
    'AAA=',
  );
  const p = indexMessage(raw).root;
  assert.equal(p.id, '<img1@x.test>');
  assert.equal(p.description, 'A picture');
  assert.deepEqual(p.language, ['en', 'de']);
  assert.equal(p.location, 'http://x.test/p.png');
  assert.deepEqual(p.disposition, { type: 'inline', params: [{ name: 'filename', value: 'p.png' }, { name: 'size', value: '3' }] });
  assert.equal(p.encoding, 'base64');
});

test('decoded headers and sort keys', () => {
  const raw = crlf(
    'From: =?iso-8859-1?q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>',
    'To: Friends: "Bob" <bob@x.test>, carol@y.test;, dave@z.test',
    'Cc: <cc@x.test>',
    'Subject: Re: [list] =?utf-8?B?R3LDvMOfZQ==?= (fwd)',
    'Date: Fri, 21 Nov 1997 09:55:06 -0600',
    'Message-ID:  <1234@local.machine.example> (comment)',
    'In-Reply-To: <3456@example.net> <other@x>',
    'References: <1@a>',
    '  <2@b> <3@c>',
    '',
    '',
  );
  const idx = indexMessage(raw);
  assert.equal(idx.decoded.subject, 'Re: [list] Grüße (fwd)');
  assert.deepEqual(idx.decoded.from, [{ name: 'André Pirard', address: 'PIRARD@vm1.ulg.ac.be' }]);
  assert.deepEqual(idx.decoded.sender, idx.decoded.from);
  assert.deepEqual(idx.decoded.to, [
    { name: 'Bob', address: 'bob@x.test', group: 'Friends' },
    { name: '', address: 'carol@y.test', group: 'Friends' },
    { name: '', address: 'dave@z.test' },
  ]);
  assert.equal(idx.decoded.date, Date.UTC(1997, 10, 21, 15, 55, 6));
  assert.equal(idx.decoded.messageId, '<1234@local.machine.example>');
  assert.equal(idx.decoded.inReplyTo, '<3456@example.net>');
  assert.deepEqual(idx.decoded.references, ['<1@a>', '<2@b>', '<3@c>']);
  assert.deepEqual(idx.sort, {
    subject: 'Grüße',
    subjectIsReplyOrForward: true,
    from: 'PIRARD',
    to: 'bob',
    cc: 'cc',
    displayFrom: 'André Pirard',
    displayTo: 'Bob',
  });
  const bare = indexMessage(crlf('From: x@y.test', '', ''));
  assert.equal(bare.sort.displayFrom, 'x@y.test');
  assert.equal(bare.sort.displayTo, '');
  assert.equal(bare.decoded.subject, null);
});

test('hasAttachments', () => {
  const has = (raw: Buffer): boolean => indexMessage(raw).hasAttachments;
  assert.equal(has(crlf('Subject: x', '', 'plain')), false);
  assert.equal(has(crlf('Content-Type: application/pdf', '', 'x')), true);
  const related = crlf(
    'Content-Type: multipart/related; boundary=r',
    '',
    '--r',
    'Content-Type: text/html',
    '',
    '<img src="cid:i">',
    '--r',
    'Content-Type: image/png',
    'Content-ID: <i>',
    '',
    'AAA',
    '--r--',
  );
  assert.equal(has(related), false);
  const outlookLogo = crlf(
    'Content-Type: multipart/related; boundary=r',
    '',
    '--r',
    'Content-Type: text/html',
    '',
    '<img src="cid:image001.png@01D">',
    '--r',
    'Content-Type: image/png; name="image001.png"',
    'Content-Disposition: inline; filename="image001.png"',
    'Content-ID: <image001.png@01D>',
    '',
    'AAA',
    '--r--',
  );
  assert.equal(has(outlookLogo), false);
  const signed = crlf(
    'Content-Type: multipart/signed; boundary=s; protocol="application/pgp-signature"',
    '',
    '--s',
    '',
    'signed text',
    '--s',
    'Content-Type: application/pgp-signature; name="signature.asc"',
    'Content-Disposition: attachment; filename="signature.asc"',
    '',
    'sig',
    '--s--',
  );
  assert.equal(has(signed), false);
  const textAttachment = crlf('Content-Type: multipart/mixed; boundary=m', '', '--m', '', 'a', '--m', 'Content-Type: text/plain; name=notes.txt', '', 'b', '--m--');
  assert.equal(has(textAttachment), true);
});

test('attachmentFilename: disposition first, RFC 2231, encoded-words, no path separators', () => {
  const name = (...headers: string[]): string | null => attachmentFilename(indexMessage(crlf(...headers, '', 'x')).root);
  assert.equal(name('Content-Type: application/pdf; name="ct.pdf"', 'Content-Disposition: attachment; filename="disp.pdf"'), 'disp.pdf');
  assert.equal(name('Content-Type: application/pdf; name="ct.pdf"'), 'ct.pdf');
  assert.equal(name("Content-Disposition: attachment; filename=plain.pdf; filename*=utf-8''%E2%82%AC.pdf"), '€.pdf');
  assert.equal(name('Content-Disposition: attachment; filename="=?utf-8?B?w6lsw6h2ZS5kb2M=?="'), 'élève.doc');
  assert.equal(name('Content-Disposition: attachment; filename="../../etc/passwd"'), '.._.._etc_passwd');
  assert.equal(name('Content-Type: text/plain'), null);
});

test('stored form: JSON round trip and version check', () => {
  const idx = indexMessage(crlf('Subject: s', '', 'b'));
  const stored = JSON.parse(JSON.stringify(toStoredStructure(idx))) as Record<string, unknown>;
  assert.deepEqual(readMessageIndex(stored), idx);
  assert.equal(readMessageIndex({ ...stored, version: MESSAGE_INDEX_VERSION + 1 }), null);
  assert.equal(readMessageIndex({}), null);
});

test('nonsensical limits fall back to the defaults instead of disabling the guards', () => {
  const raw = Buffer.from('Content-Type: message/rfc822\r\n\r\n'.repeat(300) + 'x');
  for (const bad of [NaN, -1, Infinity]) {
    const idx = indexMessage(raw, { maxDepth: bad, maxParts: bad, maxHeaderBytes: bad });
    assert.equal(idx.error, null);
    assert.equal(idx.limited, true);
    assert.equal(idx.envelope.subject, null);
  }
});
