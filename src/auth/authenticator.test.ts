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
    const throttle = new LoginThrottle({ maxFailuresPerIp: 3, windowMs: 60_000, baseDelayMs: 100, maxDelayMs: 250 });
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
