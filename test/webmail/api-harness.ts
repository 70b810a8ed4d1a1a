// API tests of the webmail: the real server (startServer with HTTP, and SMTP where a
// test needs it) on 127.0.0.1 port 0 over a fresh SQLite store, spoken to with fetch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { hash } from '@node-rs/argon2';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { indexMessage, toStoredStructure } from '../../src/mime/index.js';
import { startServer, type ServerHandle } from '../../src/server.js';
import type { Store } from '../../src/store/store.js';
import type { SystemFlag } from '../../src/store/types.js';
import type { SessionInfo } from '../../src/http/api/types.js';

export interface ApiServer {
  server: ServerHandle;
  store: Store;
  dataDir: string;
  base: string;
  close(): Promise<void>;
}

/** Argon2 with small parameters: tests need speed, not strength. */
const HASH_OPTS = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

export async function startApiServer(users: Record<string, string>, env: Record<string, string> = {}): Promise<ApiServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'steadymail-webmail-api-'));
  const off = Object.fromEntries(['SMTP', 'SUBMISSION', 'SUBMISSIONS', 'POP3', 'POP3S', 'IMAP', 'IMAPS', 'SNMP', 'MANAGESIEVE'].map((n) => [`STEADYMAIL_LISTEN_${n}`, 'off']));
  const config = loadConfig({
    cwd: dataDir,
    env: { ...off, STEADYMAIL_LISTEN_HTTP: '127.0.0.1:0', STEADYMAIL_DATA_DIR: dataDir, STEADYMAIL_HOSTNAME: 'mail.api.test', STEADYMAIL_OUTBOUND_ENABLED: 'false', ...env },
  });
  const logger = createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() }));
  const server = await startServer({ config, logger, monitor: false });
  const { store } = server;
  const domains = new Set(Object.keys(users).map((a) => a.split('@')[1]!));
  for (const d of domains) await store.createDomain(d);
  for (const [address, password] of Object.entries(users)) await store.createAccount({ address, passwordHash: await hash(password, HASH_OPTS) });
  const http = server.addresses.get('http');
  if (!http) throw new Error('http is not listening');
  return {
    server,
    store,
    dataDir,
    base: `http://127.0.0.1:${http.port}`,
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Stores a raw message straight into a mailbox (the IMAP APPEND path, without a client). */
export async function putMessage(store: Store, mailboxId: number, raw: string | Buffer, options: { flags?: SystemFlag[]; date?: Date } = {}) {
  const bytes = typeof raw === 'string' ? Buffer.from(raw.replace(/\r?\n/g, '\r\n'), 'utf8') : raw;
  const blob = await store.blobs.put(bytes);
  return store.appendMessage(mailboxId, {
    blobId: blob.id,
    size: blob.size,
    internalDate: options.date ?? new Date(),
    flags: options.flags ?? [],
    structure: toStoredStructure(indexMessage(bytes)),
  });
}

export async function mailboxId(store: Store, address: string, name: string): Promise<number> {
  const account = await store.getAccount(address);
  const box = account && (await store.getMailbox(account.id, name));
  if (!box) throw new Error(`no mailbox ${name} for ${address}`);
  return box.id;
}

/** A signed-in API client: keeps the session cookie and sends the CSRF token. */
export class Client {
  cookie = '';
  csrf = '';
  constructor(readonly base: string) {}

  static async login(base: string, username: string, password: string): Promise<Client> {
    const c = new Client(base);
    const res = await c.request('POST', '/api/session', { username, password });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
    const info = (await res.json()) as SessionInfo;
    c.csrf = info.csrfToken;
    return c;
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const h: Record<string, string> = { ...headers };
    if (this.cookie) h['cookie'] = this.cookie;
    if (this.csrf && method !== 'GET') h['x-csrf-token'] = this.csrf;
    let payload: Uint8Array | string | undefined;
    if (Buffer.isBuffer(body)) payload = new Uint8Array(body);
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.base + path, { method, headers: h, ...(payload !== undefined ? { body: payload } : {}), redirect: 'manual' });
    const set = res.headers.get('set-cookie');
    if (set) {
      const value = set.split(';')[0]!;
      this.cookie = value.endsWith('=') ? '' : value;
    }
    return res;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request(method, path, body);
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.json<T>('GET', path);
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.json<T>('POST', path, body ?? {});
  }
}
