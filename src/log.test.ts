import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from './log.js';

function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

test('writes JSON lines with a level label and honours the configured level', () => {
  const out = capture();
  const log = createLogger({ level: 'warn' }, out.stream);
  log.info('hidden');
  log.warn({ listener: 'http' }, 'shown');
  const lines = out.lines();
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.level, 'warn');
  assert.equal(lines[0]?.msg, 'shown');
  assert.equal(lines[0]?.listener, 'http');
  assert.equal(typeof lines[0]?.time, 'string');
});
