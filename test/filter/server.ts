// Steadymail started in-process from configuration, as `serve` does (listeners.ts and
// server.ts wire the filter), with an account to deliver to.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import nodemailer from 'nodemailer';
import { hashPassword } from '../../src/auth/password.js';
import { loadConfig } from '../../src/config/index.js';
import { LISTENER_NAMES } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { startServer, type ServerHandle } from '../../src/server.js';
import { openStore } from '../../src/store/open.js';

export const USER = 'alice@filter.test';
export const PASSWORD = 'filter-secret';

export interface FilterServer {
  handle: ServerHandle;
  port(name: 'smtp' | 'imap' | 'http'): number;
  /** Sends one message over SMTP with nodemailer; resolves with the final reply or rejects with the SMTP error. */
  send(message: { from: string; subject: string; text: string; headers?: Record<string, string>; to?: string; attachments?: Array<{ filename: string; content: string }> }): Promise<string>;
  /** Messages in one of the user's mailboxes. */
  mailbox(name: string): Promise<Array<{ uid: number; raw: string }>>;
  close(): Promise<void>;
}

export async function startFilterServer(env: Record<string, string>): Promise<FilterServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'steadymail-filter-'));
  const store = await openStore({ driver: 'sqlite', dataDir });
  await store.createDomain('filter.test');
  await store.createAccount({ address: USER, passwordHash: await hashPassword(PASSWORD) });
  await store.createAccount({ address: 'bob@filter.test', passwordHash: await hashPassword(PASSWORD) });
  await store.close();
  const config = loadConfig({
    cwd: dataDir,
    env: {
      STEADYMAIL_LISTEN_SMTP: '127.0.0.1:0',
      STEADYMAIL_LISTEN_IMAP: '127.0.0.1:0',
      STEADYMAIL_LISTEN_HTTP: '127.0.0.1:0',
      ...Object.fromEntries(LISTENER_NAMES.filter((n) => !['smtp', 'imap', 'http'].includes(n)).map((n) => [`STEADYMAIL_LISTEN_${n.toUpperCase()}`, 'off'])),
      STEADYMAIL_DATA_DIR: dataDir,
      STEADYMAIL_HOSTNAME: 'mx.filter.test',
      STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '1',
      STEADYMAIL_MONITOR_PROBE_INTERVAL_SECONDS: '3600',
      STEADYMAIL_OUTBOUND_ENABLED: 'false',
      STEADYMAIL_DNS_SERVERS: '127.0.0.1:9',
      // The tests connect from loopback, which is trusted by default.
      STEADYMAIL_FILTER_TRUSTED_NETWORKS: '',
      ...env,
    },
  });
  const logger = createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() }));
  const handle = await startServer({ config, logger });
  const port = (name: 'smtp' | 'imap' | 'http') => handle.addresses.get(name)?.port ?? 0;
  return {
    handle,
    port,
    async send(m) {
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: port('smtp'), secure: false, ignoreTLS: true, name: 'client.remote.test' });
      try {
        const info = await transport.sendMail({
          from: m.from,
          to: m.to ?? USER,
          subject: m.subject,
          text: m.text,
          headers: m.headers ?? {},
          attachments: m.attachments ?? [],
          envelope: { from: m.from, to: [m.to ?? USER] },
        });
        return info.response;
      } finally {
        transport.close();
      }
    },
    async mailbox(name) {
      const account = await handle.store.getAccount(USER);
      const box = account && (await handle.store.getMailbox(account.id, name));
      if (!box) throw new Error(`no mailbox ${name}`);
      const list = await handle.store.listMessages(box.id, { withoutStructure: true });
      return Promise.all(list.map(async (m) => ({ uid: m.uid, raw: (await handle.store.blobs.get(m.blobId)).toString('utf8') })));
    },
    async close() {
      await handle.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The SMTP reply code of a nodemailer failure (responseCode), or the thrown error. */
export async function smtpError(p: Promise<unknown>): Promise<{ code: number; response: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { responseCode?: number; response?: string };
    if (typeof e.responseCode === 'number') return { code: e.responseCode, response: e.response ?? '' };
    throw err;
  }
  throw new Error('the message was accepted');
}
