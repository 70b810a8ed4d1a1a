// Describes the machine a benchmark ran on, for docs/benchmarks.md.
import os from 'node:os';

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${new Date().toISOString().slice(0, 10)} · ${os.cpus().length} × ${cpu.trim()} · ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM · Node.js ${process.version} · ${os.type()} ${os.release()}`;
}

/** The 1-minute load average against the cores: on a shared machine, how much else was running. */
export function loadLine(): string {
  return `load average ${os.loadavg()[0]?.toFixed(1) ?? '?'} on ${os.cpus().length} cores when the run started`;
}

/** Median time of one fsync of a fresh 10 KiB file on the data disk, in milliseconds. */
export async function fsyncLatencyMs(dir: string, samples = 100): Promise<number> {
  const fsp = await import('node:fs/promises');
  const path = await import('node:path');
  const join = (...parts: string[]) => path.join(...parts);
  const open = (p: string, flags: string) => fsp.open(p, flags);
  const tmp = await fsp.mkdtemp(join(dir, 'steadymail-fsync-'));
  const times: number[] = [];
  const data = Buffer.alloc(10 * 1024, 1);
  try {
    for (let i = 0; i < samples; i++) {
      const fh = await open(join(tmp, String(i)), 'w');
      await fh.write(data);
      const t = performance.now();
      await fh.sync();
      times.push(performance.now() - t);
      await fh.close();
    }
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}
