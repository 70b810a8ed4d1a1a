// Whether the external engines answer. A filter that fails open still delivers mail,
// so an unanswered engine must show somewhere: here, read by the monitoring.

export type EngineName = 'rspamd' | 'clamav';

export interface EngineState {
  ok: boolean;
  /** When the current state began. */
  since: Date;
  lastError: string | null;
}

export interface FilterStatus {
  status: 'ok' | 'degraded';
  engines: Partial<Record<EngineName, EngineState>>;
}

export class FilterHealth {
  private readonly engines = new Map<EngineName, EngineState>();
  constructor(private readonly onChange: (engine: EngineName, state: EngineState) => void = () => undefined) {}

  /** Registers an engine as configured (and presumed up until it fails). */
  watch(engine: EngineName): void {
    if (!this.engines.has(engine)) this.engines.set(engine, { ok: true, since: new Date(), lastError: null });
  }

  up(engine: EngineName): void {
    const s = this.engines.get(engine);
    if (s && s.ok) return;
    const next = { ok: true, since: new Date(), lastError: s?.lastError ?? null };
    this.engines.set(engine, next);
    this.onChange(engine, next);
  }

  down(engine: EngineName, error: string): void {
    const s = this.engines.get(engine);
    if (s && !s.ok) {
      s.lastError = error;
      return;
    }
    const next = { ok: false, since: new Date(), lastError: error };
    this.engines.set(engine, next);
    this.onChange(engine, next);
  }

  status(): FilterStatus {
    const engines = Object.fromEntries([...this.engines].map(([k, v]) => [k, { ...v }]));
    return { status: [...this.engines.values()].every((s) => s.ok) ? 'ok' : 'degraded', engines };
  }
}
