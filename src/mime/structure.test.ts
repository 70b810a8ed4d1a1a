import { test } from 'node:test';
import assert from 'node:assert/strict';
import { indexMessage, type MimePart } from './index.js';
import { assertIndex, body, crlf, header, lf } from './test-fixtures.js';

function kid(p: MimePart | undefined, ...path: number[]): MimePart {
  let cur = p;
  for (const n of path) cur = cur?.children[n];
  assert.ok(cur !== undefined, `no part at ${path.join('.')}`);
  return cur;
}

test('single-part message: header and body ranges, RFC 2045 defaults', () => {
  const raw = crlf('From: a@b.test', 'Subject: hi', '', 'Hello world!', 'line two', '');
  const idx = indexMessage(raw);
  assertIndex(raw, idx);
  assert.equal(header(raw, idx.root), 'From: a@b.test\r\nSubject: hi\r\n\r\n');
  assert.equal(body(raw, idx.root), 'Hello world!\r\nline two\r\n');
  assert.equal(idx.root.type, 'text');
  assert.equal(idx.root.subtype, 'plain');
  assert.deepEqual(idx.root.params, [{ name: 'charset', value: 'us-ascii' }]);
  assert.equal(idx.root.encoding, '7bit');
  assert.equal(idx.root.lines, 2);
  assert.equal(idx.root.size, 24);
  assert.equal(idx.partCount, 1);
  assert.equal(idx.limited, false);
});

const MIXED = crlf(
  'From: a@b.test',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  'This is the preamble.',
  '--outer',
  'Content-Type: multipart/alternative; boundary=inner',
  '',
  '--inner',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'plain body',
  '--inner',
  'Content-Type: text/html',
  '',
  '<p>html body</p>',
  '--inner--',
  '',
  '--outer',
  'Content-Type: application/octet-stream',
  'Content-Disposition: attachment; filename="a.bin"',
  'Content-Transfer-Encoding: base64',
  '',
  'AAEC',
  '--outer--',
  'epilogue',
  '',
);

test('multipart: nested parts, preamble and epilogue excluded, CRLF before a boundary belongs to it', () => {
  const idx = indexMessage(MIXED);
  assertIndex(MIXED, idx);
  const root = idx.root;
  assert.equal(root.type, 'multipart');
  assert.equal(root.children.length, 2);
  const alt = kid(root, 0);
  assert.equal(`${alt.type}/${alt.subtype}`, 'multipart/alternative');
  assert.equal(header(MIXED, alt), 'Content-Type: multipart/alternative; boundary=inner\r\n\r\n');
  assert.equal(body(MIXED, kid(alt, 0)), 'plain body');
  assert.equal(header(MIXED, kid(alt, 0)), 'Content-Type: text/plain; charset=utf-8\r\n\r\n');
  assert.equal(body(MIXED, kid(alt, 1)), '<p>html body</p>');
  assert.deepEqual(kid(alt, 1).params, [{ name: 'charset', value: 'us-ascii' }]);
  // The alternative's body runs to the CRLF before "--outer", closing delimiter and blank line included.
  assert.ok(body(MIXED, alt).endsWith('--inner--\r\n'));
  const att = kid(root, 1);
  assert.equal(body(MIXED, att), 'AAEC');
  assert.equal(att.encoding, 'base64');
  assert.equal(att.lines, null);
  assert.deepEqual(att.disposition, { type: 'attachment', params: [{ name: 'filename', value: 'a.bin' }] });
  assert.equal(idx.partCount, 5);
  assert.equal(idx.hasAttachments, true);
});

