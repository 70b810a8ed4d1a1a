import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseSubject, countLines, decodeMimeWords, parseAddressList, parseDate } from './index.js';

test('decodeMimeWords: RFC 2047 section 8 examples', () => {
  assert.equal(decodeMimeWords('=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?='), 'Keld Jørn Simonsen');
  assert.equal(decodeMimeWords('=?ISO-8859-1?Q?Andr=E9?= Pirard'), 'André Pirard');
  assert.equal(decodeMimeWords('=?US-ASCII?Q?Keith_Moore?='), 'Keith Moore');
  assert.equal(decodeMimeWords('(=?ISO-8859-1?Q?a?=)'), '(a)');
  assert.equal(decodeMimeWords('(=?ISO-8859-1?Q?a?= b)'), '(a b)');
  // Whitespace between adjacent encoded-words is dropped (RFC 2047 6.2).
  assert.equal(decodeMimeWords('(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)'), '(ab)');
  assert.equal(decodeMimeWords('(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)'), '(ab)');
  assert.equal(decodeMimeWords('(=?ISO-8859-1?Q?a_b?=)'), '(a b)');
  assert.equal(decodeMimeWords('(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)'), '(a b)');
  // RFC 2231 5 language suffix.
  assert.equal(decodeMimeWords('=?US-ASCII*EN?Q?Keith_Moore?='), 'Keith Moore');
});

test('decodeMimeWords: many charsets through ICU', () => {
  const cases: Array<[string, string, string]> = [
    ['utf-8', Buffer.from('Grüße €', 'utf8').toString('base64'), 'Grüße €'],
    ['windows-1252', Buffer.from([0x80, 0x20, 0x93, 0x71, 0x94]).toString('base64'), '€ “q”'],
    ['koi8-r', Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]).toString('base64'), 'Привет'],
    ['shift_jis', Buffer.from([0x82, 0xb1, 0x82, 0xf1, 0x82, 0xc9, 0x82, 0xbf, 0x82, 0xcd]).toString('base64'), 'こんにちは'],
    ['gb2312', Buffer.from([0xc4, 0xe3, 0xba, 0xc3]).toString('base64'), '你好'],
    ['gbk', Buffer.from([0xc4, 0xe3, 0xba, 0xc3]).toString('base64'), '你好'],
    ['big5', Buffer.from([0xa7, 0x41, 0xa6, 0x6e]).toString('base64'), '你好'],
    ['euc-kr', Buffer.from([0xbe, 0xc8, 0xb3, 0xe7]).toString('base64'), '안녕'],
    ['iso-2022-jp', 'GyRCJEYkOSRIGyhC', 'てすと'],
    ['iso-8859-1', Buffer.from([0xe9]).toString('base64'), 'é'],
  ];
  for (const [cs, b64, want] of cases) {
    assert.equal(decodeMimeWords(`=?${cs}?B?${b64}?=`), want, cs);
  }
});

test('decodeMimeWords: a UTF-8 character split across two words survives', () => {
  // "€" is E2 82 AC; the sender split it after the first two bytes.
  assert.equal(decodeMimeWords('=?utf-8?B?4oI=?= =?utf-8?B?rA==?='), '€');
  assert.equal(decodeMimeWords('=?utf-8?Q?=E2=82?= =?utf-8?Q?=AC?='), '€');
});

test('decodeMimeWords: leaves malformed and plain text alone, never throws', () => {
  assert.equal(decodeMimeWords('plain text'), 'plain text');
  assert.equal(decodeMimeWords('=?utf-8?X?abc?='), '=?utf-8?X?abc?=');
  assert.equal(decodeMimeWords('=?unknown-cs?Q?abc?='), 'abc');
  assert.equal(decodeMimeWords('=?utf-8?Q?broken'), '=?utf-8?Q?broken');
  assert.equal(decodeMimeWords('a =?utf-8?Q?x?= b'), 'a x b');
});

test('parseAddressList: name-addr, addr-spec, comments, quoting', () => {
  assert.deepEqual(parseAddressList('"Doe, John" <john@example.com>, jane@example.org (Jane Q.)'), [
    { kind: 'mailbox', name: 'Doe, John', adl: null, mailbox: 'john', host: 'example.com' },
    { kind: 'mailbox', name: 'Jane Q.', adl: null, mailbox: 'jane', host: 'example.org' },
  ]);
  assert.deepEqual(parseAddressList('John Q. Public <JQP@x.org>'), [
    { kind: 'mailbox', name: 'John Q. Public', adl: null, mailbox: 'JQP', host: 'x.org' },
  ]);
  // RFC 5322 A.5: comments everywhere.
  assert.deepEqual(parseAddressList('Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>'), [
    { kind: 'mailbox', name: 'Pete', adl: null, mailbox: 'pete', host: 'silly.test' },
  ]);
  assert.deepEqual(parseAddressList('"quote \\" inside" <q@x>')[0], { kind: 'mailbox', name: 'quote " inside', adl: null, mailbox: 'q', host: 'x' });
  assert.deepEqual(parseAddressList('=?utf-8?q?J=C3=B6rg?= <j@x>')[0], { kind: 'mailbox', name: '=?utf-8?q?J=C3=B6rg?=', adl: null, mailbox: 'j', host: 'x' });
  assert.deepEqual(parseAddressList('user@[192.0.2.1]')[0], { kind: 'mailbox', name: null, adl: null, mailbox: 'user', host: '[192.0.2.1]' });
});

