import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthThrottle } from './auth-throttle.js';

const cfg = { maxFailuresPerAccount: 3, maxFailuresPerIp: 5, windowMs: 60_000, baseDelayMs: 100, maxDelayMs: 350 };

test('the delay doubles with each failure up to the cap; the account locks at its threshold', () => {
  const t = new AuthThrottle(cfg);
  assert.deepEqual(t.fail('192.0.2.1', 'a@x', 0), { delayMs: 100, lockedNow: false });
  assert.deepEqual(t.fail('192.0.2.1', 'a@x', 1), { delayMs: 200, lockedNow: false });
  assert.deepEqual(t.fail('192.0.2.1', 'a@x', 2), { delayMs: 350, lockedNow: true });
  assert.equal(t.locked('192.0.2.9', 'A@X', 3), true, 'locked for every IP, whatever the case');
  assert.equal(t.locked('192.0.2.9', 'b@x', 3), false);
  assert.equal(t.locked('192.0.2.9', 'a@x', 60_003), false, 'the lock expires');
});

test('one IP guessing many accounts is locked by the per-IP threshold', () => {
  const t = new AuthThrottle(cfg);
  for (let i = 0; i < 4; i++) assert.equal(t.fail('198.51.100.1', `u${i}@x`, i).lockedNow, false);
  assert.equal(t.fail('198.51.100.1', 'u9@x', 5).lockedNow, true);
  assert.equal(t.locked('198.51.100.1', 'new@x', 6), true);
});

test('success clears the account count but not the IP count', () => {
  const t = new AuthThrottle(cfg);
  t.fail('192.0.2.1', 'a@x', 0);
  t.fail('192.0.2.1', 'a@x', 1);
  t.succeed('192.0.2.1', 'a@x');
  assert.equal(t.fail('192.0.2.1', 'a@x', 2).lockedNow, false, 'account count restarted (1 of 3)');
  assert.equal(t.fail('192.0.2.1', 'a@x', 3).lockedNow, false, 'account 2 of 3, IP 4 of 5');
  assert.equal(t.fail('192.0.2.1', 'b@x', 4).lockedNow, true, 'the IP reaches 5: its earlier failures still count');
});
