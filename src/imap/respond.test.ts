import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand } from './parser/commands.js';
import { ParseError } from './parser/errors.js';
import {
  astring,
  canQuote,
  continuation,
  flagList,
  formatInternalDate,
  formatSequenceSet,
  imapString,
  literal,
  mailboxName,
  parseErrorResponse,
  quoted,
  saslChallenge,
  tagged,
  untagged,
  untaggedStatus,
} from './respond.js';

const s = (b: Buffer): string => b.toString('latin1');

test('status responses, with and without a response code', () => {
  assert.equal(s(tagged('a1', 'OK', 'LOGIN completed')), 'a1 OK LOGIN completed\r\n');
  assert.equal(s(tagged('a2', 'NO', 'Mailbox does not exist', 'TRYCREATE')), 'a2 NO [TRYCREATE] Mailbox does not exist\r\n');
  assert.equal(s(untaggedStatus('OK', 'UIDs valid', 'UIDVALIDITY 3857529045')), '* OK [UIDVALIDITY 3857529045] UIDs valid\r\n');
  assert.equal(s(untaggedStatus('BYE', 'Logging out')), '* BYE Logging out\r\n');
  // Text can never smuggle a line break into the stream.
  assert.equal(s(tagged('a3', 'BAD', 'evil\r\n* OK injected')), 'a3 BAD evil  * OK injected\r\n');
});

test('untagged data and continuations', () => {
  assert.equal(s(untagged('172 EXISTS')), '* 172 EXISTS\r\n');
  assert.equal(s(untagged('1 FETCH (BODY[] ', literal(Buffer.from('hi\r\n')), ')')), '* 1 FETCH (BODY[] {4}\r\nhi\r\n)\r\n');
  assert.equal(s(continuation()), '+ Ready for literal data\r\n');
  assert.equal(s(continuation('idling')), '+ idling\r\n');
  assert.equal(s(saslChallenge(Buffer.alloc(0))), '+ \r\n');
  assert.equal(s(saslChallenge(Buffer.from('abc'))), '+ YWJj\r\n');
});

test('ParseError replies: tagged BAD / NO with code, untagged BAD without a tag', () => {
  assert.equal(s(parseErrorResponse(new ParseError('no', 'Unsupported charset', { tag: 'a1', code: 'BADCHARSET (UTF-8 US-ASCII)' }))), 'a1 NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset\r\n');
  assert.equal(s(parseErrorResponse(new ParseError('bad', 'Line too long', { code: 'TOOBIG' }))), '* BAD [TOOBIG] Line too long\r\n');
});

test('strings: quoted when possible, literal for CR/LF/NUL/8-bit, NIL for null', () => {
  assert.equal(s(imapString('hello')), '"hello"');
  assert.equal(s(imapString('say "hi" \\o/')), '"say \\"hi\\" \\\\o/"');
  assert.equal(s(imapString('')), '""');
  assert.equal(s(imapString(null)), 'NIL');
  assert.equal(s(imapString('two\r\nlines')), '{10}\r\ntwo\r\nlines');
  assert.equal(s(imapString('Grüße')), '{7}\r\nGr\xc3\xbc\xc3\x9fe');
  // With UTF8=ACCEPT valid UTF-8 may be quoted (RFC 6855 3); invalid bytes never.
  assert.equal(imapString('Grüße', { utf8: true }).toString('utf8'), '"Grüße"');
  assert.equal(canQuote(Buffer.from([0xff]), { utf8: true }), false);
  assert.equal(quoted('a"b'), '"a\\"b"');
  assert.throws(() => quoted('a\nb'), TypeError);
  assert.equal(s(literal(Buffer.from([0, 1]), true)), '~{2}\r\n\0\x01');
});

test('astring and mailbox names: atoms when safe, modified UTF-7 unless UTF8=ACCEPT', () => {
  assert.equal(s(astring('INBOX')), 'INBOX');
  assert.equal(s(astring('Sent Items')), '"Sent Items"');
  assert.equal(s(astring('NIL')), '"NIL"');
  assert.equal(s(astring('a]b')), '"a]b"');
  assert.equal(s(astring('')), '""');
  assert.equal(s(mailboxName('~peter/mail/台北/日本語')), '~peter/mail/&U,BTFw-/&ZeVnLIqe-');
  assert.equal(s(mailboxName('Tom & Jerry')), '"Tom &- Jerry"');
  assert.equal(mailboxName('Entwürfe', { utf8: true }).toString('utf8'), '"Entwürfe"');
});

