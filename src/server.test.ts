import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type ListenerName } from './config/index.js';
import { createLogger } from './log.js';
import { LISTENERS, startServer, type Listener } from './server.js';

function quietLogger() {
  return createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() }));
}

function testConfig(env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'steadymail-server-'));
  const off = Object.fromEntries(
    ['SMTP', 'SUBMISSION', 'SUBMISSIONS', 'POP3', 'POP3S', 'IMAP', 'IMAPS', 'HTTP', 'SNMP', 'MANAGESIEVE'].map((n) => [`STEADYMAIL_LISTEN_${n}`, 'off']),
  );
  return loadConfig({ cwd: dataDir, env: { ...off, STEADYMAIL_DATA_DIR: dataDir, ...env } });
}

test('serves /healthz over real HTTP on the bound port and stops', async () => {
  const config = testConfig({ STEADYMAIL_LISTEN_HTTP: '127.0.0.1:0' });
  const server = await startServer({ config, logger: quietLogger() });
  const http = server.addresses.get('http');
  assert.ok(http && http.port > 0);
  const res = await fetch(`http://127.0.0.1:${http.port}/healthz`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok', version: (await import('./version.js')).VERSION });
  await server.close();
  await server.close(); // idempotent
  await assert.rejects(fetch(`http://127.0.0.1:${http.port}/healthz`));
});

test('starts only listeners that are configured and implemented; stop gets the grace period', async () => {
  const events: string[] = [];
  const fake = (name: ListenerName) => (): Listener => ({
    name,
    start: async () => {
      events.push(`start ${name}`);
      return { host: '127.0.0.1', port: 1 };
    },
    stop: async (graceMs) => {
      events.push(`stop ${name} ${graceMs}`);
    },
  });
  const config = testConfig({ STEADYMAIL_LISTEN_IMAP: '127.0.0.1:0', STEADYMAIL_LISTEN_POP3: '127.0.0.1:0', STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '2' });
  const server = await startServer({ config, logger: quietLogger(), listeners: { imap: fake('imap'), smtp: fake('smtp'), pop3: fake('pop3') } });
  assert.deepEqual([...server.addresses.keys()], ['pop3', 'imap']);
  await server.close();
  assert.deepEqual(events, ['start pop3', 'start imap', 'stop pop3 2000', 'stop imap 2000']);
});

test('a listener that cannot bind stops the ones already started and fails start-up', async () => {
  const first = await startServer({ config: testConfig({ STEADYMAIL_LISTEN_HTTP: '127.0.0.1:0' }), logger: quietLogger() });
  const port = first.addresses.get('http')?.port ?? 0;
  const stopped: string[] = [];
  const config = testConfig({ STEADYMAIL_LISTEN_SMTP: '127.0.0.1:0', STEADYMAIL_LISTEN_HTTP: `127.0.0.1:${port}` });
  await assert.rejects(
    startServer({
      config,
      logger: quietLogger(),
      listeners: {
        ...LISTENERS,
        smtp: () => ({ name: 'smtp', start: async () => ({ host: '127.0.0.1', port: 2 }), stop: async () => void stopped.push('smtp') }),
      },
    }),
    new RegExp(`cannot listen for http on 127.0.0.1:${port}`),
  );
  assert.deepEqual(stopped, ['smtp']);
  await first.close();
});

test('in-flight HTTP requests finish within the grace period', async () => {
  const config = testConfig({ STEADYMAIL_LISTEN_HTTP: '127.0.0.1:0', STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '5' });
  let release: () => void = () => undefined;
  // The monitor's own /healthz probe would take the held ping.
  const server = await startServer({ config, logger: quietLogger(), monitor: false });
  // Slow request: hold the store's ping until released.
  const ping = server.store.ping.bind(server.store);
  server.store.ping = () => new Promise<void>((resolve) => (release = () => void ping().then(resolve)));
  const port = server.addresses.get('http')?.port ?? 0;
  const response = fetch(`http://127.0.0.1:${port}/healthz`);
  await new Promise((r) => setTimeout(r, 50));
  const closing = server.close();
  await new Promise((r) => setTimeout(r, 50));
  release();
  assert.equal((await response).status, 200);
  await closing;
});

test('a request still running after the grace period is cut off and close() returns', async () => {
  const config = testConfig({ STEADYMAIL_LISTEN_HTTP: '127.0.0.1:0', STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '1' });
  const server = await startServer({ config, logger: quietLogger(), monitor: false });
  server.store.ping = () => new Promise<void>(() => undefined); // never answers
  const port = server.addresses.get('http')?.port ?? 0;
  const response = fetch(`http://127.0.0.1:${port}/healthz`);
  // The request fails while close() is still running: handle the rejection from the start.
  const outcome = response.then(() => 'answered', (err: unknown) => err);
  await new Promise((r) => setTimeout(r, 50));
  const started = Date.now();
  await server.close();
  const took = Date.now() - started;
  assert.ok(took >= 900 && took < 5000, `close took ${took} ms`);
  assert.ok((await outcome) instanceof Error, 'the request was cut off');
});
