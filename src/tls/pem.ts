// PEM files as operators and CAs hand them out: a certificate chain (leaf first) and a
// private key, in two files or in one. Names a certificate serves come from its
// subjectAltName DNS entries, or from the subject CN when it has none (RFC 6125 6.4.4).
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { domainToASCII } from 'node:url';

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/;

export class PemError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PemError';
  }
}

export interface ParsedPair {
  /** The chain, leaf first, as PEM (what a TLS server sends). */
  cert: string;
  key: string;
  /** Lower-case A-label names, wildcards as `*.example.com`. */
  names: string[];
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  fingerprint256: string;
  selfSigned: boolean;
}

/** The certificate blocks of a PEM text, in order. */
export function certificateBlocks(text: string): string[] {
  return text.match(CERT_BLOCK) ?? [];
}

/** The first private key block of a PEM text, if any. */
export function keyBlock(text: string): string | undefined {
  return KEY_BLOCK.exec(text)?.[0];
}

/** A host name as certificates and SNI compare it: lower case, no trailing dot, A-labels. */
export function normalizeHostname(name: string): string {
  const trimmed = name.trim().replace(/\.$/, '').toLowerCase();
  if (trimmed.startsWith('*.')) {
    const rest = domainToASCII(trimmed.slice(2));
    return rest === '' ? trimmed : `*.${rest}`;
  }
  const ascii = domainToASCII(trimmed);
  return ascii === '' ? trimmed : ascii;
}

/** DNS names of a certificate: subjectAltName DNS entries, else the subject CN. */
export function certificateNames(x509: X509Certificate): string[] {
  const names: string[] = [];
  for (const part of (x509.subjectAltName ?? '').split(/,\s*/)) {
    const m = /^DNS:"?([^"]+)"?$/.exec(part.trim());
    if (m?.[1]) names.push(normalizeHostname(m[1]));
  }
  if (names.length === 0) {
    const cn = /^CN=(.+)$/m.exec(x509.subject)?.[1];
    if (cn && /^[*a-z0-9.-]+$/i.test(cn.trim())) names.push(normalizeHostname(cn));
  }
  return [...new Set(names)];
}

/** Checks that `key` belongs to the leaf of `certText` and reads what the store needs. */
export function parsePair(certText: string, keyText: string, where: string): ParsedPair {
  const blocks = certificateBlocks(certText);
  if (blocks.length === 0) throw new PemError(`${where}: no certificate found`);
  const key = keyBlock(keyText);
  if (key === undefined) throw new PemError(`${where}: no private key found`);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(blocks[0]!);
  } catch (err) {
    throw new PemError(`${where}: invalid certificate: ${(err as Error).message}`, { cause: err });
  }
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key));
  } catch (err) {
    throw new PemError(`${where}: invalid private key: ${(err as Error).message}`, { cause: err });
  }
  if (!matches) throw new PemError(`${where}: the private key is not the key of the certificate`);
  return {
    cert: `${blocks.join('\n')}\n`,
    key: `${key}\n`,
    names: certificateNames(x509),
    subject: x509.subject.replace(/\n/g, ', '),
    issuer: x509.issuer.replace(/\n/g, ', '),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    fingerprint256: x509.fingerprint256,
    selfSigned: x509.subject === x509.issuer && x509.checkIssued(x509),
  };
}

/** Whether `pattern` (a certificate name, maybe `*.`) covers the host name (RFC 6125 6.4.3: one label). */
export function nameMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (!pattern.startsWith('*.')) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === pattern.slice(2);
}
