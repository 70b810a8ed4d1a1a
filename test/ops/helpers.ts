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

/** Runs the built binary with STEADYMAIL_DATA_DIR = dataDir. */
export function steadymail(dataDir: string, args: string[]): Promise<Result> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STEADYMAIL_')) env[k] = v;
  env['STEADYMAIL_DATA_DIR'] = dataDir;
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
