// Test harness: a real IMAP server on 127.0.0.1 (port 0) over a temporary
// SQLite store, and a raw line client for transcript tests.

import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash, verify } from '@node-rs/argon2';
import { openStore } from '../../src/store/open.js';
import { searchTextExtractor } from '../../src/mime/index.js';
import type { Store } from '../../src/store/store.js';
import type { Account } from '../../src/store/types.js';
import { createImapServer, type ImapOptions, type ImapServer } from '../../src/imap/index.js';

export const PASSWORD = 'correct horse battery';

export interface Harness {
  store: Store;
  server: ImapServer;
  port: number;
  account: Account;
  /** The store's data directory (another handle may open it, as another process would). */
  dataDir: string;
  logs: Array<{ level: string; o: object; m?: string | undefined }>;
  close(): Promise<void>;
}

/** Argon2 with small parameters: tests need speed, not strength. */
const HASH_OPTS = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

/** How the harness opens its store: SQLite in the data directory unless told otherwise (e.g. PostgreSQL). */
export type OpenHarnessStore = (dataDir: string) => Promise<Store>;

export async function startServer(
  overrides: Partial<ImapOptions> = {},
  accounts: string[] = ['alice@example.com'],
  open: OpenHarnessStore = (dataDir) => openStore({ driver: 'sqlite', dataDir, searchText: searchTextExtractor }),
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-imap-'));
  const store = await open(dir);
  await store.createDomain('example.com');
  const passwordHash = await hash(PASSWORD, HASH_OPTS);
  const created: Account[] = [];
  for (const address of accounts) created.push(await store.createAccount({ address, passwordHash }));
  const logs: Harness['logs'] = [];
  const log = (level: string) => (o: object, m?: string) => logs.push({ level, o, m });
  const opts: ImapOptions = {
    store,
    logger: { info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug') },
    hostname: 'imap.test',
    allowPlaintext: () => true,
    authenticate: async (username, password) => {
      const account = await store.getAccount(username.toLowerCase());
      if (!account || !(await verify(account.passwordHash, password))) return { ok: false, reason: 'bad-credentials' };
      if (account.disabled) return { ok: false, reason: 'disabled' };
      return { ok: true, account };
    },
    limits: { maxLineBytes: 8192, maxLiteralBytes: 10 * 1024 * 1024, idleTimeoutMs: 60_000, maxConnectionsPerIp: 20, authFailureDelayMs: 10 },
    ...overrides,
  };
  const server = createImapServer(opts);
  const { port } = await server.listen('127.0.0.1', 0);
  return {
    store,
    server,
    port,
    account: created[0] as Account,
    dataDir: dir,
    logs,
    async close() {
      await server.close(500);
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A line-oriented IMAP client that keeps every line it received. */
export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  readonly lines: string[] = [];
  private cursor = 0;
  closed = false;

  private constructor(public socket: net.Socket) {
    this.listen(socket);
  }

  private listen(socket: net.Socket): void {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      let i: number;
      while ((i = this.buf.indexOf('\r\n')) >= 0) {
        this.lines.push(this.buf.subarray(0, i).toString('utf8'));
        this.buf = this.buf.subarray(i + 2);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static async connect(port: number, secure = false): Promise<RawClient> {
    const socket = secure
      ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false })
      : net.connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once(secure ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const c = new RawClient(socket);
    await c.next(); // greeting
    return c;
  }

  /** Upgrades the socket after `STARTTLS` OK. */
  async startTls(): Promise<void> {
    const raw = this.socket;
    raw.removeAllListeners('data');
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.listen(secure);
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits for the next unread line. */
  async next(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.cursor >= this.lines.length) {
      if (this.closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for a line; got so far:\n${this.lines.join('\n')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.lines[this.cursor++] as string;
  }

  /** Sends `tag command` and returns every line up to and including the tagged reply. */
  async cmd(tag: string, command: string, timeoutMs = 5000): Promise<string[]> {
    this.write(`${tag} ${command}\r\n`);
    return this.until(tag, timeoutMs);
  }

  /** Reads lines until the tagged reply for `tag`. */
  async until(tag: string, timeoutMs = 5000): Promise<string[]> {
    const out: string[] = [];
    while (true) {
      const line = await this.next(timeoutMs);
      out.push(line);
      if (line.startsWith(`${tag} `)) return out;
    }
  }

  /** Lines received but not yet read, after waiting `ms` for more. */
  async drain(ms = 100): Promise<string[]> {
    await new Promise((r) => setTimeout(r, ms));
    const out = this.lines.slice(this.cursor);
    this.cursor = this.lines.length;
    return out;
  }

  async login(user = 'alice@example.com'): Promise<void> {
    const r = await this.cmd('L', `LOGIN ${user} "${PASSWORD}"`);
    if (!r.at(-1)?.startsWith('L OK')) throw new Error(`login failed: ${r.join('\n')}`);
  }

  close(): void {
    this.socket.destroy();
  }
}

export function msg(subject: string, body = 'Hello world', extra = ''): string {
  return `From: Bob <bob@example.org>\r\nTo: Alice <alice@example.com>\r\nSubject: ${subject}\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n${extra}\r\n${body}\r\n`;
}

/** APPEND with a LITERAL+ literal: one write, no continuation wait. */
export async function append(c: RawClient, mailbox: string, message: string, flags = ''): Promise<string[]> {
  const size = Buffer.byteLength(message);
  c.write(`AP APPEND ${mailbox} ${flags ? `(${flags}) ` : ''}{${size}+}\r\n${message}\r\n`);
  return c.until('AP');
}
