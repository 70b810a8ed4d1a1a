// What the operator tools (the CLI and the console) share about sessions and traces:
// the trace duration syntax and which live rows still belong to a running process.

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** The longest trace one switch may run. */
export const TRACE_MAX_MS = 30 * 86_400_000;

/** A live row its process has not refreshed for this long belongs to a process that died. */
export const LIVE_SEEN_WINDOW_MS = 30_000;

/** `90s`, `30m`, `1h`, `2d` (or a number of minutes) → milliseconds; undefined when it is not one (or over 30 days). */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(text.trim());
  const value = m ? Number(m[1]) * (UNITS[m[2] || 'm'] ?? 60) * 1000 : NaN;
  return Number.isFinite(value) && value > 0 && value <= TRACE_MAX_MS ? value : undefined;
}

/** The cut-off for `listLiveSessions({ seenSince })`. */
export function liveSince(now = Date.now()): Date {
  return new Date(now - LIVE_SEEN_WINDOW_MS);
}
