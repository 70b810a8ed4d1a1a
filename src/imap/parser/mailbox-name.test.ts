import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError } from './errors.js';
import { decodeMailboxName, decodeModifiedUtf7, encodeModifiedUtf7, normalizeInbox } from './mailbox-name.js';

const ROUND_TRIPS: Array<[string, string]> = [
  ['INBOX', 'INBOX'],
  ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
  ['Entwürfe', 'Entw&APw-rfe'],
  ['Tom & Jerry', 'Tom &- Jerry'],
  ['&', '&-'],
  ['Ünïcödé', '&ANw-n&AO8-c&APY-d&AOk-'],
  ['日本', '&ZeVnLA-'],
  ['emoji 😀 box', 'emoji &2D3eAA- box'],
  ['tab\there', 'tab&AAk-here'],
];

for (const [utf8, wire] of ROUND_TRIPS) {
  test(`modified UTF-7: ${JSON.stringify(utf8)} <-> ${wire}`, () => {
    assert.equal(encodeModifiedUtf7(utf8), wire);
    assert.equal(decodeModifiedUtf7(wire), utf8);
  });
}

// Dovecot refuses all of these; so do we (NO, "not valid mUTF-7").
const INVALID = ['&', '&Jjo', '&U,BTFw', '&AGE-', '&ZeVnLA-&ZeVnLA-', '&ZeVnLB-', '&2D0-', '&3gA-', '&-&&', 'a\u00e9', '&U=-', '&A-'];
for (const wire of INVALID) {
  test(`modified UTF-7 rejects ${JSON.stringify(wire)}`, () => {
    assert.throws(
      () => decodeModifiedUtf7(wire),
      (err: unknown) => err instanceof ParseError && err.kind === 'no',
    );
  });
}

test('INBOX is case-insensitive, also as the parent of its children', () => {
  assert.equal(normalizeInbox('inbox'), 'INBOX');
  assert.equal(normalizeInbox('InBoX/Work'), 'INBOX/Work');
  assert.equal(normalizeInbox('Inboxes'), 'Inboxes');
  assert.equal(normalizeInbox('Archive/inbox'), 'Archive/inbox');
  assert.equal(decodeMailboxName(Buffer.from('iNbOx'), { utf8: false }), 'INBOX');
});

test('random strings survive encode/decode', () => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const alphabet = ['a', '&', '-', ' ', '/', 'é', '台', '😀', '\u0001', '~', '+', ','];
  for (let i = 0; i < 500; i++) {
    let s = '';
    for (let j = rand(12); j > 0; j--) s += alphabet[rand(alphabet.length)];
    assert.equal(decodeModifiedUtf7(encodeModifiedUtf7(s)), s, JSON.stringify(s));
  }
});

test('a multi-megabyte name in a literal decodes without exhausting the stack', () => {
  const name = '台'.repeat(150_000);
  assert.equal(decodeModifiedUtf7(encodeModifiedUtf7(name)), name);
});
