// Shared by the ops tests: the built binary against a temp data directory, and a
// store filled through the library the way SMTP delivery fills it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { indexMessage, toStoredStructure } from '../../src/mime/index.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import type { AppendResult } from '../../src/store/types.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'steadymail');

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function assertBuilt(): void {
  assert.ok(existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'dist/ is missing: run `npm run build` before the tests');
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'steadymail-ops-'));
}

const LISTENERS = ['SMTP', 'SUBMISSION', 'SUBMISSIONS', 'POP3', 'POP3S', 'IMAP', 'IMAPS', 'HTTP', 'SNMP', 'MANAGESIEVE'];

function environment(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STEADYMAIL_')) env[k] = v;
  for (const l of LISTENERS) env[`STEADYMAIL_LISTEN_${l}`] = '127.0.0.1:0';
  env['STEADYMAIL_DATA_DIR'] = dataDir;
  return env;
}

/** `steadymail serve` on dataDir (every listener on a free port); resolves once it runs. Returns its stop function. */
export async function serve(dataDir: string): Promise<() => Promise<number | null>> {
  const child = spawn(process.execPath, [BIN, 'serve'], { env: environment(dataDir) });
  let stderr = '';
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 10_000);
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (stderr.includes('is running')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  return () => {
    child.kill('SIGTERM');
    return exited;
  };
}

/** Runs the built binary with STEADYMAIL_DATA_DIR = dataDir. */
export function steadymail(dataDir: string, args: string[]): Promise<Result> {
  const env = environment(dataDir);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}

export function openData(dataDir: string): Promise<Store> {
  return openStore({ driver: 'sqlite', dataDir });
}

export function rawMessage(n: number): Buffer {
  return Buffer.from(
    `From: Sender ${n} <s${n}@example.net>\r\nTo: alice@example.org\r\nSubject: message ${n}\r\n` +
      `Date: Sat, 28 Nov 2026 10:00:00 +0000\r\nMessage-ID: <${n}@example.net>\r\n\r\nBody of message ${n}.\r\n`,
  );
}

/** Stores a message as delivery does: blob first, then the metadata with its index. */
export async function deliver(store: Store, mailboxId: number, raw: Buffer): Promise<AppendResult> {
  const blob = await store.blobs.put(raw);
  return store.appendMessage(mailboxId, { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: toStoredStructure(indexMessage(raw)) });
}

/** A store with example.org, alice@example.org and `count` messages in her INBOX. */
export async function seed(dataDir: string, count: number): Promise<{ accountId: number; inbox: number }> {
  const store = await openData(dataDir);
  try {
    await store.createDomain('example.org');
    const alice = await store.createAccount({ address: 'alice@example.org', passwordHash: 'x' });
    const inbox = (await store.getMailbox(alice.id, 'INBOX'))!.id;
    for (let i = 1; i <= count; i++) await deliver(store, inbox, rawMessage(i));
    return { accountId: alice.id, inbox };
  } finally {
    await store.close();
  }
}