test('LF-only line endings', () => {
  const raw = lf('Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'one', 'two', '--b', '', 'three', '--b--', '');
  const idx = indexMessage(raw);
  assertIndex(raw, idx);
  assert.equal(body(raw, kid(idx.root, 0)), 'one\ntwo');
  assert.equal(kid(idx.root, 0).lines, 2);
  assert.equal(header(raw, kid(idx.root, 1)), '\n');
  assert.equal(body(raw, kid(idx.root, 1)), 'three');
});

test('missing final boundaries: the inner part ends at the outer boundary, the last part at the end', () => {
  const raw = crlf(
    'Content-Type: multipart/mixed; boundary=outer',
    '',
    '--outer',
    'Content-Type: multipart/related; boundary=inner',
    '',
    '--inner',
    '',
    'inner one',
    '--outer',
    '',
    'last part, no close delimiter',
  );
  const idx = indexMessage(raw);
  assertIndex(raw, idx);
  assert.equal(body(raw, kid(idx.root, 0, 0)), 'inner one');
  assert.equal(body(raw, kid(idx.root, 1)), 'last part, no close delimiter');
});

test('junk before the first boundary, boundary look-alikes and transport padding', () => {
  const raw = crlf(
    'Content-Type: multipart/mixed; boundary="b"',
    '',
    'junk line',
    '--bogus-not-our-boundary',
    '--b  \t',
    '',
    'part one',
    'x--b',
    '--bb',
    '--b',
    '',
    'part two',
    '--b--trailing junk',
    '--b',
    'after close',
  );
  const idx = indexMessage(raw);
  assertIndex(raw, idx);
  assert.equal(idx.root.children.length, 2);
  assert.equal(body(raw, kid(idx.root, 0)), 'part one\r\nx--b\r\n--bb');
  assert.equal(body(raw, kid(idx.root, 1)), 'part two');
});

test('boundary at the very start of the body and empty parts', () => {
  const raw = crlf('Content-Type: multipart/mixed; boundary=b', '', '--b', '--b', '', '', '--b--');
  const idx = indexMessage(raw);
  assertIndex(raw, idx);
  assert.equal(idx.root.children.length, 2);
  assert.equal(kid(idx.root, 0).size, 0);
  assert.equal(body(raw, kid(idx.root, 1)), '');
});

test('multipart without boundary or without any delimiter has no children', () => {
  for (const raw of [
    crlf('Content-Type: multipart/mixed', '', 'text'),
    crlf('Content-Type: multipart/mixed; boundary=zz', '', 'no delimiter here'),
  ]) {
    const idx = indexMessage(raw);
    assertIndex(raw, idx);
    assert.equal(idx.root.type, 'multipart');
    assert.deepEqual(idx.root.children, []);
  }
});

test('header without body, body without header, empty message', () => {
  let raw = crlf('From: a@b.test', 'Subject: no body');
  let idx = indexMessage(raw);
  assertIndex(raw, idx);
  assert.equal(idx.root.bodyStart, raw.length);
  assert.equal(idx.root.size, 0);
  assert.equal(idx.root.lines, 0);
  assert.equal(idx.envelope.subject, 'no body');

  raw = crlf('', 'only a body');
  idx = indexMessage(raw);
  assertIndex(raw, idx);
  assert.equal(idx.root.bodyStart, 2);
  assert.equal(body(raw, idx.root), 'only a body');

  raw = Buffer.alloc(0);
  idx = indexMessage(raw);
  assertIndex(raw, idx);
  assert.equal(idx.root.size, 0);
  assert.equal(idx.envelope.from, null);
  assert.equal(idx.decoded.date, null);
});

test('8-bit headers: UTF-8 kept, invalid UTF-8 read as ISO-8859-1; NUL bytes never break offsets', () => {
  const raw = Buffer.concat([
    Buffer.from('Subject: Grüße\r\nX-Latin: ', 'utf8'),
    Buffer.from([0xe9, 0x00, 0x41]),
    Buffer.from('\r\nContent-Description: d\u00e9j\u00e0\r\n\r\nbody\u0000with NUL\r\n', 'utf8'),
  ]);
  const idx = indexMessage(raw);
  assertIndex(raw, idx);
  assert.equal(idx.envelope.subject, 'Grüße');
  assert.equal(idx.root.description, 'déjà');
  assert.equal(body(raw, idx.root), 'body\u0000with NUL\r\n');
});

test('folded headers are unfolded, keeping the whitespace (RFC 5322 2.2.3)', () => {
  const raw = crlf('Subject: a long', '\tsubject line', 'Content-Type: text/plain;', ' charset="iso-8859-1"', '', 'x');
  const idx = indexMessage(raw);
  assert.equal(idx.envelope.subject, 'a long\tsubject line');
  assert.deepEqual(idx.root.params, [{ name: 'charset', value: 'iso-8859-1' }]);
});

test('message/rfc822 carries the embedded envelope and tree; two levels deep', () => {
  const raw = crlf(
    'Subject: outer',
    'Content-Type: multipart/mixed; boundary=o',
    '',
    '--o',
    '',
    'see attached',
    '--o',
    'Content-Type: message/rfc822',
    '',
    'Subject: middle',
    'From: Mid <mid@x.test>',
    'Content-Type: message/rfc822',
    '',
    'Subject: innermost',
    '',
    'deep body',
    '--o--',
  );
  const idx = indexMessage(raw);
  assertIndex(raw, idx);
  const fwd = kid(idx.root, 1);
  assert.ok(fwd.message !== null);
  assert.equal(fwd.message.envelope.subject, 'middle');
  assert.deepEqual(fwd.message.envelope.from, [['Mid', null, 'mid', 'x.test']]);
  const middle = fwd.message.root;
  assert.equal(`${middle.type}/${middle.subtype}`, 'message/rfc822');
  assert.ok(middle.message !== null);
  assert.equal(middle.message.envelope.subject, 'innermost');
  assert.equal(body(raw, middle.message.root), 'deep body');
  assert.equal(fwd.lines, 7);
  assert.equal(idx.hasAttachments, true);
});

test('message/global is an embedded message too (RFC 6532, RFC 9051)', () => {
  const raw = crlf('Content-Type: message/global', '', 'Subject: =?utf-8?q?x?= Grüße', '', 'b');
  const idx = indexMessage(raw);
  assertIndex(raw, idx);
  assert.equal(idx.root.message?.envelope.subject, '=?utf-8?q?x?= Grüße');
  assert.equal(idx.root.lines, 3);
});

test('multipart/digest: parts default to message/rfc822 (RFC 2046 5.1.5)', () => {
  const raw = crlf(
    'Content-Type: multipart/digest; boundary=d',
    '',
    '--d',
    '',
    'Subject: first',
    '',
    'one',
    '--d',
    'Content-Type: text/plain',
    '',
    'not a message',
    '--d--',
  );
  const idx = indexMessage(raw);
  assertIndex(raw, idx);
  const first = kid(idx.root, 0);
  assert.equal(`${first.type}/${first.subtype}`, 'message/rfc822');
  assert.equal(first.message?.envelope.subject, 'first');
  assert.equal(kid(idx.root, 1).type, 'text');
});

test('a transfer-encoded message/rfc822 cannot be addressed in place: opaque part', () => {
  const raw = crlf('Content-Type: message/rfc822', 'Content-Transfer-Encoding: base64', '', 'U3ViamVjdDogeA0KDQp5');
  const idx = indexMessage(raw);
  assert.equal(`${idx.root.type}/${idx.root.subtype}`, 'application/octet-stream');
  assert.equal(idx.root.message, null);
});

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

test('limits: depth and part count turn the rest into opaque parts; header bytes are capped', () => {
  const nested = (depth: number): Buffer => {
    let s = 'deepest\r\n';
    for (let i = depth; i > 0; i--) s = `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n${i === depth ? '\r\n' : ''}${s}--b${i}--\r\n`;
    return Buffer.from(s);
  };
  const raw = nested(10);
  const full = indexMessage(raw);
  assertIndex(raw, full);
  assert.equal(full.limited, false);
  const cut = indexMessage(raw, { maxDepth: 3 });
  assertIndex(raw, cut);
  assert.equal(cut.limited, true);
  const opaque = kid(cut.root, 0, 0, 0);
  assert.equal(`${opaque.type}/${opaque.subtype}`, 'application/octet-stream');
  assert.deepEqual(opaque.children, []);

  const many = crlf('Content-Type: multipart/mixed; boundary=m', '', ...Array.from({ length: 50 }, (_, i) => `--m\r\n\r\npart ${i}`), '--m--');
  const few = indexMessage(many, { maxParts: 10 });
  assertIndex(many, few);
  assert.equal(few.limited, true);
  assert.equal(few.partCount, 10);

  const bigHeader = crlf('Subject: kept', `X-Filler: ${'y'.repeat(5000)}`, 'Content-Type: text/html', '', 'body');
  const capped = indexMessage(bigHeader, { maxHeaderBytes: 1000 });
  assertIndex(bigHeader, capped);
  assert.equal(capped.root.subtype, 'plain');
  assert.equal(capped.envelope.subject, 'kept');
  assert.equal(body(bigHeader, capped.root), 'body');
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
