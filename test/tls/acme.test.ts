// ACME against Debian's pebble on loopback: certificates for two hosted domains'
// mail names obtained with HTTP-01 on our HTTP listener and served by SNI; renewal
// before expiry; a failed validation recorded with backoff and retried.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { createLogger } from '../../src/log.js';
import { startServer, type ServerHandle } from '../../src/server.js';
import { openStore } from '../../src/store/open.js';
import { createAcmeManager } from '../../src/tls/acme.js';
import { certificateSummaries } from '../../src/tls/cert-store.js';
import { registerAcmeMetrics } from '../../src/tls/metrics.js';
import { Registry } from 'prom-client';
import { presentedCn, testConfig } from './helpers.js';
import { startPebble, type Pebble } from './pebble.js';
import { freePort } from '../free-port.js';

let dir: string;
let pebble: Pebble;
let server: ServerHandle;
let config: ReturnType<typeof testConfig>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'steadymail-acme-'));
  const httpPort = await freePort();
  pebble = await startPebble(dir, httpPort);
  const store = await openStore({ driver: 'sqlite', dataDir: join(dir, 'data') });
  await store.createDomain('customer-a.test');
  await store.createDomain('customer-b.test');
  await store.close();
  config = testConfig(
    join(dir, 'data'),
    {
      STEADYMAIL_ACME_ENABLED: 'true',
      STEADYMAIL_ACME_TERMS_AGREED: 'true',
      STEADYMAIL_ACME_EMAIL: 'hostmaster@provider.test',
      STEADYMAIL_ACME_DIRECTORY_URL: pebble.directoryUrl,
      STEADYMAIL_ACME_CA_FILE: pebble.caFile,
      STEADYMAIL_ACME_DOMAIN_NAMES: 'mail.{domain}',
      STEADYMAIL_ACME_KEY_TYPE: 'ecdsa',
    },
    `127.0.0.1:${httpPort}`,
  );
  server = await startServer({ config, logger: createLogger({ level: 'silent' }), monitor: false, acmePollMs: 100 });
});

after(async () => {
  await server?.close();
  await pebble?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The leaf the server presents for `servername` on IMAPS, verified against pebble's root. */
async function verifiedLeaf(servername: string): Promise<X509Certificate> {
  const ca = await pebble.root();
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: server.addresses.get('imaps')!.port, servername, ca }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.destroy();
      if (!cert) return reject(new Error('no certificate'));
      resolve(cert);
    });
    socket.on('error', reject);
  });
}

test('certificates for two hosted domains are issued over HTTP-01 and served by SNI', async () => {
  await server.acme!.runOnce();
  for (const name of ['mail.customer-a.test', 'mail.customer-b.test']) {
    const leaf = await verifiedLeaf(name);
    assert.equal(leaf.subjectAltName, `DNS:${name}`);
    assert.match(leaf.issuer, /Pebble Intermediate/);
    assert.equal(await presentedCn(server.addresses.get('smtp')!.port, 'smtp', name), name, 'SMTP STARTTLS too');
    const row = await server.store.getTlsCertificate(name);
    assert.equal(row?.failures, 0);
    assert.ok(row?.certPem?.includes('BEGIN CERTIFICATE'));
  }
  const summaries = certificateSummaries().filter((s) => s.source === 'acme');
  assert.deepEqual(summaries.map((s) => s.names[0]).sort(), ['mail.customer-a.test', 'mail.customer-b.test']);
  // Clients without SNI still get the default.
  assert.equal(await presentedCn(server.addresses.get('imaps')!.port, 'implicit', null), 'mx.provider.test');
  // The challenge tokens were removed once validated.
  assert.equal(await server.store.getAcmeChallenge('x'.repeat(43)), undefined);
});

test('after a restart the stored certificates are served from the first connection', async () => {
  // A second process on the same data directory, not ordering: it has only the store.
  const restarted = await startServer({
    config: { ...config, listen: { ...config.listen, http: null }, acme: { ...config.acme, enabled: false } },
    logger: createLogger({ level: 'silent' }),
    monitor: false,
  }).catch((err: unknown) => assert.fail(String(err)));
  try {
    const ca = await pebble.root();
    const san = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: restarted.addresses.get('imaps')!.port, servername: 'mail.customer-b.test', ca }, () => {
        resolve(socket.getPeerX509Certificate()?.subjectAltName ?? '');
        socket.destroy();
      });
      socket.on('error', reject);
    });
    assert.equal(san, 'DNS:mail.customer-b.test');
  } finally {
    await restarted.close();
  }
});

