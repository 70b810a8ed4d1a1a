// Failed-AUTH throttling for submission (RFC 4954 leaves it to the server; RFC 6409
// 8 asks for it). Each failure per client IP and per account name increases the delay
// before the 535 reply; past a threshold the IP or the account is locked for a while
// and every attempt gets 454 4.7.0 without checking the password.
//
// The counters live in this process. The shared authenticator (auth/) keeps the
// cross-process throttle; this layer only slows one process's clients down.

export interface AuthThrottleConfig {
  /** Failures per account name within the window before it is locked. */
  maxFailuresPerAccount: number;
  /** Failures per client IP within the window before it is locked. */
  maxFailuresPerIp: number;
  windowMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_AUTH_THROTTLE: AuthThrottleConfig = {
  maxFailuresPerAccount: 5,
  maxFailuresPerIp: 20,
  windowMs: 15 * 60_000,
  baseDelayMs: 250,
  maxDelayMs: 5_000,
};

interface Counter {
  failures: number;
  windowStart: number;
  lockedUntil: number;
}

export class AuthThrottle {
  private readonly counters = new Map<string, Counter>();
  constructor(private readonly cfg: AuthThrottleConfig = DEFAULT_AUTH_THROTTLE) {}

  /** True while the IP or the account is locked out. */
  locked(ip: string, username: string, now = Date.now()): boolean {
    return this.get(`ip:${ip}`, now).lockedUntil > now || this.get(`user:${username.toLowerCase()}`, now).lockedUntil > now;
  }

  /** Records a failure; returns the delay before replying and whether it locked something now. */
  fail(ip: string, username: string, now = Date.now()): { delayMs: number; lockedNow: boolean } {
    const byIp = this.bump(`ip:${ip}`, this.cfg.maxFailuresPerIp, now);
    const byUser = this.bump(`user:${username.toLowerCase()}`, this.cfg.maxFailuresPerAccount, now);
    const n = Math.max(byIp.failures, byUser.failures);
    const delayMs = Math.min(this.cfg.maxDelayMs, this.cfg.baseDelayMs * 2 ** (n - 1));
    return { delayMs, lockedNow: byIp.lockedNow || byUser.lockedNow };
  }

  succeed(ip: string, username: string): void {
    this.counters.delete(`user:${username.toLowerCase()}`);
    // The IP keeps its count: one good login must not reset a password-spraying source.
  }

  private get(key: string, now: number): Counter {
    let c = this.counters.get(key);
    if (!c || (c.lockedUntil <= now && now - c.windowStart > this.cfg.windowMs)) {
      c = { failures: 0, windowStart: now, lockedUntil: 0 };
      if (this.counters.size > 100_000) this.counters.clear();
      this.counters.set(key, c);
    }
    return c;
  }

  private bump(key: string, max: number, now: number): { failures: number; lockedNow: boolean } {
    const c = this.get(key, now);
    c.failures++;
    const lockedNow = c.failures >= max && c.lockedUntil <= now;
    if (lockedNow) c.lockedUntil = now + this.cfg.windowMs;
    return { failures: c.failures, lockedNow };
  }
}
