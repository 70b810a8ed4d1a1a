// What a probe run reports: one result per component, each with timed steps.

export const COMPONENTS = ['smtp', 'submission', 'pop3', 'imap', 'http', 'delivery', 'store'] as const;
export type Component = (typeof COMPONENTS)[number];

export const COMPONENT_TITLES: Record<Component, string> = {
  smtp: 'Incoming mail (SMTP)',
  submission: 'Sending mail (submission)',
  pop3: 'POP3',
  imap: 'IMAP',
  http: 'Web (HTTP)',
  delivery: 'End-to-end delivery',
  store: 'Mail storage',
};

export interface StepResult {
  /** `banner`, `ehlo`, `starttls`, `login`, `submit`, `imap-arrival`, … (prefixed by the listener when a component has several). */
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export interface ProbeResult {
  component: Component;
  at: Date;
  ok: boolean;
  /** Total time of all steps. */
  ms: number;
  steps: StepResult[];
  /** Days until the TLS certificate a listener presented expires, by listener. */
  certificateDaysLeft?: Record<string, number>;
}

/** Runs steps in order, timing each; the first failure ends the run. */
export class StepRecorder {
  readonly steps: StepResult[] = [];

  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const value = await fn();
      this.steps.push({ name, ok: true, ms: performance.now() - started });
      return value;
    } catch (err) {
      this.steps.push({ name, ok: false, ms: performance.now() - started, error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  }

  /** Runs a group whose failure is recorded but does not abort the caller. */
  async attempt(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch {
      // recorded by step()
    }
  }

  result(component: Component, extra: Partial<Pick<ProbeResult, 'certificateDaysLeft'>> = {}): ProbeResult {
    return {
      component,
      at: new Date(),
      ok: this.steps.length > 0 && this.steps.every((s) => s.ok),
      ms: this.steps.reduce((sum, s) => sum + s.ms, 0),
      steps: this.steps,
      ...extra,
    };
  }
}
