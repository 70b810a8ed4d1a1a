// Test harness: a fresh store in a temp dir with one account, a POP3 server on
// 127.0.0.1 port 0, and helpers to deliver messages.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash } from '@node-rs/argon2';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import type { Account } from '../../src/store/types.js';
import { LoginThrottle } from '../../src/auth/authenticator.js';
import { createPop3Server, type Pop3Options, type Pop3Server } from '../../src/pop3/index.js';
import { WireSizeCache } from '../../src/pop3/maildrop.js';

export const USER = 'alice@example.org';
export const PASSWORD = 'correct horse battery staple';

export interface LogEntry {
  level: 'info' | 'warn' | 'error' | 'debug';
  o: object;
  msg: string | undefined;
}

export function collectingLogger(): Pop3Options['logger'] & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry['level']) => (o: object, msg?: string) => {
    entries.push({ level, o, msg });
  };
  return { entries, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

/** Cheap argon2id parameters: verification reads them from the hash, so tests stay fast. */
export function cheapHash(password: string): Promise<string> {
  return hash(password, { memoryCost: 1024, timeCost: 1, parallelism: 1 });
}

export interface Harness {
  dir: string;
  store: Store;
  account: Account;
  inboxId: number;
  port: number;
  server: Pop3Server;
  logger: ReturnType<typeof collectingLogger>;
  deliver(raw: string | Buffer, flags?: Array<'\\Seen'>): Promise<{ uid: number; messageId: string }>;
  startServer(overrides?: Partial<Pop3Options>): Promise<{ server: Pop3Server; port: number }>;
  close(): Promise<void>;
}

export function testOptions(store: Store, logger: Pop3Options['logger'], overrides: Partial<Pop3Options> = {}): Pop3Options {
  return {
    store,
    logger,
    hostname: 'pop.example.org',
    allowPlaintext: () => true,
    markSeenOnRetr: true,
    idleTimeoutMs: 10_000,
    maxLineBytes: 1024,
    maxConnectionsPerIp: 20,
    authFailureDelayMs: 0,
    throttle: new LoginThrottle(store, { maxFailuresPerIp: 20, maxFailuresPerAccount: 50, windowMs: 60_000, failuresBeforeDelay: 0, baseDelayMs: 1, maxDelayMs: 5 }),
    wireSizes: new WireSizeCache(),
    ...overrides,
  };
}

export async function harness(overrides: Partial<Pop3Options> = {}, options: { noServer?: boolean } = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-pop3-'));
  const store = await openStore({ driver: 'sqlite', dataDir: dir });
  await store.createDomain('example.org');
  const account = await store.createAccount({ address: USER, passwordHash: await cheapHash(PASSWORD) });
  const inboxId = (await store.getMailbox(account.id, 'INBOX'))!.id;
  const logger = collectingLogger();
  const servers: Pop3Server[] = [];
  const h: Harness = {
    dir,
    store,
    account,
    inboxId,
    port: 0,
    server: undefined as unknown as Pop3Server,
    logger,
    async deliver(raw, flags) {
      const blob = await store.blobs.put(typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw);
      const r = await store.appendMessage(inboxId, { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: {}, flags: flags ?? [] });
      return { uid: r.uid, messageId: r.messageId };
    },
    async startServer(more = {}) {
      const server = createPop3Server(testOptions(store, logger, { ...overrides, ...more }));
      const { port } = await server.listen('127.0.0.1', 0);
      servers.push(server);
      return { server, port };
    },
    async close() {
      for (const s of servers) await s.close(100);
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  if (!options.noServer) {
    const { server, port } = await h.startServer();
    h.server = server;
    h.port = port;
  }
  return h;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let certPromise: Promise<{ key: string; cert: string }> | undefined;
/** A self-signed certificate for 127.0.0.1 / localhost, generated once per test process. */
export function testCertificate(): Promise<{ key: string; cert: string }> {
  certPromise ??= (async () => {
    const { generate } = await import('selfsigned');
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
    return { key: pems.private, cert: pems.cert };
  })();
  return certPromise;
}

/** The store with some methods replaced (to inject failures). */
export function storeWith(store: Store, replace: Partial<Record<keyof Store, unknown>>): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop in replace) return replace[prop as keyof Store];
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}
