// Failed-login throttling shared by every protocol (SMTP AUTH, POP3, IMAP, webmail,
// ManageSieve), every worker process and every farm node: the counters live in the
// store, so a failure on one protocol or node counts for all of them.
//
// Rules:
// - Per client address: past `maxFailuresPerIp` failures within the window the
//   address is refused outright ("throttled") without the password being checked.
//   A successful login does not reset it: one good password must not reopen a
//   source that sprays guesses at many accounts.
// - Per login name: failures slow the answers down (doubling delay after
//   `failuresBeforeDelay`) and, past `maxFailuresPerAccount` (set well above the
//   per-address limit), refuse it for the rest of the window. The high limit keeps
//   a distributed guesser at a few dozen tries per window without letting one
//   address lock an owner out. A successful login resets the name's count.
// - Counting keys: `ip:<address>` and `login:<lowercased name>`.

import type { Store } from '../store/store.js';

export interface ThrottleLimits {
  maxFailuresPerIp: number;
  maxFailuresPerAccount: number;
  /** Window over which failures are counted, from the first one. */
  windowMs: number;
  /** Failures answered without delay before the delay starts. */
  failuresBeforeDelay: number;
  /** First delay; doubles with each further failure up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_THROTTLE: ThrottleLimits = {
  maxFailuresPerIp: 20,
  maxFailuresPerAccount: 50,
  windowMs: 15 * 60_000,
  failuresBeforeDelay: 5,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
};

export interface ThrottleLogger {
  warn(o: object, msg?: string): void;
}

export interface FailureOutcome {
  /** How long the protocol should wait before answering the failure. */
  delayMs: number;
  /** This failure reached a limit: the address or the name is refused from now on. */
  lockedNow: boolean;
}

export class LoginThrottle {
  private lastPrune = 0;
  constructor(
    private readonly store: Store,
    readonly limits: ThrottleLimits = DEFAULT_THROTTLE,
    private readonly logger?: ThrottleLogger,
  ) {}

  /** True when the address or the login name is refused for now. */
  async isBlocked(ip: string, login: string): Promise<boolean> {
    const [byIp = 0, byLogin = 0] = await this.store.countAuthFailures(keys(ip, login), this.limits.windowMs);
    return byIp >= this.limits.maxFailuresPerIp || byLogin >= this.limits.maxFailuresPerAccount;
  }

  /** The delay to apply to an answer now, from the failures counted so far. */
  async currentDelay(ip: string, login: string): Promise<number> {
    const counts = await this.store.countAuthFailures(keys(ip, login), this.limits.windowMs);
    return this.delayFor(Math.max(...counts));
  }

  async recordFailure(ip: string, login: string): Promise<FailureOutcome> {
    const [byIp = 0, byLogin = 0] = await this.store.recordAuthFailures(keys(ip, login), this.limits.windowMs);
    const lockedIp = byIp === this.limits.maxFailuresPerIp;
    const lockedLogin = byLogin === this.limits.maxFailuresPerAccount;
    if (lockedIp || lockedLogin) {
      this.logger?.warn(
        { ip, login, failuresFromIp: byIp, failuresForLogin: byLogin, windowSeconds: this.limits.windowMs / 1000 },
        lockedIp ? 'login throttle: address refused after repeated failures' : 'login throttle: login name refused after repeated failures',
      );
    }
    this.pruneNowAndThen();
    return { delayMs: this.delayFor(Math.max(byIp, byLogin)), lockedNow: lockedIp || lockedLogin };
  }

  async recordSuccess(_ip: string, login: string): Promise<void> {
    await this.store.clearAuthFailures([`login:${normalise(login)}`]);
  }

  private delayFor(failures: number): number {
    const over = failures - this.limits.failuresBeforeDelay;
    if (over <= 0) return 0;
    return Math.min(this.limits.maxDelayMs, this.limits.baseDelayMs * 2 ** Math.min(over - 1, 20));
  }

  /** Expired counters are dropped at most once per window, in the background. */
  private pruneNowAndThen(): void {
    const now = Date.now();
    if (now - this.lastPrune < this.limits.windowMs) return;
    this.lastPrune = now;
    this.store.pruneAuthFailures(this.limits.windowMs).catch((err: unknown) => this.logger?.warn({ err }, 'login throttle: pruning expired counters failed'));
  }
}

function normalise(login: string): string {
  return login.trim().toLowerCase();
}

function keys(ip: string, login: string): [string, string] {
  return [`ip:${ip}`, `login:${normalise(login)}`];
}

const configured = new WeakMap<Store, LoginThrottle>();

/** Sets the limits (and the logger) used by every login checked against `store`. */
export function configureLoginThrottle(store: Store, limits: ThrottleLimits, logger?: ThrottleLogger): LoginThrottle {
  const throttle = new LoginThrottle(store, limits, logger);
  configured.set(store, throttle);
  return throttle;
}

/** The throttle for logins against `store`: the configured one, or one with the defaults. */
export function loginThrottleFor(store: Store): LoginThrottle {
  let throttle = configured.get(store);
  if (!throttle) {
    throttle = new LoginThrottle(store);
    configured.set(store, throttle);
  }
  return throttle;
}
