// A progress bar on stderr, only when stderr is a terminal: scripts and logs get
// the summary alone, and stdout stays clean for --json.
import cliProgress from 'cli-progress';

export interface Progress {
  update(phase: string, done: number, total: number): void;
  stop(): void;
}

export function progressBar(): Progress {
  if (process.stderr.isTTY !== true) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: '{phase} [{bar}] {value}/{total}', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let phase: string | undefined;
  return {
    update(next, done, total) {
      if (next !== phase) {
        if (phase !== undefined) bar.stop();
        phase = next;
        bar.start(total, done, { phase });
        return;
      }
      bar.setTotal(total);
      bar.update(done, { phase });
    },
    stop() {
      if (phase !== undefined) bar.stop();
    },
  };
}
