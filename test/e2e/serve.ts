// Runs the real `bin/steadymail serve` (built into dist/) as a child process on a
// fresh data directory with every listener on 127.0.0.1:0, and reads the bound
// ports from its log.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'steadymail');
const LISTENERS = ['SMTP', 'SUBMISSION', 'SUBMISSIONS', 'POP3', 'POP3S', 'IMAP', 'IMAPS', 'HTTP', 'MANAGESIEVE'];

export function serveEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STEADYMAIL_')) env[k] = v;
  for (const l of LISTENERS) env[`STEADYMAIL_LISTEN_${l}`] = '127.0.0.1:0';
  return { ...env, STEADYMAIL_LISTEN_SNMP: 'off', STEADYMAIL_DATA_DIR: dataDir, STEADYMAIL_HOSTNAME: 'mail.e2e.test', STEADYMAIL_LOG_LEVEL: 'info', ...extra };
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'steadymail-e2e-'));
}

export function cli(
  dataDir: string,
  args: string[],
  input?: string,
  extra: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: serveEnv(dataDir, extra), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

export interface Running {
  child: ChildProcess;
  ports: Map<string, number>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

export function serve(dataDir: string, extra: Record<string, string> = {}, expect: string[] = ['smtp', 'submission', 'pop3', 'http']): Promise<Running> {
  const child = spawn(process.execPath, [BIN, 'serve'], { env: serveEnv(dataDir, extra), stdio: ['ignore', 'pipe', 'pipe'] });
  const ports = new Map<string, number>();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in time: ${stderr}`)), 30_000);
    void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry: { listener?: string; port?: number };
      try {
        entry = JSON.parse(line) as { listener?: string; port?: number };
      } catch {
        return;
      }
      if (entry.listener && typeof entry.port === 'number') ports.set(entry.listener, entry.port);
      if (expect.every((name) => ports.has(name))) {
        clearTimeout(timer);
        resolve({
          child,
          ports,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
  });
}

/** Resident memory of a running process, in MiB. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}
