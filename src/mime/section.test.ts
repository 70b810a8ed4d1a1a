import { test } from 'node:test';
import assert from 'node:assert/strict';
import { indexMessage, resolveSection, type ByteRange, type MessageIndex } from './index.js';
import { assertIndex, crlf, slice } from './test-fixtures.js';

// The message of RFC 9051 6.4.5 (and RFC 3501 6.4.5), part for part.
const INNER_3 = [
  'Subject: part 3',
  'Content-Type: MULTIPART/MIXED; boundary=m3',
  '',
  '--m3',
  'Content-Type: TEXT/PLAIN',
  '',
  '3.1 text',
  '--m3',
  'Content-Type: APPLICATION/OCTET-STREAM',
  '',
  '3.2 data',
  '--m3--',
];
const INNER_42 = [
  'Subject: part 4.2',
  'Content-Type: MULTIPART/MIXED; boundary=m42',
  '',
  '--m42',
  '',
  '4.2.1 text',
  '--m42',
  'Content-Type: MULTIPART/ALTERNATIVE; boundary=alt',
  '',
  '--alt',
  '',
  '4.2.2.1 plain',
  '--alt',
  'Content-Type: TEXT/RICHTEXT',
  '',
  '4.2.2.2 rich',
  '--alt--',
  '--m42--',
];
const RFC_EXAMPLE = crlf(
  'Subject: top',
  'Content-Type: MULTIPART/MIXED; boundary=top',
  '',
  '--top',
  'Content-Type: TEXT/PLAIN',
  '',
  '1 text',
  '--top',
  'Content-Type: APPLICATION/OCTET-STREAM',
  '',
  '2 data',
  '--top',
  'Content-Type: MESSAGE/RFC822',
  '',
  ...INNER_3,
  '--top',
  'Content-Type: MULTIPART/MIXED; boundary=m4',
  '',
  '--m4',
  'Content-Type: IMAGE/GIF',
  '',
  '4.1 gif',
  '--m4',
  'Content-Type: MESSAGE/RFC822',
  '',
  ...INNER_42,
  '--m4--',
  '--top--',
  '',
);

function text(idx: MessageIndex, path: number[], which: 'body' | 'mime' | 'header' | 'text'): string | null {
  const r = resolveSection(idx, path);
  assert.ok(r !== null, `section ${path.join('.')} not found`);
  const range: ByteRange | null = r[which];
  return range === null ? null : slice(RFC_EXAMPLE, range[0], range[1]);
}

test('RFC 9051 6.4.5 example: every section resolves to the right bytes', () => {
  const idx = indexMessage(RFC_EXAMPLE);
  assertIndex(RFC_EXAMPLE, idx);
  assert.equal(text(idx, [], 'header'), 'Subject: top\r\nContent-Type: MULTIPART/MIXED; boundary=top\r\n\r\n');
  assert.ok(text(idx, [], 'text')?.startsWith('--top\r\n'));
  assert.equal(text(idx, [], 'body'), RFC_EXAMPLE.toString('latin1'));
  assert.equal(text(idx, [1], 'body'), '1 text');
  assert.equal(text(idx, [1], 'mime'), 'Content-Type: TEXT/PLAIN\r\n\r\n');
  assert.equal(text(idx, [1], 'header'), null);
  assert.equal(text(idx, [2], 'body'), '2 data');
  assert.equal(text(idx, [3], 'body'), INNER_3.join('\r\n'));
  assert.equal(text(idx, [3], 'mime'), 'Content-Type: MESSAGE/RFC822\r\n\r\n');
  assert.equal(text(idx, [3], 'header'), 'Subject: part 3\r\nContent-Type: MULTIPART/MIXED; boundary=m3\r\n\r\n');
  assert.ok(text(idx, [3], 'text')?.startsWith('--m3\r\n'));
  assert.equal(text(idx, [3, 1], 'body'), '3.1 text');
  assert.equal(text(idx, [3, 2], 'body'), '3.2 data');
  assert.equal(resolveSection(idx, [4])?.part.subtype, 'mixed');
  assert.equal(text(idx, [4, 1], 'body'), '4.1 gif');
  assert.equal(text(idx, [4, 1], 'mime'), 'Content-Type: IMAGE/GIF\r\n\r\n');
  assert.equal(text(idx, [4, 2], 'header'), 'Subject: part 4.2\r\nContent-Type: MULTIPART/MIXED; boundary=m42\r\n\r\n');
  assert.equal(text(idx, [4, 2, 1], 'body'), '4.2.1 text');
  assert.equal(resolveSection(idx, [4, 2, 2])?.part.subtype, 'alternative');
  assert.equal(text(idx, [4, 2, 2, 1], 'body'), '4.2.2.1 plain');
  assert.equal(text(idx, [4, 2, 2, 2], 'body'), '4.2.2.2 rich');
  assert.equal(resolveSection(idx, [4, 2, 2, 2])?.part.subtype, 'richtext');
});

test('sections that name no part', () => {
  const idx = indexMessage(RFC_EXAMPLE);
  for (const p of [[0], [5], [1, 1], [2, 1], [3, 3], [4, 3], [4, 2, 3], [4, 2, 2, 3], [-1], [1.5], [3, 1, 1]]) {
    assert.equal(resolveSection(idx, p), null, p.join('.'));
  }
});

test('a non-multipart message: part 1 is the body, 1.MIME the header (RFC 9051 6.4.5)', () => {
  const raw = crlf('Subject: single', '', 'just text');
  const idx = indexMessage(raw);
  const r = resolveSection(idx, [1]);
  assert.ok(r !== null);
  assert.deepEqual(slice(raw, ...r.body), 'just text');
  assert.ok(r.mime !== null);
  assert.deepEqual(slice(raw, ...r.mime), 'Subject: single\r\n\r\n');
  assert.equal(resolveSection(idx, [2]), null);
  assert.equal(resolveSection(idx, [1, 1]), null);
});

test('message/rfc822 holding a single-part message: 2.1 is the embedded body', () => {
  const raw = crlf('Content-Type: multipart/mixed; boundary=b', '', '--b', '', 'one', '--b', 'Content-Type: message/rfc822', '', 'Subject: in', '', 'inner text', '--b--');
  const idx = indexMessage(raw);
  const r = resolveSection(idx, [2, 1]);
  assert.ok(r !== null);
  assert.equal(slice(raw, ...r.body), 'inner text');
  assert.ok(r.mime !== null);
  assert.equal(slice(raw, ...r.mime), 'Subject: in\r\n\r\n');
  const two = resolveSection(idx, [2]);
  assert.ok(two?.text != null);
  assert.equal(slice(raw, ...two.text), 'inner text');
});

test('a multipart with no parts has no part 1', () => {
  const idx = indexMessage(crlf('Content-Type: multipart/mixed; boundary=x', '', 'nothing'));
  assert.equal(resolveSection(idx, [1]), null);
});
