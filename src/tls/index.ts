// The server certificate: the operator's (tls.cert / tls.key) or, when neither is set, a
// self-signed one generated into data_dir/tls/ on first start and reused afterwards.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/index.js';

export interface ServerCertificate {
  /** Ready for tls.createSecureContext() / tls.createServer(). */
  options: { cert: string; key: string };
  notAfter: Date;
  certPath: string;
  keyPath: string;
  /** True when the certificate is our own self-signed one. */
  selfSigned: boolean;
  /** True when it was generated during this call. */
  generated: boolean;
}

export class TlsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TlsError';
  }
}

const VALID_DAYS = 825; // the longest validity Apple and browsers accept for a server certificate

async function readPair(certPath: string, keyPath: string): Promise<{ cert: string; key: string; notAfter: Date }> {
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  } catch (err) {
    throw new TlsError(`cannot read the TLS certificate or key: ${(err as Error).message}`, { cause: err });
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new TlsError(`invalid TLS certificate ${certPath}: ${(err as Error).message}`, { cause: err });
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new TlsError(`invalid TLS key ${keyPath}: ${(err as Error).message}`, { cause: err });
  }
  if (!x509.checkPrivateKey(privateKey)) throw new TlsError(`invalid TLS certificate or key: ${keyPath} is not the key of ${certPath}`);
  return { cert, key, notAfter: new Date(x509.validTo) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await readFile(path);
    return true;
  } catch {
    return false;
  }
}

export async function generateSelfSigned(hostname: string, now = new Date()): Promise<{ cert: string; key: string }> {
  const notAfterDate = new Date(now.getTime() + VALID_DAYS * 24 * 3600 * 1000);
  // Loaded only when needed: the package is slow to import and most starts reuse the certificate.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: hostname },
          ...(hostname === 'localhost' ? [] : [{ type: 2 as const, value: 'localhost' }]),
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** Writes via a temp file and rename so a crash never leaves half a key behind. */
async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode); // the umask may have narrowed or (for 0644) kept it
  await rename(tmp, path);
}

export async function loadCertificate(config: {
  hostname: string;
  dataDir: string;
  tls: Pick<Config['tls'], 'cert' | 'key'>;
}): Promise<ServerCertificate> {
  if (config.tls.cert !== null && config.tls.key !== null) {
    const pair = await readPair(config.tls.cert, config.tls.key);
    return {
      options: { cert: pair.cert, key: pair.key },
      notAfter: pair.notAfter,
      certPath: config.tls.cert,
      keyPath: config.tls.key,
      selfSigned: false,
      generated: false,
    };
  }
  const dir = join(config.dataDir, 'tls');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  if ((await exists(certPath)) && (await exists(keyPath))) {
    const pair = await readPair(certPath, keyPath);
    // An expired self-signed certificate is replaced rather than served.
    if (pair.notAfter.getTime() > Date.now()) {
      return { options: { cert: pair.cert, key: pair.key }, notAfter: pair.notAfter, certPath, keyPath, selfSigned: true, generated: false };
    }
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const fresh = await generateSelfSigned(config.hostname);
  await writeAtomically(keyPath, fresh.key, 0o600);
  await writeAtomically(certPath, fresh.cert, 0o644);
  const notAfter = new Date(new X509Certificate(fresh.cert).validTo);
  return { options: fresh, notAfter, certPath, keyPath, selfSigned: true, generated: true };
}
