// Browser tests of the webmail: the real server (startServer: SMTP, submission, IMAP and
// HTTP with the API and the built SPA) on 127.0.0.1 port 0 over a fresh SQLite store,
// driven by Debian's chromium through playwright-core.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { hash } from '@node-rs/argon2';
import { chromium, type BrowserContext } from 'playwright-core';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { indexMessage, toStoredStructure } from '../../src/mime/index.js';
import { startServer, type ServerHandle } from '../../src/server.js';
import type { Store } from '../../src/store/store.js';
import type { SystemFlag } from '../../src/store/types.js';

export const CHROMIUM = '/usr/bin/chromium';

export interface Running {
  server: ServerHandle;
  store: Store;
  base: string;
  ports: { smtp: number; submission: number; imap: number; http: number };
  close(): Promise<void>;
}

/** Argon2 with small parameters: tests need speed, not strength. */
const HASH_OPTS = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

export async function startWebmailServer(domain: string, users: Record<string, string>): Promise<Running> {
  const dataDir = mkdtempSync(join(tmpdir(), 'steadymail-webmail-'));
  const off = Object.fromEntries(['POP3', 'POP3S', 'IMAPS', 'SUBMISSIONS', 'SNMP', 'MANAGESIEVE'].map((n) => [`STEADYMAIL_LISTEN_${n}`, 'off']));
  const on = Object.fromEntries(['SMTP', 'SUBMISSION', 'IMAP', 'HTTP'].map((n) => [`STEADYMAIL_LISTEN_${n}`, '127.0.0.1:0']));
  const config = loadConfig({ cwd: dataDir, env: { ...off, ...on, STEADYMAIL_DATA_DIR: dataDir, STEADYMAIL_HOSTNAME: 'mail.webmail.test' } });
  const logger = createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() }));
  const server = await startServer({ config, logger });
  const { store } = server;
  await store.createDomain(domain);
  for (const [address, password] of Object.entries(users)) await store.createAccount({ address, passwordHash: await hash(password, HASH_OPTS) });
  const port = (name: 'smtp' | 'submission' | 'imap' | 'http') => {
    const a = server.addresses.get(name);
    if (!a) throw new Error(`${name} is not listening`);
    return a.port;
  };
  const ports = { smtp: port('smtp'), submission: port('submission'), imap: port('imap'), http: port('http') };
  return {
    server,
    store,
    base: `http://127.0.0.1:${ports.http}`,
    ports,
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Stores raw messages straight into a mailbox (the IMAP APPEND path, without a client). */
export async function appendRaw(store: Store, mailboxId: number, raw: string | Buffer, internalDate = new Date(), flags: SystemFlag[] = []): Promise<void> {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.replace(/\r?\n/g, '\r\n'));
  const blob = await store.blobs.put(bytes);
  await store.appendMessage(mailboxId, { blobId: blob.id, size: blob.size, internalDate, flags, keywords: [], structure: toStoredStructure(indexMessage(bytes)) });
}

export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  // A fresh profile directory each run: no cookies, cache or service workers from before.
  const profile = mkdtempSync(join(tmpdir(), 'steadymail-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A web server that counts every request it gets: the "remote" site of a tracking image. */
export async function startTracker(): Promise<{ origin: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(200, { 'Content-Type': 'image/gif', 'Cache-Control': 'no-store' });
    res.end(Buffer.from('R0lGODlhAQABAAAAACwAAAAAAQABAAA=', 'base64'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
