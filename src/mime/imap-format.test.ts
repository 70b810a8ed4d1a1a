import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBodyStructure, formatEnvelope, imapString, indexMessage } from './index.js';
import { crlf } from './test-fixtures.js';

/** A body of exactly `lines` CRLF-terminated lines and `octets` bytes. */
function filler(octets: number, lines: number): string {
  const per = Math.floor(octets / lines);
  const extra = octets - per * lines;
  let s = '';
  for (let i = 0; i < lines; i++) s += 'x'.repeat(per - 2 + (i < extra ? 1 : 0)) + '\r\n';
  return s;
}

test('RFC 3501 / RFC 9051 example: ENVELOPE and BODY of a single-part message', () => {
  const raw = Buffer.from(
    [
      'Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)',
      'From: Terry Gray <gray@cac.washington.edu>',
      'Subject: IMAP4rev1 WG mtg summary and minutes',
      'To: imap@cac.washington.edu',
      'cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>',
      'Message-Id: <B27397-0100000@cac.washington.edu>',
      'MIME-Version: 1.0',
      'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII',
      '',
      '',
    ].join('\r\n') + filler(3028, 92),
  );
  const idx = indexMessage(raw);
  assert.equal(
    formatEnvelope(idx),
    '("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" ' +
      '(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ' +
      '(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ' +
      '((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL ' +
      '"<B27397-0100000@cac.washington.edu>")',
  );
  assert.equal(formatBodyStructure(idx, false), '("text" "plain" ("charset" "US-ASCII") NIL NIL "7bit" 3028 92)');
  assert.equal(formatBodyStructure(idx, true), '("text" "plain" ("charset" "US-ASCII") NIL NIL "7bit" 3028 92 NIL NIL NIL NIL)');
});

test('RFC 3501 / RFC 9051 example: BODY of a multipart/mixed message', () => {
  const raw = Buffer.from(
    'Content-Type: MULTIPART/MIXED; BOUNDARY="x"\r\n\r\n' +
      '--x\r\nContent-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\n' +
      filler(1152, 23) +
      '\r\n--x\r\nContent-Type: TEXT/PLAIN; CHARSET=US-ASCII; NAME=cc.diff\r\n' +
      'Content-ID: <960723163407.20117h@cac.washington.edu>\r\n' +
      'Content-Description: Compiler diff\r\nContent-Transfer-Encoding: BASE64\r\n\r\n' +
      filler(4554, 73) +
      '\r\n--x--\r\n',
  );
  const idx = indexMessage(raw);
  assert.equal(
    formatBodyStructure(idx, false),
    '(("text" "plain" ("charset" "US-ASCII") NIL NIL "7bit" 1152 23)' +
      '("text" "plain" ("charset" "US-ASCII" "name" "cc.diff") "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "base64" 4554 73) "mixed")',
  );
  assert.equal(
    formatBodyStructure(idx, true),
    '(("text" "plain" ("charset" "US-ASCII") NIL NIL "7bit" 1152 23 NIL NIL NIL NIL)' +
      '("text" "plain" ("charset" "US-ASCII" "name" "cc.diff") "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "base64" 4554 73 NIL NIL NIL NIL) ' +
      '"mixed" ("boundary" "x") NIL NIL NIL)',
  );
});

test('Dovecot shapes: default charset, missing headers', () => {
  assert.equal(formatBodyStructure(indexMessage(crlf('Subject: x', '', 'Hello world!')), true), '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 1 NIL NIL NIL NIL)');
  assert.equal(formatBodyStructure(indexMessage(Buffer.from('\nhello world\n')), true), '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 1 NIL NIL NIL NIL)');
  assert.equal(formatBodyStructure(indexMessage(Buffer.alloc(0)), false), '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)');
  assert.equal(formatEnvelope(indexMessage(Buffer.alloc(0))), '(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)');
  // Non-text leaves carry no line count.
  assert.equal(
    formatBodyStructure(indexMessage(crlf('Content-Type: image/gif', 'Content-Transfer-Encoding: base64', '', 'R0lG')), true),
    '("image" "gif" NIL NIL NIL "base64" 4 NIL NIL NIL NIL)',
  );
});

test('multipart/alternative inside mixed, with disposition, language and location', () => {
  const raw = crlf(
    'Content-Type: multipart/mixed; boundary="outer"',
    'Content-Language: en',
    '',
    '--outer',
    'Content-Type: multipart/alternative; boundary=inner',
    '',
    '--inner',
    'Content-Type: text/plain; charset=utf-8; format=flowed',
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
    'Content-Language: en, de',
    'Content-Location: http://x.test/a.bin',
    'Content-Transfer-Encoding: base64',
    '',
    'AAEC',
    '--outer--',
    '',
  );
  const idx = indexMessage(raw);
  assert.equal(
    formatBodyStructure(idx, true),
    '((("text" "plain" ("charset" "utf-8" "format" "flowed") NIL NIL "7bit" 10 1 NIL NIL NIL NIL)' +
      '("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 16 1 NIL NIL NIL NIL) "alternative" ("boundary" "inner") NIL NIL NIL)' +
      '("application" "octet-stream" NIL NIL NIL "base64" 4 NIL ("attachment" ("filename" "a.bin")) ("en" "de") "http://x.test/a.bin") ' +
      '"mixed" ("boundary" "outer") NIL ("en") NIL)',
  );
  assert.equal(
    formatBodyStructure(idx, false),
    '((("text" "plain" ("charset" "utf-8" "format" "flowed") NIL NIL "7bit" 10 1)("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 16 1) "alternative")' +
      '("application" "octet-stream" NIL NIL NIL "base64" 4) "mixed")',
  );
});

