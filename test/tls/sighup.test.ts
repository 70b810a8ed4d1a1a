// `steadymail serve` reloads its certificates on SIGHUP (and keeps running: SIGHUP's
// default action would end the process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { serve, tempDataDir } from '../e2e/serve.js';
import { makeCertificate, presentedCn } from './helpers.js';

test('SIGHUP reloads the certificates of a running server', async () => {
  const dataDir = tempDataDir();
  const certs = join(dataDir, 'certs');
  mkdirSync(certs);
  makeCertificate(certs, 'a', 'a-v1', ['mail.customer-a.test']);
  const server = await serve(dataDir, { STEADYMAIL_TLS_CERTS_DIR: certs, STEADYMAIL_TLS_RELOAD_INTERVAL_SECONDS: '0' }, ['imaps']);
  try {
    const port = server.ports.get('imaps')!;
    assert.equal(await presentedCn(port, 'implicit', 'mail.customer-a.test'), 'a-v1');
    const logged = new Promise<void>((resolve) => {
      createInterface({ input: server.child.stdout! }).on('line', (line) => {
        if (line.includes('SIGHUP: reloading TLS certificates')) resolve();
      });
    });
    const next = makeCertificate(dataDir, 'a-next', 'a-v2', ['mail.customer-a.test']);
    renameSync(next.key, join(certs, 'a.key'));
    renameSync(next.cert, join(certs, 'a.crt'));
    server.child.kill('SIGHUP');
    await logged;
    const deadline = Date.now() + 5000;
    while ((await presentedCn(port, 'implicit', 'mail.customer-a.test')) !== 'a-v2') {
      assert.ok(Date.now() < deadline, 'the new certificate is served after SIGHUP');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(server.child.exitCode, null, 'still running');
  } finally {
    assert.equal(await server.stop(), 0);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
