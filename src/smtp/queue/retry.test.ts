import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextAttempt, retryDelay } from './retry.js';
import { statusOf } from './errors.js';

const MIN = 60_000;

test('retry delays: 5m, 10m, 30m, 1h, 2h, then every 4h', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 20].map((n) => retryDelay(n) / MIN), [5, 10, 30, 60, 120, 240, 240, 240]);
});

test('no next attempt past the maximum age', () => {
  const created = new Date(0);
  assert.equal(nextAttempt(created, 1, 60 * MIN, 0)?.getTime(), 5 * MIN);
  assert.equal(nextAttempt(created, 4, 60 * MIN, 10 * MIN), undefined);
});

test('enhanced status codes come from the reply, else from the basic code (RFC 3463)', () => {
  assert.equal(statusOf('550 5.1.1 no such user', 550), '5.1.1');
  assert.equal(statusOf('452-4.2.2 mailbox full', 452), '4.2.2');
  assert.equal(statusOf('554 go away', 554), '5.0.0');
  assert.equal(statusOf(undefined, undefined), '4.0.0');
});
