// Describes the machine a benchmark ran on, for docs/benchmarks.md.
import os from 'node:os';

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${new Date().toISOString().slice(0, 10)} · ${os.cpus().length} × ${cpu.trim()} · ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM · Node.js ${process.version} · ${os.type()} ${os.release()}`;
}
