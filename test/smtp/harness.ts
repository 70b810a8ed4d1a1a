// Test harness for the SMTP listeners: a temp-dir store with accounts and aliases, a
// self-signed certificate, a listener on 127.0.0.1 port 0, and a small raw SMTP
// client that reads replies exactly as a client sees them.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { hash } from '@node-rs/argon2';
import { authenticate } from '../../src/auth/authenticator.js';
import { generate } from 'selfsigned';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { createSmtpListener, type Authenticate, type SmtpListenerKind, type SmtpOptions } from '../../src/smtp/index.js';

export const PASSWORD = 'correct horse battery staple';

let certPromise: Promise<{ key: string; cert: string }> | undefined;
export function testCert(): Promise<{ key: string; cert: string }> {
  certPromise ??= generate([{ name: 'commonName', value: 'mx.example.org' }], { keySize: 2048 }).then((p) => ({ key: p.private, cert: p.cert }));
  return certPromise;
}

export const silentLogger = { info() {}, warn() {}, error() {}, debug() {} };

/** The stand-in for the shared authenticator: argon2id over the store's accounts. */
/** The shared authenticator (and its store-backed throttle), as the server wires it. */
export function storeAuthenticate(store: Store): Authenticate {
  return async (username, password, remoteAddress) => {
    const r = await authenticate(store, username, password, remoteAddress);
    return r.ok ? r : { ok: false, reason: r.failure, delayMs: r.delayMs };
  };
}

export interface TestEnv {
  dir: string;
  store: Store;
  close(): Promise<void>;
}

/** A store with example.org: alice, bob, carol (1 KiB quota), dave (disabled), aliases. */
export async function testStore(dir?: string): Promise<TestEnv> {
  const dataDir = dir ?? (await mkdtemp(join(tmpdir(), 'steadymail-smtp-')));
  const store = await openStore({ driver: 'sqlite', dataDir });
  const passwordHash = await hash(PASSWORD, { memoryCost: 1024, timeCost: 1, parallelism: 1 });
  await store.createDomain('example.org');
  await store.createDomain('lists.example.org');
  const alice = await store.createAccount({ address: 'alice@example.org', passwordHash });
  await store.createAccount({ address: 'bob@example.org', passwordHash });
  await store.createAccount({ address: 'carol@example.org', passwordHash, quotaBytes: 1024 });
  const dave = await store.createAccount({ address: 'dave@example.org', passwordHash });
  await store.updateAccount(dave.id, { disabled: true });
  await store.addAlias('team@example.org', ['alice@example.org', 'bob@example.org']);
  await store.addAlias('sales@example.org', ['alice@example.org']);
  await store.addAlias('fwd@example.org', ['bob@example.org', 'someone@remote.test']);
  await store.addAlias('@lists.example.org', ['alice@example.org']);
  void alice;
  return {
    dir: dataDir,
    store,
    async close() {
      await store.close();
      if (!dir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const defaultLimits: SmtpOptions['limits'] = {
  maxMessageBytes: 64 * 1024,
  maxRecipients: 5,
  maxLineBytes: 2000,
  maxConnectionsPerIp: 10,
  idleTimeoutMs: 10_000,
  maxReceivedHeaders: 10,
};

export async function startListener(kind: SmtpListenerKind, store: Store, over: Partial<SmtpOptions> = {}) {
  const cert = await testCert();
  const listener = createSmtpListener(kind, {
    store,
    logger: silentLogger,
    hostname: 'mx.example.org',
    tls: cert,
    limits: defaultLimits,
    dnsServers: ['127.0.0.1:9'],
    dmarcRejectEnforced: false,
    allowPlaintextAuth: () => false,
    authenticate: storeAuthenticate(store),
    ...over,
  });
  const { port } = await listener.listen('127.0.0.1', 0);
  return { port, close: () => listener.close(1000) };
}

/** A raw SMTP client: one reply per call, multi-line replies joined with "\n". */
export class SmtpTalk {
  private buf = '';
  private waiters: Array<() => void> = [];
  private constructor(private socket: net.Socket) {
    this.attach(socket);
  }

  static async connect(port: number, options: { implicitTls?: boolean } = {}): Promise<SmtpTalk> {
    const socket = options.implicitTls
      ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
      : net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once(options.implicitTls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new SmtpTalk(socket);
  }

  private attach(socket: net.Socket): void {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
  }

  /** Reads one complete reply (all lines until "NNN "). */
  async reply(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[0].length);
        return m[0].replace(/\r\n/g, '\n').trimEnd();
      }
      if (this.socket.destroyed || this.socket.readableEnded) return `closed: ${this.buf}`;
      if (Date.now() > deadline) throw new Error(`no reply; buffered: ${JSON.stringify(this.buf)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  write(text: string): void {
    this.socket.write(text);
  }

  async cmd(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  async starttls(): Promise<void> {
    const r = await this.cmd('STARTTLS');
    if (!r.startsWith('220')) throw new Error(`STARTTLS refused: ${r}`);
    this.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.buf = '';
    this.attach(secure);
  }

  /** Sends a whole transaction and returns the DATA end reply. */
  async send(from: string, to: string[], message: string): Promise<string> {
    const m = await this.cmd(`MAIL FROM:<${from}>`);
    if (!m.startsWith('250')) return m;
    for (const t of to) {
      const r = await this.cmd(`RCPT TO:<${t}>`);
      if (!r.startsWith('250')) return r;
    }
    const d = await this.cmd('DATA');
    if (!d.startsWith('354')) return d;
    const data = message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    return this.cmd(`${data.endsWith('\r\n') ? data : `${data}\r\n`}.`);
  }

  close(): void {
    this.socket.end();
  }
}

export function sampleMessage(subject: string, body = 'Hello.\r\n'): string {
  return `From: Sender <sender@remote.test>\r\nTo: alice@example.org\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@remote.test>\r\nDate: Sat, 28 Nov 2026 12:00:00 +0000\r\n\r\n${body}`;
}

export async function inboxOf(store: Store, address: string) {
  const account = await store.getAccount(address);
  if (!account) throw new Error(`no account ${address}`);
  const inbox = await store.getMailbox(account.id, 'INBOX');
  if (!inbox) throw new Error('no INBOX');
  return store.listMessages(inbox.id, { withoutStructure: true });
}