test('parseAddressList: groups (RFC 5322 3.4, A.1.3)', () => {
  assert.deepEqual(parseAddressList('A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;'), [
    {
      kind: 'group',
      name: 'A Group',
      members: [
        { name: 'Ed Jones', adl: null, mailbox: 'c', host: 'a.test' },
        { name: null, adl: null, mailbox: 'joe', host: 'where.test' },
        { name: 'John', adl: null, mailbox: 'jdoe', host: 'one.test' },
      ],
    },
  ]);
  assert.deepEqual(parseAddressList('Undisclosed recipients:;'), [{ kind: 'group', name: 'Undisclosed recipients', members: [] }]);
  assert.deepEqual(parseAddressList('g: a@b; c@d').length, 2);
});

test('parseAddressList: obsolete and broken forms', () => {
  assert.deepEqual(parseAddressList('<@r1.test,@r2.test:joe@example.com>')[0], {
    kind: 'mailbox', name: null, adl: '@r1.test,@r2.test', mailbox: 'joe', host: 'example.com',
  });
  assert.deepEqual(parseAddressList('foo')[0], { kind: 'mailbox', name: null, adl: null, mailbox: 'foo', host: null });
  // Missing comma between addresses.
  assert.deepEqual(parseAddressList('a@b c@d').map((a) => (a.kind === 'mailbox' ? `${a.mailbox}@${a.host}` : '')), ['a@b', 'c@d']);
  assert.deepEqual(parseAddressList(''), []);
  assert.deepEqual(parseAddressList('<>'), []);
  assert.deepEqual(parseAddressList(',,,'), []);
  for (const s of ['"unterminated <x@y>', '<<<@@>>>', 'a:b:c;;;', '(((', '\\', '@:;<>', '"']) parseAddressList(s);
});

test('parseDate: RFC 5322 and obsolete forms', () => {
  const iso = (s: string): string | null => {
    const t = parseDate(s);
    return t === null ? null : new Date(t).toISOString();
  };
  assert.equal(iso('Fri, 21 Nov 1997 09:55:06 -0600'), '1997-11-21T15:55:06.000Z');
  assert.equal(iso('Thu, 13 Feb 1969 23:32:54 -0330'), '1969-02-14T03:02:54.000Z');
  assert.equal(iso('Thu,\r\n      13\r\n        Feb\r\n          1969\r\n      23:32\r\n               -0330 (Newfoundland Time)'), '1969-02-14T03:02:00.000Z');
  assert.equal(iso('21 Nov 97 09:55:06 GMT'), '1997-11-21T09:55:06.000Z');
  assert.equal(iso('1 Jan 03 10:00 EST'), '2003-01-01T15:00:00.000Z');
  assert.equal(iso('Mon, 1 Jan 123 00:00 +0000'), '2023-01-01T00:00:00.000Z');
  assert.equal(iso('Sun, 5 Jun 2022 10:00:00 PDT'), '2022-06-05T17:00:00.000Z');
  assert.equal(iso('5 Jun 2022 10:00:00 UT'), '2022-06-05T10:00:00.000Z');
  assert.equal(iso('5 Jun 2022 10:00:00 Q'), '2022-06-05T10:00:00.000Z');
  assert.equal(iso('5 Jun 2022 10:00:00'), '2022-06-05T10:00:00.000Z');
  assert.equal(iso('Tue Jan  2 15:04:05 2024'), '2024-01-02T15:04:05.000Z');
  assert.equal(iso('2024-03-04T05:06:07Z'), '2024-03-04T05:06:07.000Z');
  assert.equal(iso('31 Feb 2024 00:00 +0000'), null);
  assert.equal(iso('1 Jan 2024 25:00 +0000'), null);
  assert.equal(iso('garbage'), null);
  assert.equal(iso(''), null);
});

test('countLines: LF-terminated lines plus a final unterminated one', () => {
  assert.equal(countLines(Buffer.from('')), 0);
  assert.equal(countLines(Buffer.from('a')), 1);
  assert.equal(countLines(Buffer.from('a\r\n')), 1);
  assert.equal(countLines(Buffer.from('a\r\nb')), 2);
  assert.equal(countLines(Buffer.from('a\nb\n\n')), 3);
  assert.equal(countLines(new Uint8Array([0x61, 0x0a, 0x62])), 2);
});

test('baseSubject: RFC 5256 2.1', () => {
  assert.deepEqual(baseSubject('Re: hello'), { subject: 'hello', isReplyOrForward: true });
  assert.deepEqual(baseSubject('RE: Fwd: [list] Re:   hello (fwd)'), { subject: 'hello', isReplyOrForward: true });
  assert.deepEqual(baseSubject('[Fwd: Re: hi there]'), { subject: 'hi there', isReplyOrForward: true });
  assert.deepEqual(baseSubject('Re[2]: status'), { subject: 'status', isReplyOrForward: true });
  assert.deepEqual(baseSubject('[list] plain'), { subject: 'plain', isReplyOrForward: false });
  // A blob that is all there is stays: removing it would leave an empty subject.
  assert.deepEqual(baseSubject('[only blob]'), { subject: '[only blob]', isReplyOrForward: false });
  assert.deepEqual(baseSubject('  many\t  spaces  '), { subject: 'many spaces', isReplyOrForward: false });
  assert.deepEqual(baseSubject('=?utf-8?q?Re=3A_Gr=C3=BC=C3=9Fe?='), { subject: 'Grüße', isReplyOrForward: true });
  assert.deepEqual(baseSubject(''), { subject: '', isReplyOrForward: false });
  assert.deepEqual(baseSubject('Reply: not a marker'), { subject: 'Reply: not a marker', isReplyOrForward: false });
});
