import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineDeadline } from './line-deadline.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a line started and not finished within the deadline expires; finished lines never do', async () => {
  let expired = 0;
  const d = new LineDeadline(60, () => expired++);
  d.feed(Buffer.from('NOOP\r\n'));
  await sleep(90);
  assert.equal(expired, 0, 'complete lines start nothing');
  d.feed(Buffer.from('US'));
  await sleep(30);
  d.feed(Buffer.from('E')); // a dribbled byte does not restart the clock
  await sleep(50);
  assert.equal(expired, 1);
  d.feed(Buffer.from('R x\r\nPA'));
  await sleep(30);
  d.feed(Buffer.from('SS y\r\n'));
  await sleep(60);
  assert.equal(expired, 1, 'the line was finished in time');
  d.stop();
});

test('an exempt phase (an IMAP literal) postpones the deadline', async () => {
  let expired = 0;
  let literal = true;
  const d = new LineDeadline(30, () => expired++, () => literal);
  d.feed(Buffer.from('abc'));
  await sleep(80);
  assert.equal(expired, 0);
  literal = false;
  await sleep(50);
  assert.equal(expired, 1);
});
