import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineParser, parseCommand } from './parser.js';

test('lines end at CRLF or bare LF, in any chunking', () => {
  const p = new LineParser(255);
  assert.deepEqual(p.push(Buffer.from('USER a')), []);
  assert.deepEqual(p.push(Buffer.from('\r\nPASS b c\nNO')), [
    { kind: 'line', text: 'USER a' },
    { kind: 'line', text: 'PASS b c' },
  ]);
  assert.deepEqual(p.push(Buffer.from('OP\r')), []);
  assert.deepEqual(p.push(Buffer.from('\n')), [{ kind: 'line', text: 'NOOP' }]);
});

test('a line over the limit (CRLF included, RFC 2449 4) is refused once and skipped', () => {
  const p = new LineParser(10);
  assert.deepEqual(p.push(Buffer.from('12345678\r\n')), [{ kind: 'line', text: '12345678' }]);
  assert.deepEqual(p.push(Buffer.from('123456789\r\nNOOP\r\n')), [{ kind: 'too-long' }, { kind: 'line', text: 'NOOP' }]);
  assert.deepEqual(p.push(Buffer.from('x'.repeat(30))), []);
  assert.deepEqual(p.push(Buffer.from('y'.repeat(30))), []);
  assert.deepEqual(p.push(Buffer.from('z\r\nSTAT\r\n')), [{ kind: 'too-long' }, { kind: 'line', text: 'STAT' }]);
});

test('commands: case-insensitive keyword, forgiving spaces, PASS keeps its spaces', () => {
  assert.deepEqual(parseCommand('list 1'), { keyword: 'LIST', args: ['1'], rest: '1' });
  assert.deepEqual(parseCommand('TOP  1   0 '), { keyword: 'TOP', args: ['1', '0'], rest: ' 1   0 ' });
  assert.equal(parseCommand('PASS  two words ')!.rest, ' two words ');
  assert.equal(parseCommand(''), undefined);
  assert.equal(parseCommand('   '), undefined);
  assert.equal(parseCommand('\x01\x02'), undefined);
});
