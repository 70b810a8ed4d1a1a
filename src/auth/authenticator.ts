// Password authentication shared by POP3, IMAP, SMTP submission and webmail.
//
// Rules:
// - argon2id verification runs on libuv's thread pool (@node-rs/argon2 is
//   async), never on the event loop.
// - An unknown login costs the same work as a wrong password (a dummy verify),
//   so response times do not reveal which addresses exist.
// - A disabled account is reported only after the password was right, so a
//   guesser learns nothing from it.
// - Failures are throttled through the store (./throttle.ts), so they count across
//   protocols, worker processes and farm nodes.

import { hash, verify } from '@node-rs/argon2';
import type { Account } from '../store/types.js';
import type { Store } from '../store/store.js';
import { loginThrottleFor, type LoginThrottle } from './throttle.js';

export { DEFAULT_THROTTLE, LoginThrottle, configureLoginThrottle, loginThrottleFor, type ThrottleLimits } from './throttle.js';

export type AuthFailure = 'bad-credentials' | 'disabled' | 'throttled';

export type AuthResult =
  | { ok: true; account: Account }
  /** `delayMs`: how long the protocol should wait before answering the failure. */
  | { ok: false; failure: AuthFailure; delayMs: number };

let dummyHash: Promise<string> | undefined;
function dummy(): Promise<string> {
  dummyHash ??= hash('steadymail-dummy-password-for-timing');
  return dummyHash;
}

export interface AuthenticateOptions {
  throttle?: LoginThrottle;
}

export async function authenticate(
  store: Store,
  username: string,
  password: string,
  remoteAddress: string,
  options: AuthenticateOptions = {},
): Promise<AuthResult> {
  const throttle = options.throttle ?? loginThrottleFor(store);
  const login = username.trim().toLowerCase();
  if (await throttle.isBlocked(remoteAddress, login)) {
    return { ok: false, failure: 'throttled', delayMs: await throttle.currentDelay(remoteAddress, login) };
  }
  const account = login.includes('@') ? await store.getAccount(login) : undefined;
  let good = false;
  try {
    good = await verify(account?.passwordHash ?? (await dummy()), password);
  } catch {
    // A malformed stored hash is a failed login, not a crash.
    good = false;
  }
  if (!account || !good) {
    const { delayMs } = await throttle.recordFailure(remoteAddress, login);
    return { ok: false, failure: 'bad-credentials', delayMs };
  }
  await throttle.recordSuccess(remoteAddress, login);
  if (account.disabled) return { ok: false, failure: 'disabled', delayMs: 0 };
  return { ok: true, account };
}
