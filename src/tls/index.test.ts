import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCertificate, TlsError } from './index.js';

function config(dataDir: string, tls: { cert: string | null; key: string | null } = { cert: null, key: null }) {
  return { dataDir, hostname: 'mx.example.test', tls };
}

test('generates a self-signed certificate on first start and reuses it afterwards', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'steadymail-tls-'));
  const first = await loadCertificate(config(dataDir));
  assert.equal(first.generated, true);
  assert.equal(first.selfSigned, true);
  assert.equal(first.certPath, join(dataDir, 'tls', 'cert.pem'));
  assert.equal(statSync(first.keyPath).mode & 0o777, 0o600);

  const x509 = new X509Certificate(readFileSync(first.certPath));
  assert.equal(x509.subjectAltName, 'DNS:mx.example.test, DNS:localhost, IP Address:127.0.0.1');
  assert.equal(x509.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  const days = (first.notAfter.getTime() - Date.now()) / 86400000;
  assert.ok(days > 824 && days <= 825, `valid for ${days} days`);

  const second = await loadCertificate(config(dataDir));
  assert.equal(second.generated, false);
  assert.equal(second.options.cert, first.options.cert);
});

test('the certificate serves TLS for localhost', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'steadymail-tls-'));
  const cert = await loadCertificate(config(dataDir));
  const server = createServer(cert.options, (socket) => socket.end('hello'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  const received = await new Promise<string>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: address.port, servername: 'localhost', ca: cert.options.cert });
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.equal(received, 'hello');
});

test('loads the operator certificate from tls.cert / tls.key', async () => {
  const made = await loadCertificate(config(mkdtempSync(join(tmpdir(), 'steadymail-tls-'))));
  const other = mkdtempSync(join(tmpdir(), 'steadymail-tls-'));
  const loaded = await loadCertificate(config(other, { cert: made.certPath, key: made.keyPath }));
  assert.equal(loaded.selfSigned, false);
  assert.equal(loaded.generated, false);
  assert.equal(loaded.options.key, made.options.key);
  assert.deepEqual(loaded.notAfter, made.notAfter);
});

test('a missing file or a key that does not match is a TlsError', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steadymail-tls-'));
  await assert.rejects(loadCertificate(config(dir, { cert: join(dir, 'nope.pem'), key: join(dir, 'nope.key') })), TlsError);
  const a = await loadCertificate(config(mkdtempSync(join(tmpdir(), 'steadymail-tls-'))));
  const b = await loadCertificate(config(mkdtempSync(join(tmpdir(), 'steadymail-tls-'))));
  await assert.rejects(loadCertificate(config(dir, { cert: a.certPath, key: b.keyPath })), /not the key/);
  writeFileSync(join(dir, 'junk.pem'), 'junk');
  await assert.rejects(loadCertificate(config(dir, { cert: join(dir, 'junk.pem'), key: a.keyPath })), TlsError);
});
