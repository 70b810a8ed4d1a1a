import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../log.js';
import type { Store } from '../store/store.js';
import { buildHttpApp, type HttpApp } from './app.js';
import { APP_SHELL_CSP, webmailStatic } from './webmail-static.js';

const logger = createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() }));
const config = loadConfig({ env: {}, cwd: '/nonexistent' });
const store = { ping: async () => undefined } as unknown as Store; // only /healthz touches it

const SHELL = '<!doctype html><html><head><script type="module" src="/assets/index-AbC123.js"></script></head><body><div id="root"></div></body></html>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

let dir: string;
let app: HttpApp;
let base: string;

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw request: the path is sent as written (fetch would normalise `..`). */
function get(path: string, headers: Record<string, string> = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.path = path;
    req.end();
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'webmail-static-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), SHELL);
  writeFileSync(join(dir, 'assets', 'index-AbC123.js'), SCRIPT);
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  // A file whose path another feature already serves: that feature must keep it.
  writeFileSync(join(dir, 'status'), 'from the SPA');
  app = await buildHttpApp({ config, logger, store }, [
    (a) => void a.get('/status', async (_r, reply) => reply.type('text/plain').send('status page')),
    webmailStatic({ dir }),
  ]);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  base = `http://127.0.0.1:${address.port}`;
});

after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the app shell is served at / with a strict CSP and revalidated on every load', async () => {
  const res = await get('/');
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), SHELL);
  assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(res.headers['content-security-policy'], APP_SHELL_CSP);
  const csp = APP_SHELL_CSP;
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(res.headers['cache-control'], 'no-cache');
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  assert.equal(res.headers['x-frame-options'], 'DENY');
  const etag = res.headers.etag;
  assert.equal(typeof etag, 'string');
  const again = await get('/', { 'If-None-Match': etag as string });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
});

test('hashed assets are immutable and gzip-encoded when the client accepts it', async () => {
  const plain = await get('/assets/index-AbC123.js');
  assert.equal(plain.status, 200);
  assert.equal(plain.body.toString(), SCRIPT);
  assert.equal(plain.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(plain.headers['content-encoding'], undefined);
  const zipped = await get('/assets/index-AbC123.js', { 'Accept-Encoding': 'gzip, deflate' });
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.equal(zipped.headers.vary, 'Accept-Encoding');
  assert.ok(zipped.body.length < SCRIPT.length / 10);
  assert.equal(gunzipSync(zipped.body).toString(), SCRIPT);
});

test('unknown assets and traversal attempts are 404, other top-level files are served', async () => {
  assert.equal((await get('/assets/missing.js')).status, 404);
  assert.equal((await get('/assets/../index.html')).status, 404);
  assert.equal((await get('/assets/%2e%2e/index.html')).status, 404);
  assert.equal((await get('/assets/..%2f..%2fpackage.json')).status, 404);
  const icon = await get('/favicon.svg');
  assert.equal(icon.status, 200);
  assert.equal(icon.headers['content-type'], 'image/svg+xml');
  assert.equal(icon.headers['cache-control'], 'no-cache');
});

test('routes registered before the SPA keep their paths', async () => {
  const res = await get('/status');
  assert.equal(res.body.toString(), 'status page');
  assert.equal((await get('/healthz')).status, 200);
});

test('with [webmail] enabled = false the SPA is not served', async () => {
  const off = loadConfig({ env: { STEADYMAIL_WEBMAIL_ENABLED: 'false' }, cwd: '/nonexistent' });
  assert.equal(off.webmail.enabled, false);
  const bare = await buildHttpApp({ config: off, logger, store }, [webmailStatic({ dir })]);
  try {
    assert.equal((await bare.inject({ method: 'GET', url: '/' })).statusCode, 404);
    assert.equal((await bare.inject({ method: 'GET', url: '/assets/index-AbC123.js' })).statusCode, 404);
  } finally {
    await bare.close();
  }
});

test('without a built SPA nothing is registered and the server still starts', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'webmail-empty-'));
  const bare = await buildHttpApp({ config, logger, store }, [webmailStatic({ dir: empty })]);
  try {
    assert.equal((await bare.inject({ method: 'GET', url: '/' })).statusCode, 404);
    assert.equal((await bare.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  } finally {
    await bare.close();
    rmSync(empty, { recursive: true, force: true });
  }
});
