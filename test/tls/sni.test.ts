// SNI on every TLS listener: the certificate follows the name the client asks for
// (exact, then wildcard), and clients that send no name get the default.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log.js';
import { startServer, type ServerHandle } from '../../src/server.js';
import { certificateSummaries } from '../../src/tls/cert-store.js';
import { TLS_LISTENERS, combine, makeCertificate, presentedCn, testConfig } from './helpers.js';

let dir: string;
let server: ServerHandle;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'steadymail-sni-'));
  const certs = join(dir, 'certs');
  mkdirSync(certs);
  const def = makeCertificate(dir, 'default', 'mx.provider.test', ['mx.provider.test']);
  const a = makeCertificate(dir, 'a', 'mail.customer-a.test', ['mail.customer-a.test', 'autoconfig.customer-a.test']);
  // certs_dir: a name.crt + name.key pair, a combined .pem, and a wildcard.
  makeCertificate(certs, 'b', 'mail.customer-b.test', ['mail.customer-b.test']);
  combine(makeCertificate(dir, 'c', 'mail.customer-c.test', ['mail.customer-c.test']), join(certs, 'customer-c.pem'));
  makeCertificate(certs, 'wild', 'wildcard.customer-d.test', ['*.customer-d.test']);
  makeCertificate(certs, 'exact-d', 'mail.customer-d.test', ['mail.customer-d.test']);
  // No SAN at all: the subject CN is the name.
  makeCertificate(certs, 'cn-only', 'legacy.customer-e.test', []);
  const config = testConfig(dir, {
    STEADYMAIL_TLS_CERT: def.cert,
    STEADYMAIL_TLS_KEY: def.key,
    STEADYMAIL_TLS_EXTRA_CERTS: combine(a, join(dir, 'a-combined.pem')),
    STEADYMAIL_TLS_CERTS_DIR: certs,
  });
  server = await startServer({ config, logger: createLogger({ level: 'silent' }), monitor: false });
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const cases: Array<[servername: string | null, cn: string]> = [
  [null, 'mx.provider.test'],
  ['mail.customer-a.test', 'mail.customer-a.test'],
  ['AutoConfig.Customer-A.test', 'mail.customer-a.test'],
  ['mail.customer-b.test', 'mail.customer-b.test'],
  ['mail.customer-c.test', 'mail.customer-c.test'],
  ['mail.customer-d.test', 'mail.customer-d.test'],
  ['imap.customer-d.test', 'wildcard.customer-d.test'],
  ['legacy.customer-e.test', 'legacy.customer-e.test'],
  ['unknown.example', 'mx.provider.test'],
  // A wildcard covers one label only (RFC 6125 6.4.3).
  ['a.b.customer-d.test', 'mx.provider.test'],
];

for (const [listener, mode] of TLS_LISTENERS) {
  test(`${listener}: the certificate is chosen by SNI (${mode === 'implicit' ? 'implicit TLS' : 'STARTTLS'})`, async () => {
    const port = server.addresses.get(listener)?.port;
    assert.ok(port, `${listener} is listening`);
    for (const [servername, cn] of cases) {
      assert.equal(await presentedCn(port, mode, servername), cn, `${listener} with SNI ${servername ?? '(none)'}`);
    }
  });
}

test('certificateSummaries() lists every certificate served, with its expiry', () => {
  const summaries = certificateSummaries();
  const names = summaries.flatMap((s) => s.names).sort();
  assert.deepEqual(names, [
    '*.customer-d.test',
    'autoconfig.customer-a.test',
    'legacy.customer-e.test',
    'mail.customer-a.test',
    'mail.customer-b.test',
    'mail.customer-c.test',
    'mail.customer-d.test',
    'mx.provider.test',
  ]);
  const def = summaries.find((s) => s.isDefault);
  assert.deepEqual(def?.names, ['mx.provider.test']);
  for (const s of summaries) {
    assert.equal(s.status, 'ok');
    assert.ok(s.daysLeft >= 88 && s.daysLeft <= 90, `${s.id}: ${s.daysLeft} days`);
    assert.equal(s.source, 'file');
  }
});
