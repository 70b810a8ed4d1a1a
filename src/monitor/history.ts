// Probe results kept in memory (the last N per component: this node's view when the store
// cannot be read) and the status derived from a run of results.
import { COMPONENTS, type Component, type ProbeResult } from './probes/index.js';

export const STATUSES = ['operational', 'degraded performance', 'partial outage', 'major outage', 'under maintenance', 'unknown'] as const;
export type ComponentStatus = (typeof STATUSES)[number];

export interface StatusThresholds {
  /** A successful run slower than this is degraded performance. */
  slowMs: number;
  /** This many failed runs in a row (every step failing) is a major outage. */
  failuresForMajor: number;
  /** Runs looked at for recent failures. */
  window: number;
}

export const DEFAULT_THRESHOLDS: StatusThresholds = { slowMs: 5000, failuresForMajor: 2, window: 5 };

/** What status derivation needs of one result (a ProbeResult, or a stored ProbeRecord). */
export interface StatusRun {
  ok: boolean;
  ms: number;
  /** Every step failed: nothing answered. */
  nothingAnswered: boolean;
}

export function toRun(r: ProbeResult | StatusRun): StatusRun {
  return 'nothingAnswered' in r ? r : { ok: r.ok, ms: r.ms, nothingAnswered: r.steps.every((s) => !s.ok) };
}

/**
 * - no result yet: unknown
 * - the last run passed: operational, or degraded performance when it was slow or a recent run failed
 * - the last run failed: major outage when every step failed in the last `failuresForMajor`
 *   runs (nothing answers), otherwise partial outage (one listener of several, or one step)
 */
export function deriveStatus(results: ReadonlyArray<ProbeResult | StatusRun>, thresholds: StatusThresholds = DEFAULT_THRESHOLDS): ComponentStatus {
  const recent = results.map(toRun);
  const last = recent.at(-1);
  if (!last) return 'unknown';
  const windowed = recent.slice(-thresholds.window);
  if (last.ok) return last.ms > thresholds.slowMs || windowed.some((r) => !r.ok) ? 'degraded performance' : 'operational';
  const tail = recent.slice(-thresholds.failuresForMajor);
  const dead = tail.length >= thresholds.failuresForMajor && tail.every((r) => r.nothingAnswered);
  return dead ? 'major outage' : 'partial outage';
}

export class ProbeHistory {
  private readonly results = new Map<Component, ProbeResult[]>();

  constructor(
    private readonly limit = 100,
    private readonly thresholds: StatusThresholds = DEFAULT_THRESHOLDS,
  ) {}

  add(result: ProbeResult): void {
    const list = this.results.get(result.component) ?? [];
    list.push(result);
    if (list.length > this.limit) list.splice(0, list.length - this.limit);
    this.results.set(result.component, list);
  }

  recent(component: Component): readonly ProbeResult[] {
    return this.results.get(component) ?? [];
  }

  latest(component: Component): ProbeResult | undefined {
    return this.recent(component).at(-1);
  }

  status(component: Component): ComponentStatus {
    return deriveStatus(this.recent(component), this.thresholds);
  }

  /** Components that have been probed at least once, in display order. */
  components(): Component[] {
    return COMPONENTS.filter((c) => this.results.has(c));
  }
}
