// A farm on one PostgreSQL: node A orders a certificate, the CA's HTTP-01 request
// reaches node B (which does not order itself) and is answered from the store, and
// node B then serves the certificate node A obtained.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { createLogger } from '../../src/log.js';
import { startServer, type ServerHandle } from '../../src/server.js';
import { openStore } from '../../src/store/open.js';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';
import { testConfig } from './helpers.js';
import { startPebble, type Pebble } from './pebble.js';
import { freePort } from '../free-port.js';

let dir: string;
let pebble: Pebble;
let db: { url: string; drop: () => Promise<void> };
let nodeA: ServerHandle;
let nodeB: ServerHandle;
let httpB: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'steadymail-acme-farm-'));
  db = await createTestDatabase();
  httpB = await freePort();
  pebble = await startPebble(dir, httpB);
  const store = await openStore({ driver: 'postgres', url: db.url, dataDir: join(dir, 'setup') });
  await store.createDomain('customer-f.test');
  await store.close();
  const common = {
    STEADYMAIL_STORE_DRIVER: 'postgres',
    STEADYMAIL_STORE_URL: db.url,
    STEADYMAIL_ACME_TERMS_AGREED: 'true',
    STEADYMAIL_ACME_DIRECTORY_URL: pebble.directoryUrl,
    STEADYMAIL_ACME_CA_FILE: pebble.caFile,
    STEADYMAIL_ACME_DOMAIN_NAMES: 'mail.{domain}',
  };
  const logger = createLogger({ level: 'silent' });
  // B first: the CA's validation request goes to B.
  nodeB = await startServer({ config: testConfig(join(dir, 'b'), { ...common, STEADYMAIL_ACME_ENABLED: 'false' }, `127.0.0.1:${httpB}`), logger, monitor: false });
  nodeA = await startServer({ config: testConfig(join(dir, 'a'), { ...common, STEADYMAIL_ACME_ENABLED: 'true' }, '127.0.0.1:0'), logger, monitor: false, acmePollMs: 100 });
});

after(async () => {
  await nodeA?.close();
  await nodeB?.close();
  await pebble?.stop();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

test('node B answers the challenge for node A and then serves the certificate A obtained', async () => {
  await nodeA.acme!.runOnce();
  const row = await nodeB.store.getTlsCertificate('mail.customer-f.test');
  assert.equal(row?.failures, 0, String(row?.lastError));
  assert.ok(row?.certPem);

  await nodeB.acme!.runOnce();
  const ca = await pebble.root();
  const leaf = await new Promise<string>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: nodeB.addresses.get('pop3s')!.port, servername: 'mail.customer-f.test', ca }, () => {
      const san = socket.getPeerX509Certificate()?.subjectAltName ?? '';
      socket.destroy();
      resolve(san);
    });
    socket.on('error', reject);
  });
  assert.equal(leaf, 'DNS:mail.customer-f.test');
  // Node B never ordered: one account, one certificate.
  assert.equal((await nodeB.store.listTlsCertificates()).length, 1);
});

test('the challenge route answers only tokens in the store', async () => {
  await nodeA.store.putAcmeChallenge('tok_abcdefghijklmnop', 'tok_abcdefghijklmnop.thumbprint', 'mail.customer-f.test', new Date(Date.now() + 60_000));
  const base = `http://127.0.0.1:${httpB}/.well-known/acme-challenge`;
  const hit = await fetch(`${base}/tok_abcdefghijklmnop`);
  assert.equal(hit.status, 200);
  assert.equal(await hit.text(), 'tok_abcdefghijklmnop.thumbprint');
  assert.equal((await fetch(`${base}/tok_unknown_0123456789`)).status, 404);
  assert.equal((await fetch(`${base}/not%20a%20token`)).status, 404);
});