test('a certificate is renewed when fewer than renew_days_before days are left', async () => {
  const before = await verifiedLeaf('mail.customer-a.test');
  const stored = await server.store.getTlsCertificate('mail.customer-a.test');
  // Another node whose clock says the certificate has 20 days left.
  const later = stored!.notAfter!.getTime() - 20 * 86_400_000;
  const node = createAcmeManager({ settings: config.acme, store: server.store, certificates: server.certificates, logger: createLogger({ level: 'silent' }), holder: 'node-2', now: () => later, pollMs: 100 });
  // 31 days left: nothing is due yet.
  const early = createAcmeManager({ settings: config.acme, store: server.store, certificates: server.certificates, logger: createLogger({ level: 'silent' }), holder: 'node-3', now: () => stored!.notAfter!.getTime() - 31 * 86_400_000, pollMs: 100 });
  await early.runOnce();
  assert.equal((await server.store.getTlsCertificate('mail.customer-a.test'))?.updatedAt.getTime(), stored!.updatedAt.getTime());
  await node.runOnce();
  await node.stop();
  const after = await verifiedLeaf('mail.customer-a.test');
  assert.notEqual(after.serialNumber, before.serialNumber, 'a new certificate is served');
  assert.ok(new Date(after.validTo) >= new Date(before.validTo));
  assert.notEqual((await server.store.getTlsCertificate('mail.customer-a.test'))?.updatedAt.getTime(), stored!.updatedAt.getTime());
});

test('a failed validation is recorded, backed off, and retried until it succeeds', async () => {
  await server.store.createDomain('customer-c.test');
  const name = 'mail.customer-c.test';
  // The name points at an address where nothing answers HTTP.
  await pebble.setA(name, '127.0.0.2');
  let now = Date.now();
  const node = createAcmeManager({ settings: config.acme, store: server.store, certificates: server.certificates, logger: createLogger({ level: 'silent' }), holder: 'node-2', now: () => now, pollMs: 100 });
  await node.runOnce();
  const failed = await server.store.getTlsCertificate(name);
  assert.equal(failed?.failures, 1);
  assert.equal(failed?.certPem, null);
  assert.match(failed?.lastError ?? '', /127\.0\.0\.2|refused/i, `the CA could not reach us: ${String(failed?.lastError)}`);
  assert.equal(failed?.nextAttemptAt?.getTime(), now + config.acme.retryMinSeconds * 1000);
  assert.equal(await presentedCn(server.addresses.get('imaps')!.port, 'implicit', name), 'mx.provider.test', 'the default meanwhile');
  // Monitoring sees the name without a certificate.
  const state = (await server.acme!.status()).find((n) => n.name === name);
  assert.deepEqual({ ...state, lastError: typeof state?.lastError }, { name, notAfter: null, failures: 1, lastError: 'string', nextAttemptAt: failed?.nextAttemptAt?.toISOString() });
  assert.ok((await server.acme!.status()).find((n) => n.name === 'mail.customer-a.test')?.notAfter);
  const registry = new Registry();
  registerAcmeMetrics(registry);
  assert.match(await registry.metrics(), /^steadymail_acme_failures\{name="mail\.customer-c\.test"\} 1$/m);
  assert.match(await registry.metrics(), /^steadymail_acme_failures\{name="mail\.customer-a\.test"\} 0$/m);

  // Before the backoff has passed nothing is tried.
  await node.runOnce();
  assert.equal((await server.store.getTlsCertificate(name))?.failures, 1);
  // A second failure doubles the wait.
  now += config.acme.retryMinSeconds * 1000;
  await node.runOnce();
  const twice = await server.store.getTlsCertificate(name);
  assert.equal(twice?.failures, 2);
  assert.equal(twice?.nextAttemptAt?.getTime(), now + 2 * config.acme.retryMinSeconds * 1000);

  // DNS fixed: the retry after the backoff succeeds.
  await pebble.clearA(name);
  now += 2 * config.acme.retryMinSeconds * 1000;
  await node.runOnce();
  await node.stop();
  const ok = await server.store.getTlsCertificate(name);
  assert.equal(ok?.failures, 0);
  assert.equal(ok?.nextAttemptAt, null);
  assert.equal((await verifiedLeaf(name)).subjectAltName, `DNS:${name}`);
});

test('an account the CA no longer knows is registered again', async () => {
  const account = await server.store.getAcmeAccount(config.acme.directoryUrl);
  assert.ok(account?.accountUrl);
  const stale = account.accountUrl.replace(/[^/]+$/, 'forgotten');
  await server.store.saveAcmeAccount({ ...account, accountUrl: stale });
  await server.store.createDomain('customer-d.test');
  const node = createAcmeManager({ settings: config.acme, store: server.store, certificates: server.certificates, logger: createLogger({ level: 'silent' }), holder: 'node-4', pollMs: 100 });
  await node.runOnce();
  await node.stop();
  const row = await server.store.getTlsCertificate('mail.customer-d.test');
  assert.equal(row?.failures, 0, String(row?.lastError));
  const healed = await server.store.getAcmeAccount(config.acme.directoryUrl);
  assert.equal(healed?.keyPem, account.keyPem, 'the same key');
  assert.notEqual(healed?.accountUrl, stale);
});

