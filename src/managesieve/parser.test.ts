// ManageSieve framing: strings, literals in pieces, limits, and random input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineParser, encodeString } from './parser.js';

test('atoms, numbers, quoted strings with escapes, and literals split across chunks', () => {
  const p = new LineParser(1000, 1000);
  assert.deepEqual(p.push(Buffer.from('HAVESPACE "my \\"script\\"" 1234\r\n')), [
    { kind: 'line', tokens: [{ kind: 'atom', value: 'HAVESPACE' }, { kind: 'string', value: 'my "script"', literal: false }, { kind: 'number', value: 1234 }] },
  ]);
  const script = 'keep;\r\nstop;\r\n';
  const wire = Buffer.from(`PUTSCRIPT {4+}\r\nmain {${script.length}}\r\n${script}\r\n`);
  const out = [];
  for (let i = 0; i < wire.length; i += 3) out.push(...p.push(wire.subarray(i, i + 3)));
  assert.deepEqual(out, [
    { kind: 'line', tokens: [{ kind: 'atom', value: 'PUTSCRIPT' }, { kind: 'string', value: 'main', literal: true }, { kind: 'string', value: script, literal: true }] },
  ]);
});

test('limits and malformed lines are reported and the parser resynchronises', () => {
  const p = new LineParser(20, 10);
  assert.deepEqual(p.push(Buffer.from('X "abc\r\nNOOP\r\n')), [{ kind: 'bad', message: 'Unterminated quoted string' }, { kind: 'line', tokens: [{ kind: 'atom', value: 'NOOP' }] }]);
  assert.deepEqual(p.push(Buffer.from('PUTSCRIPT "a" {11+}\r\n12345678901\r\nNOOP\r\n')), [{ kind: 'too-large', command: 'PUTSCRIPT', size: 11 }, { kind: 'line', tokens: [{ kind: 'atom', value: 'NOOP' }] }]);
  assert.deepEqual(p.push(Buffer.from('x'.repeat(30))), [{ kind: 'bad', message: 'Line too long' }]);
  assert.deepEqual(p.push(Buffer.from('\r\nNOOP\r\n')).at(-1), { kind: 'line', tokens: [{ kind: 'atom', value: 'NOOP' }] });
  assert.deepEqual(p.push(Buffer.from('A "\\x"\r\n')), [{ kind: 'bad', message: 'Bad escape in quoted string' }]);
});

test('random input never throws', () => {
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const alphabet = ['{', '}', '+', '"', '\\', '\r\n', '\n', ' ', 'A', '5', '{3+}\r\n', '{99999999}\r\n'];
  const p = new LineParser(100, 50);
  for (let i = 0; i < 5000; i++) {
    let s = '';
    for (let j = 0; j < 20; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    p.push(Buffer.from(s));
  }
});

test('response strings: quoted when simple, literal when they hold line breaks', () => {
  assert.equal(encodeString('plain'), '"plain"');
  assert.equal(encodeString('a "q" \\'), '"a \\"q\\" \\\\"');
  assert.equal(encodeString('two\r\nlines'), '{10}\r\ntwo\r\nlines');
});
