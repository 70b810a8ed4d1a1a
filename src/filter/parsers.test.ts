// The filter's pure parts: DNS list names, header rewriting, rspamd answers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLists, reverseIp } from './dnsbl.js';
import { headerFields, headerHeuristics, rewriteHeader } from './headers.js';
import { parseCheck, RspamdUnavailable } from './rspamd.js';

test('DNSBL names: reversed IPv4 octets and IPv6 nibbles (RFC 5782 2.1, 2.4)', () => {
  assert.equal(reverseIp('192.0.2.99'), '99.2.0.192');
  assert.equal(reverseIp('::ffff:192.0.2.99'), '99.2.0.192');
  assert.equal(reverseIp('2001:db8:1:2:3:4:567:89ab'), 'b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2');
  assert.equal(reverseIp('2001:db8::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2');
  assert.equal(reverseIp('not an ip'), null);
});

test('a list hit needs 127.0.0.0/8 outside 127.255.255.0/24; a failing lookup is no hit', async () => {
  const answers: Record<string, string[]> = {
    '2.2.0.192.a.test': ['127.0.0.2'],
    '2.2.0.192.b.test': ['127.255.255.254'],
    '2.2.0.192.c.test': ['192.0.2.1'],
    'bad.example.d.test': ['127.0.1.2'],
  };
  const lookup = async (name: string) => {
    if (name.endsWith('.e.test')) throw new Error('SERVFAIL');
    const a = answers[name];
    if (!a) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
    return a;
  };
  const zones = ['a', 'b', 'c', 'e'].map((z) => ({ zone: `${z}.test`, weight: 1 }));
  const hits = await checkLists(lookup, '192.0.2.2', ['Bad.Example', 'fine.example', 'nodot'], zones, [{ zone: 'd.test', weight: 4 }]);
  assert.deepEqual(hits, [
    { zone: 'a.test', subject: '192.0.2.2', weight: 1, codes: ['127.0.0.2'] },
    { zone: 'd.test', subject: 'bad.example', weight: 4, codes: ['127.0.1.2'] },
  ]);
});

test('rewriteHeader drops the sender\'s X-Spam-* fields (folded too) and replaces the Subject', () => {
  const m = Buffer.from('X-Spam-Status: No,\r\n\tscore=-5\r\nSubject: Hello\r\n  again\r\nX-Spam-Flag: NO\r\nFrom: a@b.test\r\n\r\nX-Spam-Status: body text stays\r\n');
  assert.equal(rewriteHeader(m, null).toString(), 'Subject: Hello\r\n  again\r\nFrom: a@b.test\r\n\r\nX-Spam-Status: body text stays\r\n');
  assert.equal(rewriteHeader(m, '*** SPAM *** Hello again').toString(), 'Subject: *** SPAM *** Hello again\r\nFrom: a@b.test\r\n\r\nX-Spam-Status: body text stays\r\n');
  const plain = Buffer.from('From: a@b.test\r\n\r\nbody');
  assert.equal(rewriteHeader(plain, null), plain, 'nothing to change: the same buffer');
  const utf8 = rewriteHeader(plain, `[SPAM] ${'Grüße '.repeat(20)}`).toString();
  for (const line of utf8.split('\r\n')) assert.ok(line.length <= 78, `line too long: ${line}`);
  assert.match(utf8, /^Subject: =\?UTF-8\?B\?/m);
});

test('header heuristics name what they see', () => {
  const names = (raw: string) => headerHeuristics(headerFields(Buffer.from(raw))).map((h) => h.name);
  assert.deepEqual(names('From: a@b.test\r\nDate: Sat, 28 Nov 2026 12:00:00 +0000\r\nMessage-ID: <1@b.test>\r\nSubject: Hello there\r\n\r\n'), []);
  assert.deepEqual(names('Subject: YOU HAVE WON A PRIZE\r\n\r\n'), ['MISSING_FROM', 'MISSING_DATE', 'MISSING_MID', 'SUBJ_ALL_CAPS']);
  assert.ok(names('From: "service@paypal.example" <x@other.test>\r\n\r\n').includes('FROM_NAME_HAS_OTHER_ADDR'));
});

test('parseCheck reads a /checkv2 answer and refuses anything else', () => {
  const r = parseCheck('{"is_skipped":false,"score":7.5,"required_score":15,"action":"rewrite subject","subject":"*** SPAM *** hi","symbols":{"A":{},"B":{}},"messages":{"smtp_message":"go\\r\\naway"}}');
  assert.deepEqual(r, { action: 'rewrite subject', score: 7.5, requiredScore: 15, symbols: ['A', 'B'], smtpMessage: 'go away', subject: '*** SPAM *** hi' });
  assert.equal(parseCheck('{"action":"reject","score":20,"messages":{"smtp_message":"Spam – go\\u0000"}}').smtpMessage, 'Spam ? go?');
  assert.throws(() => parseCheck('<html>'), RspamdUnavailable);
  assert.throws(() => parseCheck('{"action":"discard","score":1}'), RspamdUnavailable);
  assert.throws(() => parseCheck('{"score":1}'), RspamdUnavailable);
});
