// Password authentication shared by POP3, IMAP, SMTP submission and webmail.
//
// Rules:
// - argon2id verification runs on libuv's thread pool (@node-rs/argon2 is
//   async), never on the event loop.
// - An unknown login costs the same work as a wrong password (a dummy verify),
//   so response times do not reveal which addresses exist.
// - A disabled account is reported only after the password was right, so a
//   guesser learns nothing from it.
// - Failures are throttled PER PROCESS for now: each worker process (and each
//   farm node) keeps its own counters, so an attacker spreading attempts over
//   N processes gets N times the budget. Moving the counters into the store
//   (like the POP3 lease) is the follow-up when that matters.

import { hash, verify } from '@node-rs/argon2';
import type { Account } from '../store/types.js';
import type { Store } from '../store/store.js';

export type AuthFailure = 'bad-credentials' | 'disabled' | 'throttled';

export type AuthResult =
  | { ok: true; account: Account }
  /** `delayMs`: how long the protocol should wait before answering the failure. */
  | { ok: false; failure: AuthFailure; delayMs: number };

export interface ThrottleLimits {
  /** Failures from one address within the window after which it is refused outright. */
  maxFailuresPerIp: number;
  /** Window over which failures are counted. */
  windowMs: number;
  /** Delay after the first failure; doubles with each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_THROTTLE: ThrottleLimits = {
  maxFailuresPerIp: 20,
  windowMs: 15 * 60_000,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
};

interface Counter {
  count: number;
  first: number;
}

/**
 * Counts failures per remote address and per account. An address that keeps
 * failing is refused; an account under attack from many addresses only slows
 * down (increasing delay), so an attacker cannot lock its owner out.
 */
export class LoginThrottle {
  private readonly byIp = new Map<string, Counter>();
  private readonly byAccount = new Map<string, Counter>();
  constructor(
    readonly limits: ThrottleLimits = DEFAULT_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {}

  private get(map: Map<string, Counter>, key: string): number {
    const c = map.get(key);
    if (!c) return 0;
    if (this.now() - c.first > this.limits.windowMs) {
      map.delete(key);
      return 0;
    }
    return c.count;
  }

  isBlocked(ip: string): boolean {
    return this.get(this.byIp, ip) >= this.limits.maxFailuresPerIp;
  }

  /** The delay to apply to a failure, given the failures counted so far. */
  delayFor(ip: string, login: string): number {
    const n = Math.max(this.get(this.byIp, ip), this.get(this.byAccount, login));
    if (n === 0) return 0;
    return Math.min(this.limits.maxDelayMs, this.limits.baseDelayMs * 2 ** Math.min(n - 1, 20));
  }

  recordFailure(ip: string, login: string): void {
    this.bump(this.byIp, ip);
    this.bump(this.byAccount, login);
  }

  recordSuccess(ip: string, login: string): void {
    this.byIp.delete(ip);
    this.byAccount.delete(login);
  }

  private bump(map: Map<string, Counter>, key: string): void {
    if (map.size > 100_000) this.prune(map);
    const current = this.get(map, key);
    if (current === 0) map.set(key, { count: 1, first: this.now() });
    else map.get(key)!.count = current + 1;
  }

  private prune(map: Map<string, Counter>): void {
    const cutoff = this.now() - this.limits.windowMs;
    for (const [k, c] of map) if (c.first < cutoff) map.delete(k);
  }
}

/** The process-wide throttle (see the note at the top of this file). */
export const processThrottle = new LoginThrottle();

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
  const throttle = options.throttle ?? processThrottle;
  const login = username.trim().toLowerCase();
  if (throttle.isBlocked(remoteAddress)) {
    return { ok: false, failure: 'throttled', delayMs: throttle.delayFor(remoteAddress, login) };
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
    throttle.recordFailure(remoteAddress, login);
    return { ok: false, failure: 'bad-credentials', delayMs: throttle.delayFor(remoteAddress, login) };
  }
  throttle.recordSuccess(remoteAddress, login);
  if (account.disabled) return { ok: false, failure: 'disabled', delayMs: 0 };
  return { ok: true, account };
}
