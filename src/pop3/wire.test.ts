import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireEncoder, encodeMessage, onlyCrlfLineEnds, wireSizeOf } from './wire.js';

const enc = (s: string, top?: number): string => encodeMessage(Buffer.from(s, 'latin1'), top).toString('latin1');

test('CRLF normalisation: CRLF, bare LF and bare CR each end one line', () => {
  assert.equal(enc('A: 1\r\n\r\nx\r\n'), 'A: 1\r\n\r\nx\r\n');
  assert.equal(enc('A: 1\n\nx\ny\n'), 'A: 1\r\n\r\nx\r\ny\r\n');
  assert.equal(enc('A: 1\r\rx\r'), 'A: 1\r\n\r\nx\r\n');
});

test('dot-stuffing of lines that start with a dot (RFC 1939 3)', () => {
  assert.equal(enc('A: 1\r\n\r\n.\r\n..x\r\nx.\r\n.'), 'A: 1\r\n\r\n..\r\n...x\r\nx.\r\n..\r\n');
});

test('NUL becomes 0x80 (Dovecot outlook-no-nuls)', () => {
  assert.deepEqual(encodeMessage(Buffer.from('A: 1\r\n\r\na\0b\r\n', 'latin1')), Buffer.from('A: 1\r\n\r\na\x80b\r\n', 'latin1'));
});

test('an empty line is added when the message has none, and a final CRLF when missing', () => {
  assert.equal(enc('Subject: x'), 'Subject: x\r\n\r\n');
  assert.equal(enc('Subject: x\r\n'), 'Subject: x\r\n\r\n');
  assert.equal(enc(''), '\r\n');
  assert.equal(enc('A: 1\r\n\r\nbody'), 'A: 1\r\n\r\nbody\r\n');
});

test('TOP n: headers, the empty line and n body lines (RFC 1939 7)', () => {
  const m = 'A: 1\r\nB: 2\r\n\r\nl1\r\n.l2\r\nl3\r\n';
  assert.equal(enc(m, 0), 'A: 1\r\nB: 2\r\n\r\n');
  assert.equal(enc(m, 2), 'A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n');
  assert.equal(enc(m, 99), 'A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n');
  assert.equal(enc('A: 1', 0), 'A: 1\r\n\r\n');
});

test('a message already in wire form passes through unchanged, and still gets its terminator right', () => {
  const raw = Buffer.from('A: 1\r\n\r\n' + 'line of text\r\n'.repeat(1000));
  assert.deepEqual(encodeMessage(raw), raw);
  const noEnd = Buffer.from('A: 1\r\n\r\nlast line');
  assert.equal(encodeMessage(noEnd).toString(), 'A: 1\r\n\r\nlast line\r\n');
});

test('chunk boundaries anywhere give the same bytes and the counted size matches', async () => {
  const samples = [
    'A: 1\r\n\r\nplain\r\nbody\r\n\r\nlines\r\n',
    'A: 1\r\n\r\nplain\r\nbody\r\n.dot\r\nx\r\n',
    'A: 1\r\n\r\nplain\r\nbo\0dy\r\nend',
    'A: 1\r\n\r\nplain\r\nbare\nlf\r\n',
    'A: 1\r\n\r\nplain\r\nbare\rcr\r\n',
    'A: 1\r\n\r\n\nplain\r\n',
    'A: 1\r\n\r\n.x\r\n\r\n.\r\n', 'A: 1\n.\n\r\r\n\0.', 'X: y\r', '\r\n\r\n..\r\n', 'a'.repeat(50) + '\n.' + '\r\n'.repeat(5)];
  for (const s of samples) {
    const whole = encodeMessage(Buffer.from(s, 'latin1'));
    for (let cut = 0; cut <= s.length; cut++) {
      for (const cut2 of [cut, Math.min(s.length, cut + 1), Math.min(s.length, cut + 3)]) {
        const e = new WireEncoder();
        const parts = [s.slice(0, cut), s.slice(cut, cut2), s.slice(cut2)].map((p) => Buffer.from(p, 'latin1'));
        const out = Buffer.concat([...parts.map((p) => e.write(p)), e.end()]);
        assert.deepEqual(out, whole, `sample ${JSON.stringify(s)} cut at ${cut}/${cut2}`);
        assert.equal(e.total, whole.length);
      }
    }
    for (const top of [0, 1, 2, 5]) {
      const e = new WireEncoder(top);
      const whole2 = encodeMessage(Buffer.from(s, 'latin1'), top);
      const out = Buffer.concat([...[...s].map((ch) => e.write(Buffer.from(ch, 'latin1'))), e.end()]);
      assert.deepEqual(out, whole2, `TOP ${top} of ${JSON.stringify(s)} byte by byte`);
    }
    const counted = await wireSizeOf((async function* () {
      for (const ch of s) yield Buffer.from(ch, 'latin1');
    })());
    assert.equal(counted, whole.length);
  }
});

test('onlyCrlfLineEnds agrees with a regular expression for bare CR and LF on random chunks', () => {
  const bare = /[^\r]\n|\r[^\n]|^\n|\r$/;
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const alphabet = [0x0d, 0x0a, 0x41, 0x2e, 0x20];
  for (let n = 0; n < 5000; n++) {
    const len = Math.floor(rnd() * 12);
    const b = Buffer.from(Array.from({ length: len }, () => alphabet[Math.floor(rnd() * alphabet.length)]!));
    assert.equal(onlyCrlfLineEnds(b), !bare.test(b.toString('latin1')), JSON.stringify(b.toString('latin1')));
  }
  assert.equal(onlyCrlfLineEnds(Buffer.from('a\r\nb\r\n')), true);
  assert.equal(onlyCrlfLineEnds(Buffer.from('a\r\nb\r')), false, 'a CR at the end may be half of a line end');
});