test('message/rfc822: envelope, embedded body and line count (RFC 9051 body-type-msg)', () => {
  const raw = crlf(
    'Content-Type: multipart/mixed; boundary=o',
    '',
    '--o',
    '',
    'see attached',
    '--o',
    'Content-Type: message/rfc822',
    '',
    'Subject: inner',
    'From: a@b.c',
    '',
    'inner body',
    '--o--',
  );
  assert.equal(
    formatBodyStructure(indexMessage(raw), true),
    '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 1 NIL NIL NIL NIL)' +
      '("message" "rfc822" NIL NIL NIL "7bit" 41 (NIL "inner" ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) NIL NIL NIL NIL NIL) ' +
      '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 1 NIL NIL NIL NIL) 4 NIL NIL NIL NIL) "mixed" ("boundary" "o") NIL NIL NIL)',
  );
  assert.equal(
    formatBodyStructure(indexMessage(raw), false),
    '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 1)' +
      '("message" "rfc822" NIL NIL NIL "7bit" 41 (NIL "inner" ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) NIL NIL NIL NIL NIL) ' +
      '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 1) 4) "mixed")',
  );
});

test('a multipart without parts is written with Dovecot\'s empty text/plain part', () => {
  const idx = indexMessage(crlf('Content-Type: multipart/mixed; boundary=none', '', 'no parts'));
  assert.equal(formatBodyStructure(idx, true), '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) "mixed" ("boundary" "none") NIL NIL NIL)');
  assert.equal(formatBodyStructure(idx, false), '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) "mixed")');
});

test('RFC 2231 parameters go out encoded under their starred name', () => {
  const idx = indexMessage(crlf("Content-Type: application/pdf; name*=utf-8''%E2%82%AC.pdf", "Content-Disposition: attachment; filename*0*=utf-8''%E2%82; filename*1*=%AC.pdf", '', 'x'));
  assert.equal(
    formatBodyStructure(idx, true),
    `("application" "pdf" ("name*" "utf-8''%E2%82%AC.pdf") NIL NIL "7bit" 1 NIL ("attachment" ("filename*" "utf-8''%E2%82%AC.pdf")) NIL NIL)`,
  );
});

test('strings: quoting of " and \\, literals for CR, LF, NUL and 8-bit (RFC 9051 4.3)', () => {
  assert.equal(imapString('plain'), '"plain"');
  assert.equal(imapString(''), '""');
  assert.equal(imapString('say "hi" \\o/'), '"say \\"hi\\" \\\\o/"');
  assert.equal(imapString('tab\there'), '"tab\there"');
  assert.equal(imapString('a\r\nb'), '{4}\r\na\r\nb');
  assert.equal(imapString('bare\rcr'), '{7}\r\nbare\rcr');
  assert.equal(imapString('Grüße'), '{7}\r\nGrüße');
  // NUL is not a CHAR8 even in a literal: it is dropped.
  assert.equal(imapString('nul\0byte'), '{7}\r\nnulbyte');
});

test('ENVELOPE: encoded-words raw, groups, routes, missing parts, literals, defaults', () => {
  const raw = crlf(
    'From: =?utf-8?q?J=C3=B6rg?= <joerg@x.test>',
    'Sender: sender@x.test',
    'Reply-To:',
    'To: undisclosed-recipients:;',
    'Cc: Team: "A \\"quoted\\" name" <a@x.test>, <@relay.test:b@x.test>;, nohost',
    'Bcc: Grüße <g@x.test>',
    'Subject: Grüße "quoted" \\ back',
    'In-Reply-To: <parent@x.test>',
    'Message-ID: <id@x.test>',
    '',
    '',
  );
  assert.equal(
    formatEnvelope(indexMessage(raw)),
    '(NIL {23}\r\nGrüße "quoted" \\ back ' +
      '(("=?utf-8?q?J=C3=B6rg?=" NIL "joerg" "x.test")) ((NIL NIL "sender" "x.test")) ' +
      '(("=?utf-8?q?J=C3=B6rg?=" NIL "joerg" "x.test")) ' +
      '((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) ' +
      '((NIL NIL "Team" NIL)("A \\"quoted\\" name" NIL "a" "x.test")(NIL "@relay.test" "b" "x.test")(NIL NIL NIL NIL)(NIL NIL "nohost" "MISSING_DOMAIN")) ' +
      '(({7}\r\nGrüße NIL "g" "x.test")) "<parent@x.test>" "<id@x.test>")',
  );
});

test('ENVELOPE of a folded subject is unfolded, not a literal', () => {
  const raw = crlf('Subject: one', ' two', '', '');
  assert.equal(formatEnvelope(indexMessage(raw)), '(NIL "one two" NIL NIL NIL NIL NIL NIL NIL NIL)');
});