test('flag lists', () => {
  assert.equal(flagList(['\\Seen', '$Forwarded']), '(\\Seen $Forwarded)');
  assert.equal(flagList([]), '()');
});

test('formatSequenceSet compacts runs; keeps order for COPYUID when asked', () => {
  assert.equal(formatSequenceSet([1, 2, 3, 5, 7, 8, 9, 9, 4]), '1:5,7:9');
  assert.equal(formatSequenceSet([]), '');
  assert.equal(formatSequenceSet([42]), '42');
  assert.equal(formatSequenceSet([5, 6, 1, 2], { sort: false }), '5:6,1:2');
});

test('internal dates: RFC 9051 date-time with space-padded day', () => {
  const d = new Date('1996-07-17T09:44:25Z');
  assert.equal(formatInternalDate(d, -7 * 60), '"17-Jul-1996 02:44:25 -0700"');
  assert.equal(formatInternalDate(new Date('2024-02-05T00:00:09Z')), '" 5-Feb-2024 00:00:09 +0000"');
  assert.equal(formatInternalDate(new Date('2024-02-05T00:00:09Z'), 330), '" 5-Feb-2024 05:30:09 +0530"');
});

// The RFC 3501 section 8 sample session, server side (the client side is in
// parser/commands.test.ts): lines produced by the helpers above, compared with the RFC text.

test('RFC 3501 section 8: server lines', () => {
  const lines = [
    untaggedStatus('OK', 'IMAP4rev1 Service Ready'),
    tagged('a001', 'OK', 'LOGIN completed'),
    untagged('18 EXISTS'),
    untagged('FLAGS ', flagList(['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'])),
    untagged('2 RECENT'),
    untaggedStatus('OK', 'Message 17 is the first unseen message', 'UNSEEN 17'),
    untaggedStatus('OK', 'UIDs valid', 'UIDVALIDITY 3857529045'),
    tagged('a002', 'OK', 'SELECT completed', 'READ-WRITE'),
    untagged(
      '12 FETCH (FLAGS ',
      flagList(['\\Seen']),
      ` INTERNALDATE ${formatInternalDate(new Date('1996-07-17T09:44:25Z'), -420)} RFC822.SIZE 4286 ENVELOPE (`,
      imapString('Wed, 17 Jul 1996 02:23:25 -0700 (PDT)'),
      ' ',
      imapString('IMAP4rev1 WG mtg summary and minutes'),
      ')',
    ),
    untagged('12 FETCH (FLAGS (\\Seen \\Deleted))'),
    untaggedStatus('BYE', 'IMAP4rev1 server terminating connection'),
    tagged('a006', 'OK', 'LOGOUT completed'),
  ].map((b) => b.toString('latin1'));
  assert.deepEqual(lines, [
    '* OK IMAP4rev1 Service Ready\r\n',
    'a001 OK LOGIN completed\r\n',
    '* 18 EXISTS\r\n',
    '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n',
    '* 2 RECENT\r\n',
    '* OK [UNSEEN 17] Message 17 is the first unseen message\r\n',
    '* OK [UIDVALIDITY 3857529045] UIDs valid\r\n',
    'a002 OK [READ-WRITE] SELECT completed\r\n',
    '* 12 FETCH (FLAGS (\\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE 4286 ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes")\r\n',
    '* 12 FETCH (FLAGS (\\Seen \\Deleted))\r\n',
    '* BYE IMAP4rev1 server terminating connection\r\n',
    'a006 OK LOGOUT completed\r\n',
  ]);
});

test('INTERNALDATE formatting round-trips through the APPEND date-time parser', () => {
  for (const iso of ['1996-07-17T09:44:25Z', '2024-02-05T00:00:09Z', '2000-02-29T23:59:59Z']) {
    for (const offset of [-720, -420, 0, 330, 840]) {
      const wireDate = formatInternalDate(new Date(iso), offset);
      const cmd = parseCommand(Buffer.from(`a APPEND INBOX ${wireDate} {1+}\r\nx`), { utf8Accept: false });
      assert.ok(cmd.name === 'APPEND');
      assert.equal(cmd.messages[0]?.internalDate?.toISOString(), new Date(iso).toISOString(), wireDate);
    }
  }
});
