import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../log.js';
import type { Store } from '../store/store.js';
import { VERSION } from '../version.js';
import { buildHttpApp } from './app.js';

const logger = createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() }));
const config = loadConfig({ env: {}, cwd: '/nonexistent' });

function storeWithPing(ping: () => Promise<void>): Store {
  return { ping } as unknown as Store; // the health check only pings
}

test('GET /healthz answers ok and the version', async () => {
  const app = await buildHttpApp({ config, logger, store: storeWithPing(async () => undefined) });
  const res = await app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { status: 'ok', version: VERSION });
  await app.close();
});

test('GET /healthz answers 503 when the store does not', async () => {
  const app = await buildHttpApp({ config, logger, store: storeWithPing(async () => Promise.reject(new Error('down'))) });
  const res = await app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(res.statusCode, 503);
  assert.deepEqual(res.json(), { status: 'unavailable', version: VERSION });
  await app.close();
});

test('features register their routes with the shared context', async () => {
  const app = await buildHttpApp({ config, logger, store: storeWithPing(async () => undefined) }, [
    (a, ctx) => void a.get('/hostname', async () => ({ hostname: ctx.config.hostname })),
  ]);
  const res = await app.inject({ method: 'GET', url: '/hostname' });
  assert.deepEqual(res.json(), { hostname: config.hostname });
  await app.close();
});
