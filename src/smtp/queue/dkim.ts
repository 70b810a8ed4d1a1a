// DKIM signing of outgoing mail (RFC 6376) with mailauth, and key generation.
//
// Rules:
// - A domain's key is data_dir/dkim/<domain>.pem (PKCS#8, mode 0600); no file, no
//   signature. The selector is the same for every domain (configurable).
// - rsa-sha256 with 2048-bit keys (RFC 8301 3.2: at least 1024, 2048 recommended).
// - The record to publish is "<selector>._domainkey.<domain> TXT v=DKIM1; k=rsa; p=…".

import { createRequire } from 'node:module';
import { generateKeyPair, createPublicKey } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

interface DkimSignResult {
  signatures: string;
  errors?: unknown[];
}
type DkimSign = (input: Buffer, options: { canonicalization: string; signatureData: Array<{ signingDomain: string; selector: string; privateKey: string; algorithm: string }> }) => Promise<DkimSignResult>;
// mailauth is CommonJS without typings: the one function used here.
const { dkimSign } = createRequire(import.meta.url)('mailauth/lib/dkim/sign') as { dkimSign: DkimSign };

export const DEFAULT_DKIM_SELECTOR = 'steadymail';

export function dkimKeyPath(dataDir: string, domain: string): string {
  if (!/^[a-z0-9.-]+$/.test(domain)) throw new Error(`invalid domain ${JSON.stringify(domain)}`);
  return join(dataDir, 'dkim', `${domain}.pem`);
}

async function readKey(dataDir: string, domain: string): Promise<string | undefined> {
  try {
    return await readFile(dkimKeyPath(dataDir, domain), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The message with a DKIM-Signature header prepended, or unchanged when the domain has no key. */
export async function signMessage(dataDir: string, selector: string, domain: string, message: Buffer): Promise<Buffer> {
  const privateKey = await readKey(dataDir, domain);
  if (privateKey === undefined) return message;
  const res = await dkimSign(message, {
    canonicalization: 'relaxed/relaxed',
    signatureData: [{ signingDomain: domain, selector, privateKey, algorithm: 'rsa-sha256' }],
  });
  if (res.errors && res.errors.length > 0) throw new Error(`DKIM signing for ${domain} failed`, { cause: res.errors[0] });
  return Buffer.concat([Buffer.from(res.signatures), message]);
}

/** The TXT record publishing a private key's public half (RFC 6376 3.6.1). */
export function dkimRecord(privateKeyPem: string, domain: string, selector: string): { name: string; value: string } {
  const spki = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' });
  return { name: `${selector}._domainkey.${domain}`, value: `v=DKIM1; k=rsa; p=${spki.toString('base64')}` };
}

/** Creates the domain's key unless it exists; returns the DNS record to publish. */
export async function generateDkimKey(dataDir: string, domain: string, selector = DEFAULT_DKIM_SELECTOR): Promise<{ path: string; created: boolean; name: string; value: string }> {
  const path = dkimKeyPath(dataDir, domain);
  let pem = await readKey(dataDir, domain);
  const created = pem === undefined;
  if (pem === undefined) {
    const pair = await promisify(generateKeyPair)('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    pem = pair.privateKey;
    await mkdir(join(dataDir, 'dkim'), { recursive: true, mode: 0o700 });
    await writeFile(path, pem, { mode: 0o600, flag: 'wx' });
  }
  return { path, created, ...dkimRecord(pem, domain, selector) };
}

/** The DNS record of the domain's existing key; undefined when it has none. */
export async function existingDkimRecord(dataDir: string, domain: string, selector = DEFAULT_DKIM_SELECTOR): Promise<{ name: string; value: string } | undefined> {
  const pem = await readKey(dataDir, domain);
  return pem === undefined ? undefined : dkimRecord(pem, domain, selector);
}
