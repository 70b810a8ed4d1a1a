import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, verifyPassword } from './password.js';

test('hashes with argon2id and verifies the right password only', async () => {
  const h = await hashPassword('correct horse battery staple');
  assert.match(h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal(await verifyPassword(h, 'correct horse battery staple'), true);
  assert.equal(await verifyPassword(h, 'Correct horse battery staple'), false);
  assert.equal(await verifyPassword(h, ''), false);
});

test('the same password hashes differently each time (random salt)', async () => {
  const [a, b] = await Promise.all([hashPassword('pässwörd ✓'), hashPassword('pässwörd ✓')]);
  assert.notEqual(a, b);
  assert.equal(await verifyPassword(a, 'pässwörd ✓'), true);
  assert.equal(await verifyPassword(b, 'pässwörd ✓'), true);
});

test('a malformed stored hash never verifies and never throws', async () => {
  assert.equal(await verifyPassword('', 'x'), false);
  assert.equal(await verifyPassword('plain-text', 'plain-text'), false);
  assert.equal(await verifyPassword('$argon2id$garbage', 'x'), false);
});

test('hashing does not block the event loop', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  await Promise.all([hashPassword('a'), hashPassword('b'), hashPassword('c')]);
  clearInterval(timer);
  assert.ok(ticks > 0, 'timers ran while hashing');
});

test('an empty password is refused', async () => {
  await assert.rejects(hashPassword(''), /empty password/);
});
