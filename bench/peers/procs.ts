// CPU seconds and peak memory of a server that may be a tree of processes (Dovecot
// forks one process per connection, Postfix one per service), read from /proc.
//
// CPU: for every live process of the tree, utime + stime + cutime + cstime. A child
// that exited and was reaped moved its time (and its own children's) into its
// parent's cutime/cstime, so the sum over the live tree counts every process that
// ever belonged to it; the CPU of a run is the difference of that sum at its end
// and at its start.
// Memory: the tree's proportional set size (PSS, /proc/PID/smaps_rollup: a shared
// page counts 1/n in each of the n processes mapping it), sampled every 100 ms; the
// peak is the largest sample. The summed RSS is sampled too and reported beside it:
// it counts the shared libraries and shared memory of a forking server once per
// process, so it overstates a tree of many processes.

import { readFileSync, readdirSync } from 'node:fs';

const TICK = 100; // USER_HZ on Linux

interface Stat {
  pid: number;
  ppid: number;
  ticks: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
    return { pid, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}

/** Every live process whose ancestry reaches one of the roots (the roots included). */
export function treeOf(roots: number[]): Stat[] {
  const all: Stat[] = [];
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    const st = readStat(Number(name));
    if (st) all.push(st);
  }
  const byParent = new Map<number, Stat[]>();
  for (const st of all) {
    const list = byParent.get(st.ppid);
    if (list) list.push(st);
    else byParent.set(st.ppid, [st]);
  }
  const out: Stat[] = [];
  const queue = all.filter((st) => roots.includes(st.pid));
  while (queue.length > 0) {
    const st = queue.pop()!;
    out.push(st);
    queue.push(...(byParent.get(st.pid) ?? []));
  }
  return out;
}

/** CPU seconds used so far by the tree (see the top of the file). */
export function treeCpuSeconds(roots: number[]): number {
  return treeOf(roots).reduce((sum, st) => sum + st.ticks, 0) / TICK;
}

function kib(pid: number, file: string, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'latin1'));
    return Number(m?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The tree's memory now, in bytes: PSS summed over its processes, and RSS summed (which counts shared pages once per process). */
export function treeMemory(roots: number[]): { pss: number; rss: number; processes: number } {
  const tree = treeOf(roots);
  let pss = 0;
  let rss = 0;
  for (const st of tree) {
    pss += kib(st.pid, 'smaps_rollup', 'Pss');
    rss += kib(st.pid, 'status', 'VmRSS');
  }
  return { pss: pss * 1024, rss: rss * 1024, processes: tree.length };
}

export interface Usage {
  cpuSeconds: number;
  /** Largest PSS sample of the tree during the window, bytes. */
  peakPss: number;
  /** Largest summed-RSS sample of the tree during the window, bytes. */
  peakRss: number;
  /** Largest number of processes seen in the tree. */
  peakProcesses: number;
}

/** Starts measuring the trees rooted at `roots`; `stop()` ends the window. */
export function measure(roots: () => number[], intervalMs = 100): { stop(): Usage } {
  const cpu0 = treeCpuSeconds(roots());
  let peakPss = 0;
  let peakRss = 0;
  let peakProcesses = 0;
  const sample = () => {
    const m = treeMemory(roots());
    peakPss = Math.max(peakPss, m.pss);
    peakRss = Math.max(peakRss, m.rss);
    peakProcesses = Math.max(peakProcesses, m.processes);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { cpuSeconds: treeCpuSeconds(roots()) - cpu0, peakPss, peakRss, peakProcesses };
    },
  };
}
