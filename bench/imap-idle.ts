// Memory of the IMAP server per connection sitting in IDLE. The server runs in a
// child process (this file with `--server`), so its RSS and heap are its own; the
// clients are raw sockets in this process that log in, SELECT INBOX and IDLE.
// Each side holds one descriptor per connection: when the soft limit of open files
// is too low the bench re-runs itself under `ulimit -n` (up to the hard limit), and
// fails with a clear message when even the hard limit is too low.
// Standalone: `node --import tsx bench/imap-idle.ts [connections]` (default 2000).

import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RawClient, startServer } from '../test/imap/harness.js';

export interface IdleBenchResult {
  connections: number;
  /** Server RSS and V8 heap growth per IDLE connection, in bytes. */
  rssPerConnection: number;
  heapPerConnection: number;
  serverRssBefore: number;
  serverRssAfter: number;
  /** Time for every connection to log in, select and enter IDLE. */
  setupMs: number;
  /** A delivery reaches every IDLE connection as `* n EXISTS` within this time. */
  fanOutMs: number;
}

interface Memory {
  rss: number;
  heapUsed: number;
}

function ask(child: ChildProcess, what: string): Promise<unknown> {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send(what);
  });
}

/** The soft and hard limits of open files of this process (Linux /proc), or null when unknown. */
export function openFileLimits(): { soft: number; hard: number } | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const m = line ? /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(line) : null;
    if (!m) return null;
    const n = (v: string | undefined) => (v === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(v));
    return { soft: n(m[1]), hard: n(m[2]) };
  } catch {
    return null;
  }
}

/** Descriptors one side needs: one per connection, plus the runtime's own. */
const fdsNeeded = (connections: number) => connections + 256;

export async function benchImapIdle(connections: number): Promise<IdleBenchResult> {
  const need = fdsNeeded(connections);
  const limits = openFileLimits();
  if (limits && limits.soft < need) {
    if (limits.hard < need) {
      throw new Error(
        `the IDLE bench needs ${need} open files per process for ${connections} connections, but the hard limit is ${limits.hard}: raise it (ulimit -Hn as root, or LimitNOFILE) or run fewer connections`,
      );
    }
    return runWithRaisedLimit(connections, need);
  }
  return measure(connections);
}

/** Runs the bench in a child started by `sh -c "ulimit -n N; exec node …"` (Node cannot raise its own limit). */
function runWithRaisedLimit(connections: number, need: number): Promise<IdleBenchResult> {
  const args = ['-c', `ulimit -n ${need} && exec "$0" "$@"`, process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), '--report', String(connections)];
  const child = spawn('/bin/sh', args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as IdleBenchResult));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the IDLE bench under ulimit -n ${need} exited with ${code ?? 'a signal'}`)));
  });
}

async function measure(connections: number): Promise<IdleBenchResult> {
  const child = fork(fileURLToPath(import.meta.url), ['--server', String(connections + 10)], { execArgv: ['--import', 'tsx', '--expose-gc'] });
  const clients: RawClient[] = [];
  try {
    const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(Number(m))));
    const before = (await ask(child, 'memory')) as Memory;
    const started = performance.now();
    // Connect in small waves, as clients reconnecting after a restart would.
    for (let i = 0; i < connections; i += 50) {
      const wave = await Promise.all(
        Array.from({ length: Math.min(50, connections - i) }, async () => {
          const k = await RawClient.connect(port);
          await k.login();
          await k.cmd('s', 'SELECT INBOX', 60_000);
          k.write('i IDLE\r\n');
          await k.next(60_000);
          return k;
        }),
      );
      clients.push(...wave);
    }
    const setupMs = performance.now() - started;
    const after = (await ask(child, 'memory')) as Memory;
    const fanStart = performance.now();
    await ask(child, 'deliver');
    await Promise.all(clients.map(async (k) => {
      while (!(await k.next(60_000)).endsWith('EXISTS')) {
        // Skip anything else (keep-alives).
      }
    }));
    const fanOutMs = performance.now() - fanStart;
    return {
      connections,
      rssPerConnection: (after.rss - before.rss) / connections,
      heapPerConnection: (after.heapUsed - before.heapUsed) / connections,
      serverRssBefore: before.rss,
      serverRssAfter: after.rss,
      setupMs,
      fanOutMs,
    };
  } finally {
    for (const k of clients) k.close();
    child.kill();
  }
}

async function serve(maxConnections: number): Promise<void> {
  const h = await startServer({ limits: { maxLineBytes: 65536, maxLiteralBytes: 50 << 20, idleTimeoutMs: 3_600_000, maxConnectionsPerIp: maxConnections, authFailureDelayMs: 0 } });
  const inbox = (await h.store.getMailbox(h.account.id, 'INBOX'))!;
  const memory = (): Memory => {
    global.gc?.();
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed };
  };
  process.on('message', (what) => {
    if (what === 'memory') process.send?.(memory());
    if (what === 'deliver') {
      void (async () => {
        const raw = Buffer.from('Subject: hello\r\n\r\nto everyone\r\n');
        const blob = await h.store.blobs.put(raw);
        await h.store.appendMessage(inbox.id, { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: {} });
        process.send?.('delivered');
      })();
    }
  });
  process.on('disconnect', () => void h.close().then(() => process.exit(0)));
  process.send?.(h.port);
}

const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;

export function idleSection(r: IdleBenchResult): string[] {
  return [
    `| ${r.connections} IDLE connections | |`,
    '|---|---:|',
    `| server RSS per connection | ${kib(r.rssPerConnection)} |`,
    `| server JS heap per connection | ${kib(r.heapPerConnection)} |`,
    `| server RSS before → after | ${kib(r.serverRssBefore)} → ${kib(r.serverRssAfter)} |`,
    `| log in, SELECT, IDLE for all | ${r.setupMs.toFixed(0)} ms |`,
    `| one delivery reaches every connection (EXISTS) | ${r.fanOutMs.toFixed(0)} ms |`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--server') {
    await serve(Number(process.argv[3]));
  } else if (process.argv[2] === '--report') {
    // Started by runWithRaisedLimit: measure and hand the result back.
    process.send?.(await measure(Number(process.argv[3])));
    process.disconnect?.();
  } else {
    const result = await benchImapIdle(Number(process.argv[2] ?? 2000));
    console.log(idleSection(result).join('\n'));
  }
}
