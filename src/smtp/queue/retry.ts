// When a deferred entry is tried again. The schedule follows common MTA practice
// (RFC 5321 4.5.4.1 asks for at least 30 minutes between retries to one destination
// after the first; the early short steps catch greylisting) and gives up at maxAgeMs
// (RFC 5321 4.5.4.1: "at least 4-5 days").

export const RETRY_STEPS_MS = [5, 10, 30, 60, 120, 240].map((m) => m * 60_000);
export const DEFAULT_MAX_AGE_MS = 5 * 24 * 3_600_000;

/** The delay after the `attempts`-th failed attempt (1-based); the last step repeats. */
export function retryDelay(attempts: number): number {
  const i = Math.min(Math.max(attempts, 1), RETRY_STEPS_MS.length) - 1;
  return RETRY_STEPS_MS[i] ?? RETRY_STEPS_MS[RETRY_STEPS_MS.length - 1]!;
}

/** The next attempt time, or undefined when the entry has been queued for too long. */
export function nextAttempt(createdAt: Date, attempts: number, maxAgeMs: number, now = Date.now()): Date | undefined {
  const at = now + retryDelay(attempts);
  if (at - createdAt.getTime() > maxAgeMs) return undefined;
  return new Date(at);
}
