// Real client traffic, parsed. Lines are quoted from what Thunderbird, Outlook,
// iOS Mail, imapflow and Dovecot's imaptest send (tags included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand, tryParseCommand } from './commands.js';
import { ParseError } from './errors.js';
import { Reader } from './reader.js';
import { hasNumberAbove, parseSequenceSet, resolveSequenceSet, type SeqRange } from './sequence-set.js';
import { Framer } from './framer.js';
import type { ImapCommand } from './types.js';

function assertSubset(actual: unknown, expected: unknown, path = '$'): void {
  if (expected === null || typeof expected !== 'object' || Buffer.isBuffer(expected) || expected instanceof Date) {
    if (Buffer.isBuffer(expected)) {
      assert.ok(Buffer.isBuffer(actual), `${path}: expected a Buffer`);
      assert.equal(actual.toString('latin1'), expected.toString('latin1'), path);
    } else if (expected instanceof Date) {
      assert.ok(actual instanceof Date, `${path}: expected a Date`);
      assert.equal(actual.toISOString(), expected.toISOString(), path);
    } else {
      assert.deepEqual(actual, expected, path);
    }
    return;
  }
  assert.ok(actual !== null && typeof actual === 'object', `${path}: expected an object, got ${String(actual)}`);
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array`);
    assert.equal(actual.length, expected.length, `${path}.length`);
  }
  for (const [k, v] of Object.entries(expected)) {
    assertSubset((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  }
}

function wire(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

const OPTS = { utf8Accept: false };
const ALL = { kind: 'ranges', ranges: [{ from: 1, to: '*' }] };
const r = (from: number | '*', to: number | '*' = from): { from: number | '*'; to: number | '*' } => ({ from, to });

const CASES: Array<[string, string, object]> = [
  // Thunderbird
  ['thunderbird', '1 capability', { tag: '1', name: 'CAPABILITY' }],
  ['thunderbird', '2 authenticate PLAIN', { name: 'AUTHENTICATE', mechanism: 'PLAIN', initialResponse: null }],
  ['thunderbird', '3 ID ("name" "Thunderbird" "version" "115.3.1")', { name: 'ID', params: [['name', 'Thunderbird'], ['version', '115.3.1']] }],
  ['thunderbird', '4 select "INBOX" (CONDSTORE)', { name: 'SELECT', mailbox: 'INBOX', condstore: true, qresync: null }],
  ['thunderbird', '5 UID fetch 1:* (FLAGS)', { name: 'FETCH', uid: true, set: ALL, items: [{ item: 'FLAGS' }] }],
  [
    'thunderbird',
    '6 UID fetch 4:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])',
    {
      name: 'FETCH',
      items: [
        { item: 'UID' },
        { item: 'RFC822.SIZE' },
        { item: 'FLAGS' },
        {
          item: 'BODY[]',
          peek: true,
          section: { part: [], text: 'HEADER.FIELDS' },
          label:
            'BODY[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)]',
        },
      ],
    },
  ],
  ['thunderbird', '7 list (subscribed) "" "*" return (special-use)', { name: 'LIST', selection: { subscribed: true }, return: { specialUse: true }, extended: true, patterns: ['*'] }],
  ['thunderbird', '8 UID store 5 +FLAGS (\\Seen)', { name: 'STORE', uid: true, action: 'add', silent: false, flags: { system: ['\\Seen'], keywords: [] } }],
  ['thunderbird', '9 IDLE', { name: 'IDLE' }],
  ['thunderbird', '10 UID fetch 1:* (FLAGS) (CHANGEDSINCE 123456)', { name: 'FETCH', changedSince: 123456, vanished: false }],
  ['thunderbird', '11 uid move 5 "Trash"', { name: 'MOVE', uid: true, set: { kind: 'ranges', ranges: [r(5)] }, mailbox: 'Trash' }],
  ['thunderbird', '12 UID EXPUNGE 5,7:9', { name: 'UID EXPUNGE', set: { kind: 'ranges', ranges: [r(5), r(7, 9)] } }],
  ['thunderbird', '13 getquotaroot "INBOX"', { name: 'GETQUOTAROOT', mailbox: 'INBOX' }],
  ['thunderbird', '14 namespace', { name: 'NAMESPACE' }],
  ['thunderbird', '15 lsub "" "*"', { name: 'LSUB', reference: '', pattern: '*' }],
  ['thunderbird', '16 UID fetch 5 (UID RFC822.SIZE BODY.PEEK[]<0.10240>)', { items: [{ item: 'UID' }, { item: 'RFC822.SIZE' }, { item: 'BODY[]', partial: { offset: 0, length: 10240 }, label: 'BODY[]' }] }],
  ['thunderbird', '17 uid store 3 -FLAGS ($Junk NonJunk)', { action: 'remove', flags: { system: [], keywords: ['$Junk', 'NonJunk'] } }],
  ['thunderbird', '18 append "Sent" (\\Seen) {3+}\r\nabc', { name: 'APPEND', mailbox: 'Sent', messages: [{ flags: { system: ['\\Seen'] }, message: wire('abc'), internalDate: null }] }],
  // Outlook
  ['outlook', 'AAAA1 CAPABILITY', { tag: 'AAAA1' }],
  ['outlook', 'AAAA2 LOGIN "user@example.com" "p\\"a\\\\ss"', { name: 'LOGIN', username: 'user@example.com', password: 'p"a\\ss' }],
  ['outlook', 'AAAA3 LIST "" "*"', { name: 'LIST', reference: '', patterns: ['*'], extended: false }],
  ['outlook', 'AAAA4 SELECT "Deleted Items"', { name: 'SELECT', mailbox: 'Deleted Items' }],
  ['outlook', 'AAAA5 UID FETCH 1:* (UID FLAGS)', { uid: true, items: [{ item: 'UID' }, { item: 'FLAGS' }] }],
  ['outlook', 'AAAA6 UID SEARCH UNDELETED', { name: 'SEARCH', uid: true, criteria: [{ key: 'FLAG', flag: '\\Deleted', set: false }] }],
  ['outlook', 'AAAA7 UID STORE 12 +FLAGS.SILENT (\\Deleted)', { silent: true, flags: { system: ['\\Deleted'] } }],
  ['outlook', 'AAAA8 EXPUNGE', { name: 'EXPUNGE' }],
  ['outlook', 'AAAA9 UID COPY 3:5 "Sent Items"', { name: 'COPY', mailbox: 'Sent Items' }],
  // iOS Mail
  ['ios', '1.17 ID ("name" "iPhone Mail" "version" "21A329" "os" "iOS" "os-version" "17.0 (21A329)")', { tag: '1.17', params: [['name', 'iPhone Mail'], ['version', '21A329'], ['os', 'iOS'], ['os-version', '17.0 (21A329)']] }],
  ['ios', '2.17 LIST "" ""', { patterns: [''] }],
  ['ios', '3.17 STATUS "Sent Messages" (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)', { name: 'STATUS', mailbox: 'Sent Messages', items: ['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN'] }],
  ['ios', '4.17 UID FETCH 3 (BODYSTRUCTURE)', { items: [{ item: 'BODYSTRUCTURE' }] }],
  ['ios', '5.17 UID FETCH 3 (BODY.PEEK[1.2.MIME] BODY.PEEK[1]<0.2048>)', { items: [{ section: { part: [1, 2], text: 'MIME' }, label: 'BODY[1.2.MIME]' }, { section: { part: [1], text: null }, partial: { offset: 0, length: 2048 } }] }],
  ['ios', '6.17 UID SEARCH 1:* NOT DELETED', { criteria: [{ key: 'SEQ', set: ALL }, { key: 'NOT', inner: { key: 'FLAG', flag: '\\Deleted', set: true } }] }],
  // imapflow
  ['imapflow', '1 AUTHENTICATE PLAIN AGFkbWluAHBhc3M=', { mechanism: 'PLAIN', initialResponse: wire('\0admin\0pass') }],
  ['imapflow', '2 AUTHENTICATE XOAUTH2 =', { initialResponse: Buffer.alloc(0) }],
  ['imapflow', '3 ENABLE CONDSTORE utf8=accept', { name: 'ENABLE', capabilities: ['CONDSTORE', 'UTF8=ACCEPT'] }],
  ['imapflow', '4 LIST (SPECIAL-USE) "" "*" RETURN (SPECIAL-USE SUBSCRIBED)', { selection: { specialUse: true }, return: { specialUse: true, subscribed: true } }],
  ['imapflow', '5 FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE INTERNALDATE RFC822.SIZE MODSEQ)', { items: [{ item: 'UID' }, { item: 'FLAGS' }, { item: 'ENVELOPE' }, { item: 'BODYSTRUCTURE' }, { item: 'INTERNALDATE' }, { item: 'RFC822.SIZE' }, { item: 'MODSEQ' }] }],
  ['imapflow', '6 UID STORE 1:* -FLAGS.SILENT (\\Seen)', { action: 'remove', silent: true }],
  ['imapflow', '7 STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE DELETED RECENT)', { items: ['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'HIGHESTMODSEQ', 'SIZE', 'DELETED', 'RECENT'] }],
  ['imapflow', '8 APPEND INBOX (\\Seen $Forwarded) "14-Jul-2023 10:01:02 +0300" {2+}\r\nhi', { messages: [{ flags: { system: ['\\Seen'], keywords: ['$Forwarded'] }, internalDate: new Date('2023-07-14T07:01:02Z') }] }],
  ['imapflow', '9 UID SEARCH RETURN (MIN MAX COUNT) SINCE 1-Jan-2024', { return: ['MIN', 'MAX', 'COUNT'], criteria: [{ key: 'DATE', field: 'INTERNAL', cmp: 'SINCE', date: { year: 2024, month: 1, day: 1 } }] }],
  ['imapflow', '10 COMPRESS DEFLATE', { name: 'COMPRESS', mechanism: 'DEFLATE' }],
  ['imapflow', '11 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 9 VANISHED)', { vanished: true, changedSince: 9 }],
  ['imapflow', '12 SELECT INBOX (QRESYNC (3857529045 20010715194032001 1:198))', { qresync: { uidValidity: 3857529045, knownUids: { kind: 'ranges', ranges: [r(1, 198)] }, seqMatch: null } }],
  // RFC 7162 3.2.5.2 example, with seq-match-data
  [
    'rfc7162',
    'B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))',
    { qresync: { uidValidity: 67890007, knownUids: { kind: 'ranges', ranges: [r(1, 29997)] }, seqMatch: { seqs: { kind: 'ranges', ranges: [r(5000), r(7500), r(9000), r(9990, 9999)] } } } },
  ],
  ['rfc8514', 'a SEARCH SAVEDSINCE 1-Jan-2024 SAVEDATESUPPORTED', { criteria: [{ key: 'DATE', field: 'SAVED', cmp: 'SINCE' }, { key: 'SAVEDATESUPPORTED' }] }],
  // RFC examples
  [
    'rfc3502',
    'A003 APPEND saved-messages (\\Seen) {5}\r\nfirst (\\Seen) " 1-Jul-2002 10:20:30 +0000" {6}\r\nsecond',
    { name: 'APPEND', messages: [{ message: wire('first'), internalDate: null }, { message: wire('second'), internalDate: new Date('2002-07-01T10:20:30Z') }] },
  ],
  ['rfc9051', 'A284 SEARCH CHARSET UTF-8 TEXT {12}\r\nгорячо', { charset: 'UTF-8', criteria: [{ key: 'TEXT', value: 'горячо' }] }],
  ['rfc5819', 'A01 LIST "" % RETURN (STATUS (MESSAGES UNSEEN))', { return: { status: ['MESSAGES', 'UNSEEN'] }, extended: true }],
  ['rfc5258', 'A02 LIST (REMOTE) "" "*"', { selection: { remote: true }, extended: true }],
  ['rfc5258', 'A03 LIST () "" ("%" "Other Users/%")', { patterns: ['%', 'Other Users/%'] }],
  ['rfc5256', 'A283 SORT (SUBJECT REVERSE DATE) UTF-8 ALL', { sort: [{ key: 'SUBJECT', reverse: false }, { key: 'DATE', reverse: true }] }],
  ['rfc5957', 'a SORT (DISPLAYFROM) UTF-8 ALL', { sort: [{ key: 'DISPLAYFROM' }] }],
  ['rfc5256', 'A284 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000', { algorithm: 'ORDEREDSUBJECT', criteria: [{ key: 'DATE', date: { year: 2000, month: 3, day: 5 } }] }],
  ['rfc5267', 'a UID SORT RETURN (MIN COUNT) (DATE) UTF-8 UNDELETED', { name: 'SORT', uid: true, return: ['MIN', 'COUNT'] }],
  ['rfc3516', 'a UID FETCH 2 (BINARY.PEEK[1.2]<0.100> BINARY.SIZE[1.2])', { items: [{ item: 'BINARY', part: [1, 2], label: 'BINARY[1.2]', partial: { offset: 0, length: 100 } }, { item: 'BINARY.SIZE', label: 'BINARY.SIZE[1.2]' }] }],
  ['rfc2971', 'a023 ID ("name" {3}\r\nsod "version" "19.34")', { params: [['name', 'sod'], ['version', '19.34']] }],
  ['rfc9051', 'a ENABLE IMAP4rev2', { capabilities: ['IMAP4REV2'] }],
  ['rfc9208', 'G0001 GETQUOTAROOT "&ZeVnLIqe-"', { mailbox: '日本語' }],
  ['rfc4315', 'A003 UID EXPUNGE 3000:3002', { set: { kind: 'ranges', ranges: [r(3000, 3002)] } }],
  ['rfc4978', 'a COMPRESS deflate', { mechanism: 'DEFLATE' }],
  // Dovecot imaptest idioms
  ['imaptest', 'ok fetch 1:* (flags)', { name: 'FETCH', items: [{ item: 'FLAGS' }] }],
  ['imaptest', 'ok search or or seen deleted flagged', { criteria: [{ key: 'OR', left: { key: 'OR' }, right: { key: 'FLAG', flag: '\\Flagged' } }] }],
  ['imaptest', 'ok store 1,3:* flags.silent ()', { action: 'set', silent: true, flags: { system: [], keywords: [] } }],
  ['imaptest', 'ok uid search uid 4:2,*', { criteria: [{ key: 'UID', set: { kind: 'ranges', ranges: [r(4, 2), r('*')] } }] }],
  ['imaptest', 'ok search $', { criteria: [{ key: 'SEQ', set: { kind: 'saved' } }] }],
  ['imaptest', 'ok search return (save) deleted', { return: ['SAVE'] }],
  ['imaptest', 'ok search return () all', { return: ['ALL'] }],
  ['imaptest', 'ok fetch 1 binary.peek[1]<0.10>', { items: [{ item: 'BINARY', peek: true, part: [1], partial: { offset: 0, length: 10 } }] }],
  ['imaptest', 'ok fetch 1 binary.size[]', { items: [{ item: 'BINARY.SIZE', part: [], label: 'BINARY.SIZE[]' }] }],
  ['imaptest', 'ok fetch 1 (rfc822 rfc822.header rfc822.text body)', { items: [{ item: 'RFC822' }, { item: 'RFC822.HEADER' }, { item: 'RFC822.TEXT' }, { item: 'BODY' }] }],
  ['imaptest', 'ok fetch 1 fast', { items: [{ item: 'FLAGS' }, { item: 'INTERNALDATE' }, { item: 'RFC822.SIZE' }] }],
  ['imaptest', 'ok fetch 1 full', { items: [{ item: 'FLAGS' }, { item: 'INTERNALDATE' }, { item: 'RFC822.SIZE' }, { item: 'ENVELOPE' }, { item: 'BODY' }] }],
  ['imaptest', 'ok fetch 1 body[header.fields.not (received)]', { items: [{ section: { text: 'HEADER.FIELDS.NOT', fields: ['received'] } }] }],
  ['imaptest', 'ok fetch 1 body[2.1.text]', { items: [{ section: { part: [2, 1], text: 'TEXT' }, peek: false }] }],
  ['imaptest', 'ok sort (reverse arrival subject) utf-8 all', { name: 'SORT', sort: [{ key: 'ARRIVAL', reverse: true }, { key: 'SUBJECT', reverse: false }], charset: 'UTF-8', criteria: [{ key: 'ALL' }] }],
  ['imaptest', 'ok uid thread references us-ascii unseen', { name: 'THREAD', uid: true, algorithm: 'REFERENCES', charset: 'US-ASCII' }],
  ['imaptest', 'ok create "Junk" (USE (\\Junk))', { name: 'CREATE', mailbox: 'Junk', specialUse: ['\\Junk'] }],
  ['imaptest', 'ok rename foo "bar/baz"', { name: 'RENAME', mailbox: 'foo', newName: 'bar/baz' }],
  ['imaptest', 'ok examine inbox', { name: 'EXAMINE', mailbox: 'INBOX' }],
  ['imaptest', 'ok delete Inbox/Old', { name: 'DELETE', mailbox: 'INBOX/Old' }],
  ['imaptest', 'ok subscribe InboxSiblings', { name: 'SUBSCRIBE', mailbox: 'InboxSiblings' }],
  ['imaptest', 'ok unselect', { name: 'UNSELECT' }],
  ['imaptest', 'ok id nil', { name: 'ID', params: null }],
  ['imaptest', 'ok getquota ""', { name: 'GETQUOTA', root: '' }],
  ['imaptest', 'ok setquota "" (STORAGE 512)', { name: 'SETQUOTA', limits: [{ resource: 'STORAGE', limit: 512 }] }],
  ['imaptest', 'ok list "" ("INBOX" "Sent" "Tr%")', { patterns: ['INBOX', 'Sent', 'Tr%'], extended: true }],
  ['imaptest', 'ok list "" % return (status (messages unseen) children)', { return: { status: ['MESSAGES', 'UNSEEN'], children: true } }],
  ['imaptest', 'ok store 1 (unchangedsince 12) flags \\seen \\answered $label1', { unchangedSince: 12, flags: { system: ['\\Seen', '\\Answered'], keywords: ['$label1'] } }],
  ['imaptest', 'ok search modseq "/flags/\\\\draft" all 620162338', { criteria: [{ key: 'MODSEQ', modseq: 620162338, entry: { name: '/flags/\\draft', type: 'all' } }] }],
  ['imaptest', 'ok search younger 3600 older 60', { criteria: [{ key: 'YOUNGER', seconds: 3600 }, { key: 'OLDER', seconds: 60 }] }],
  ['imaptest', 'ok move 1:2 {3+}\r\nfoo', { name: 'MOVE', uid: false, mailbox: 'foo' }],
];

for (const [client, line, expected] of CASES) {
  test(`${client}: ${line.replace(/\r\n/g, '\\r\\n')}`, () => {
    assertSubset(parseCommand(wire(line), OPTS), expected);
  });
}

// Each malformed line -> the typed error the session turns into a reply.
const ERRORS: Array<[string, { kind: 'bad' | 'no'; tag?: string | undefined; command?: string; code?: string; message?: RegExp }]> = [
  ['a1 FROB', { kind: 'bad', tag: 'a1', command: 'FROB', message: /Unknown command/ }],
  ['a1 UID FROB 1', { kind: 'bad', command: 'UID FROB' }],
  ['a1 UID NOOP', { kind: 'bad', command: 'UID NOOP' }],
  ['+tag NOOP', { kind: 'bad', tag: undefined }],
  ['a1', { kind: 'bad', tag: 'a1' }],
  ['a1 NOOP extra', { kind: 'bad', message: /extra/ }],
  ['a1 LOGIN user', { kind: 'bad', command: 'LOGIN', message: /Missing/ }],
  ['a1 LOGIN "unterminated', { kind: 'bad', message: /quote/ }],
  ['a1 LOGIN "a\\b" c', { kind: 'bad', message: /escape/ }],
  ['a1 LOGIN {3}\r\nab', { kind: 'bad', message: /shorter/ }],
  ['a1 LOGIN {2}\r\na\0 x', { kind: 'bad', message: /NUL/ }],
  ['a1 SELECT "&Jjo"', { kind: 'no', message: /mUTF-7/ }],
  ['a1 SELECT "caf\u00e9"', { kind: 'no', message: /mUTF-7/ }],
  ['a1 SEARCH CHARSET ISO-8859-1 FROM x', { kind: 'no', code: 'BADCHARSET (UTF-8 US-ASCII)' }],
  ['a1 SORT (DATE) KOI8-R ALL', { kind: 'no', code: 'BADCHARSET (UTF-8 US-ASCII)' }],
  ['a1 SEARCH FROB', { kind: 'bad', message: /Unknown search key/ }],
  ['a1 SEARCH (SEEN', { kind: 'bad' }],
  ['a1 SEARCH ()', { kind: 'bad' }],
  ['a1 SEARCH SINCE 31-Feb-2024', { kind: 'bad', message: /day/ }],
  ['a1 SEARCH SINCE 1-Foo-2024', { kind: 'bad', message: /month/ }],
  ['a1 SEARCH RETURN (FOO) ALL', { kind: 'bad' }],
  ['a1 FETCH 0 FLAGS', { kind: 'bad', message: /Zero/ }],
  ['a1 FETCH 1:2, FLAGS', { kind: 'bad' }],
  ['a1 FETCH 4294967296 FLAGS', { kind: 'bad', message: /range/ }],
  ['a1 FETCH 1 ()', { kind: 'bad' }],
  ['a1 FETCH 1 (FLAGS', { kind: 'bad' }],
  ['a1 FETCH 1 BODY.PEEK', { kind: 'bad' }],
  ['a1 FETCH 1 BODY[MIME]', { kind: 'bad', message: /MIME/ }],
  ['a1 FETCH 1 BODY[1.]', { kind: 'bad' }],
  ['a1 FETCH 1 BODY[HEADER.FIELDS ()]', { kind: 'bad' }],
  ['a1 FETCH 1 BODY[]<0.0>', { kind: 'bad' }],
  ['a1 FETCH 1 FROB', { kind: 'bad', message: /Unknown fetch item/ }],
  ['a1 FETCH 1 FLAGS (VANISHED)', { kind: 'bad', message: /VANISHED/ }],
  ['a1 UID FETCH 1 FLAGS (VANISHED)', { kind: 'bad', message: /VANISHED/ }],
  ['a1 STORE 1 FLAGS (\\Recent)', { kind: 'bad', message: /system flag/ }],
  ['a1 STORE 1 FLAGS (\\Foo)', { kind: 'bad', message: /system flag/ }],
  ['a1 STORE 1 +BODY (\\Seen)', { kind: 'bad' }],
  ['a1 STORE 1 +FLAGS (]bad)', { kind: 'bad' }],
  ['a1 APPEND INBOX', { kind: 'bad' }],
  ['a1 APPEND INBOX (\\Seen) "32-Jan-2024 00:00:00 +0000" {1+}\r\nx', { kind: 'bad' }],
  ['a1 APPEND INBOX "1-Jan-2024 00:00:00 0000" {1+}\r\nx', { kind: 'bad' }],
  ['a1 APPEND INBOX UTF8 (~{1+}\r\nx)', { kind: 'bad', message: /UTF8=ACCEPT/ }],
  ['a1 LIST (RECURSIVEMATCH) "" *', { kind: 'bad', message: /RECURSIVEMATCH/ }],
  ['a1 LIST (FOO) "" *', { kind: 'bad' }],
  ['a1 LIST "" * RETURN (FOO)', { kind: 'bad' }],
  ['a1 STATUS INBOX (FOO)', { kind: 'bad', message: /STATUS item/ }],
  ['a1 STATUS INBOX ()', { kind: 'bad' }],
  ['a1 SELECT INBOX (FOO)', { kind: 'bad' }],
  ['a1 SELECT INBOX (QRESYNC (1 2 1:*))', { kind: 'bad', message: /\*/ }],
  ['a1 AUTHENTICATE PLAIN ###', { kind: 'bad', message: /base64/ }],
  ['a1 ENABLE', { kind: 'bad' }],
  ['a1 ID ("name")', { kind: 'bad' }],
  ['a1 ID NILS', { kind: 'bad' }],
  ['a1 STORE 1 +FLAGS (\\*)', { kind: 'bad' }],
  ['a1 STORE 1 +FLAGS (foo])', { kind: 'bad' }],
  ['a1 APPEND INBOX CATENATE (TEXT {3+}\r\nabc)', { kind: 'bad' }],
  ['a1 FETCH 1 BINARY[1.TEXT]', { kind: 'bad' }],
  ['a1 FETCH 1 BODY[1.2.TEXT', { kind: 'bad' }],
  ['a1 FETCH 1 (ALL)', { kind: 'bad' }],
  ['a1 FETCH * BODY[]<5>', { kind: 'bad' }],
  ['a1 COMPRESS', { kind: 'bad' }],
  ['a1 LOGIN ~{3}\r\nabc x', { kind: 'bad', message: /literal8/ }],
  ['a1 SELECT INBOX (QRESYNC (1 2 (1:3 4:6)))', { kind: 'bad' }],
  ['a1 SELECT INBOX (QRESYNC (1 2 1:9 x))', { kind: 'bad' }],
  ['a1 ID "x"', { kind: 'bad' }],
  ['a1 COPY 1', { kind: 'bad' }],
  ['a1 CREATE x (USE (Junk))', { kind: 'bad' }],
  ['a1 THREAD REFERENCES', { kind: 'bad' }],
  ['a1 SEARCH ' + 'NOT '.repeat(100) + 'ALL', { kind: 'bad', message: /deeply/ }],
  ['a1 SEARCH ' + '('.repeat(100) + 'ALL' + ')'.repeat(100), { kind: 'bad', message: /deeply/ }],
  ['a1 FETCH 1 (FLAGS) (CHANGEDSINCE 99999999999999999999)', { kind: 'bad', message: /range/ }],
];

for (const [line, expected] of ERRORS) {
  test(`error: ${line.slice(0, 70).replace(/\r\n/g, '\\r\\n')}`, () => {
    const res = tryParseCommand(wire(line), OPTS);
    assert.equal(res.ok, false, 'expected a parse error');
    if (res.ok) return;
    assert.ok(res.error instanceof ParseError);
    assert.equal(res.error.kind, expected.kind, res.error.message);
    if ('tag' in expected) assert.equal(res.error.tag, expected.tag);
    if (expected.command) assert.equal(res.error.command, expected.command);
    if (expected.code) assert.equal(res.error.code, expected.code);
    if (expected.message) assert.match(res.error.message, expected.message);
  });
}

test('mailbox names: modified UTF-7 decoded, or UTF-8 when UTF8=ACCEPT is enabled', () => {
  // RFC 3501 5.1.3 example.
  assertSubset(parseCommand(wire('a1 SELECT ~peter/mail/&U,BTFw-/&ZeVnLIqe-'), OPTS), { mailbox: '~peter/mail/台北/日本語' });
  assertSubset(parseCommand(wire('a1 SELECT "Entw&APw-rfe"'), OPTS), { mailbox: 'Entwürfe' });
  assertSubset(parseCommand(wire('a1 SELECT "Entwürfe"'), { utf8Accept: true }), { mailbox: 'Entwürfe' });
  // With UTF8=ACCEPT "&" is an ordinary character.
  assertSubset(parseCommand(wire('a1 SELECT "A&B"'), { utf8Accept: true }), { mailbox: 'A&B' });
  assertSubset(parseCommand(wire('a1 APPEND Drafts UTF8 (~{3+}\r\nabc)'), { utf8Accept: true }), { messages: [{ utf8: true, binary: true }] });
  const bad8 = tryParseCommand(Buffer.from([...Buffer.from('a1 SELECT "'), 0xc3, 0x28, 0x22]), { utf8Accept: true });
  assert.equal(bad8.ok, false);
});

test('STORE with an unparenthesised flag list and LOGIN with literals', () => {
  assertSubset(parseCommand(wire('a1 STORE 2:4 +FLAGS \\Deleted \\Seen'), OPTS), { flags: { system: ['\\Deleted', '\\Seen'] } });
  assertSubset(parseCommand(wire('A003 LOGIN {11}\r\nFRED FOOBAR {7}\r\nfat man'), OPTS), { username: 'FRED FOOBAR', password: 'fat man' });
});

test('keywords keep their first spelling and are de-duplicated case-insensitively', () => {
  assertSubset(parseCommand(wire('a1 STORE 1 +FLAGS ($Label1 $LABEL1 \\seen \\SEEN)'), OPTS), { flags: { system: ['\\Seen'], keywords: ['$Label1'] } });
});

test('huge modseqs clamp to the largest safe integer; numbers beyond 2^63-1 are BAD', () => {
  assertSubset(parseCommand(wire('a1 FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775807)'), OPTS), { changedSince: Number.MAX_SAFE_INTEGER });
});

// Sequence sets (RFC 9051 9) and how the session resolves them.

function ranges(text: string): SeqRange[] {
  const set = parseSequenceSet(new Reader(Buffer.from(text)));
  assert.equal(set.kind, 'ranges');
  return set.kind === 'ranges' ? set.ranges : [];
}

test('parsing keeps * symbolic and n:m as written', () => {
  assert.deepEqual(ranges('1,3:5,7:*,*,9:2'), [
    { from: 1, to: 1 },
    { from: 3, to: 5 },
    { from: 7, to: '*' },
    { from: '*', to: '*' },
    { from: 9, to: 2 },
  ]);
  assert.deepEqual(parseSequenceSet(new Reader(Buffer.from('$'))), { kind: 'saved' });
});

test('resolve: m:n equals n:m, * is the largest number in use, overlaps merge', () => {
  assert.deepEqual(resolveSequenceSet(ranges('9:2'), 10), [[2, 9]]);
  assert.deepEqual(resolveSequenceSet(ranges('1:3,2:5,7,8'), 10), [[1, 5], [7, 8]]);
  assert.deepEqual(resolveSequenceSet(ranges('5:*'), 3), [[3, 3]]);
  assert.deepEqual(resolveSequenceSet(ranges('*:4'), 3), [[3, 3]]);
  assert.deepEqual(resolveSequenceSet(ranges('*'), 0), []);
  assert.deepEqual(resolveSequenceSet(ranges('20:30'), 10), []);
  // UID sets: numbers beyond the largest UID are kept, the caller ignores absent UIDs.
  assert.deepEqual(resolveSequenceSet(ranges('20:30'), 10, false), [[20, 30]]);
  assert.deepEqual(resolveSequenceSet(ranges('20:*'), 10, false), [[10, 20]]);
});

test('hasNumberAbove flags sequence numbers that do not exist; * never does', () => {
  assert.equal(hasNumberAbove(ranges('1:3,*'), 3), false);
  assert.equal(hasNumberAbove(ranges('4'), 3), true);
  assert.equal(hasNumberAbove(ranges('*:4'), 3), true);
});

test('date-time: zones, space-padded days, leap days, years before 100', () => {
  const date = (s: string): string | undefined => {
    const cmd = parseCommand(wire(`a APPEND INBOX ${s} {1+}\r\nx`), OPTS);
    return cmd.name === 'APPEND' ? cmd.messages[0]?.internalDate?.toISOString() : undefined;
  };
  assert.equal(date('" 1-Jan-2024 00:00:00 +0100"'), '2023-12-31T23:00:00.000Z');
  assert.equal(date('"29-Feb-2024 12:00:00 -0000"'), '2024-02-29T12:00:00.000Z');
  assert.equal(date('"01-Mar-0099 00:00:00 +0000"'), '0099-03-01T00:00:00.000Z');
  assert.equal(tryParseCommand(wire('a APPEND INBOX "29-Feb-2023 12:00:00 +0000" {1+}\r\nx'), OPTS).ok, false);
  assert.equal(tryParseCommand(wire('a APPEND INBOX "1-Jan-2024 24:00:00 +0000" {1+}\r\nx'), OPTS).ok, false);
});

// The RFC 3501 section 8 sample session, client side (server side: ../respond.test.ts).
const CLIENT = [
  'a001 login mrc secret',
  'a002 select inbox',
  'a003 fetch 12 full',
  'a004 fetch 12 body[header]',
  'a005 store 12 +flags \\deleted',
  'a006 logout',
];

test('RFC 3501 section 8: client commands, fed byte by byte', () => {
  const framer = new Framer({ maxLineBytes: 8192, maxLiteralBytes: 65536, maxCommandBytes: 65536 });
  const commands: ImapCommand[] = [];
  for (const b of Buffer.from(CLIENT.map((l) => l + '\r\n').join(''))) {
    framer.push(Buffer.from([b]));
    for (let ev = framer.next(); ev; ev = framer.next()) {
      assert.equal(ev.type, 'command');
      if (ev.type === 'command') commands.push(parseCommand(ev.bytes, OPTS));
    }
  }
  assert.equal(commands.length, 6);
  assertSubset(commands, [
    { tag: 'a001', name: 'LOGIN', username: 'mrc', password: 'secret' },
    { tag: 'a002', name: 'SELECT', mailbox: 'INBOX' },
    {
      tag: 'a003',
      name: 'FETCH',
      set: { kind: 'ranges', ranges: [{ from: 12, to: 12 }] },
      items: [{ item: 'FLAGS' }, { item: 'INTERNALDATE' }, { item: 'RFC822.SIZE' }, { item: 'ENVELOPE' }, { item: 'BODY' }],
    },
    { tag: 'a004', name: 'FETCH', items: [{ item: 'BODY[]', peek: false, section: { part: [], text: 'HEADER', fields: [] }, label: 'BODY[HEADER]' }] },
    { tag: 'a005', name: 'STORE', action: 'add', silent: false, flags: { system: ['\\Deleted'], keywords: [] } },
    { tag: 'a006', name: 'LOGOUT' },
  ]);
});


test('runs of blanks between arguments and trailing blanks are accepted, as Dovecot does', () => {
  assertSubset(parseCommand(wire('a1  UID  STORE 1  +FLAGS.SILENT ( \\Seen  $Fw ) '), OPTS), { name: 'STORE', flags: { system: ['\\Seen'], keywords: ['$Fw'] } });
  assertSubset(parseCommand(wire('a2 SEARCH SEEN  UNDELETED '), OPTS), { criteria: [{ key: 'FLAG' }, { key: 'FLAG' }] });
  assertSubset(parseCommand(wire('a3 NOOP  '), OPTS), { name: 'NOOP' });
  assertSubset(parseCommand(wire('a4 SELECT INBOX '), OPTS), { name: 'SELECT', condstore: false });
  // A literal's content is never trimmed.
  assertSubset(parseCommand(wire('a5 APPEND INBOX {3+}\r\nab '), OPTS), { messages: [{ message: wire('ab ') }] });
  assert.equal(tryParseCommand(wire('a6 STORE 1 FLAGS (\\Seen\\Draft)'), OPTS).ok, false);
});

test('search strings must be valid UTF-8', () => {
  const res = tryParseCommand(Buffer.concat([wire('a1 SEARCH CHARSET UTF-8 SUBJECT {2}\r\n'), Buffer.from([0xff, 0xfe])]), OPTS);
  assert.ok(!res.ok && res.error.kind === 'bad' && /UTF-8/.test(res.error.message));
});
