import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash } from '@node-rs/argon2';
import { openStore } from '../store/open.js';
import { LoginThrottle, authenticate } from './authenticator.js';

test('authenticate: good, wrong, unknown, disabled, throttled', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-auth-'));
  const store = await openStore({ driver: 'sqlite', dataDir: dir });
  try {
    await store.createDomain('x.org');
    const acct = await store.createAccount({ address: 'u@x.org', passwordHash: await hash('pw', { memoryCost: 1024, timeCost: 1 }) });
    const throttle = new LoginThrottle(store, { maxFailuresPerIp: 3, maxFailuresPerAccount: 100, windowMs: 60_000, failuresBeforeDelay: 0, baseDelayMs: 100, maxDelayMs: 250 });
    const ok = await authenticate(store, 'U@x.org', 'pw', '10.0.0.1', { throttle });
    assert.equal(ok.ok && ok.account.id, acct.id);
    const wrong = await authenticate(store, 'u@x.org', 'nope', '10.0.0.1', { throttle });
    assert.deepEqual(wrong, { ok: false, failure: 'bad-credentials', delayMs: 100 });
    const unknown = await authenticate(store, 'who@x.org', 'pw', '10.0.0.2', { throttle });
    assert.equal(!unknown.ok && unknown.failure, 'bad-credentials');
    // Delays grow with repeated failures, up to the maximum.
    const again = await authenticate(store, 'u@x.org', 'nope', '10.0.0.1', { throttle });
    assert.equal(!again.ok && again.delayMs, 200);
    const third = await authenticate(store, 'u@x.org', 'nope', '10.0.0.1', { throttle });
    assert.equal(!third.ok && third.delayMs, 250);
    // The address is now refused outright, even with the right password.
    const blocked = await authenticate(store, 'u@x.org', 'pw', '10.0.0.1', { throttle });
    assert.equal(!blocked.ok && blocked.failure, 'throttled');
    // Another address still gets in (the account is slowed, never locked).
    assert.equal((await authenticate(store, 'u@x.org', 'pw', '10.0.0.3', { throttle })).ok, true);
    await store.updateAccount(acct.id, { disabled: true });
    const disabled = await authenticate(store, 'u@x.org', 'pw', '10.0.0.4', { throttle });
    assert.equal(!disabled.ok && disabled.failure, 'disabled');
    const disabledWrong = await authenticate(store, 'u@x.org', 'bad', '10.0.0.4', { throttle });
    assert.equal(!disabledWrong.ok && disabledWrong.failure, 'bad-credentials', 'a disabled account is not revealed to a wrong password');
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('failures count across store handles (worker processes, farm nodes), and a login name is refused past its own limit', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-auth-'));
  // Two handles on one data directory, as two worker processes have.
  const a = await openStore({ driver: 'sqlite', dataDir: dir });
  const b = await openStore({ driver: 'sqlite', dataDir: dir });
  try {
    await a.createDomain('x.org');
    await a.createAccount({ address: 'u@x.org', passwordHash: await hash('pw', { memoryCost: 1024, timeCost: 1 }) });
    const limits = { maxFailuresPerIp: 4, maxFailuresPerAccount: 6, windowMs: 60_000, failuresBeforeDelay: 2, baseDelayMs: 10, maxDelayMs: 1000 };
    const onA = new LoginThrottle(a, limits);
    const onB = new LoginThrottle(b, limits);
    const delays: number[] = [];
    for (const [i, store, throttle] of [[1, a, onA], [2, b, onB], [3, a, onA], [4, b, onB]] as const) {
      const r = await authenticate(store, 'u@x.org', 'wrong', '10.0.0.9', { throttle });
      assert.equal(!r.ok && r.failure, 'bad-credentials', `failure ${i}`);
      delays.push(r.ok ? -1 : r.delayMs);
    }
    assert.deepEqual(delays, [0, 0, 10, 20], 'no delay for the first failures, then doubling, counted across handles');
    const refused = await authenticate(b, 'u@x.org', 'pw', '10.0.0.9', { throttle: onB });
    assert.equal(!refused.ok && refused.failure, 'throttled', 'the address is refused on the other handle too');

    // Many addresses against one name: refused once the name's own limit is reached.
    for (const ip of ['10.1.0.1', '10.1.0.2']) {
      const r = await authenticate(a, 'u@x.org', 'wrong', ip, { throttle: onA });
      assert.equal(!r.ok && r.failure, 'bad-credentials');
    }
    const nameRefused = await authenticate(b, 'u@x.org', 'pw', '10.1.0.3', { throttle: onB });
    assert.equal(!nameRefused.ok && nameRefused.failure, 'throttled');
    // Another name from a fresh address is unaffected.
    await a.createAccount({ address: 'v@x.org', passwordHash: await hash('pw2', { memoryCost: 1024, timeCost: 1 }) });
    assert.equal((await authenticate(b, 'v@x.org', 'pw2', '10.1.0.3', { throttle: onB })).ok, true);
  } finally {
    await a.close();
    await b.close();
    await rm(dir, { recursive: true, force: true });
  }
});
