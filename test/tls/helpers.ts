// Certificates made with openssl for the TLS tests, and openssl s_client as the peer
// that reports which certificate a listener presented.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config/index.js';

/** A self-signed EC certificate with subject CN `cn`, the DNS names `sans` and addresses `ips`; returns the file paths. */
export function makeCertificate(dir: string, file: string, cn: string, sans: string[], days = 90, ips: string[] = []): { cert: string; key: string } {
  const cert = join(dir, `${file}.crt`);
  const key = join(dir, `${file}.key`);
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', String(days), '-subj', `/CN=${cn}`];
  const alt = [...sans.map((s) => `DNS:${s}`), ...ips.map((ip) => `IP:${ip}`)];
  if (alt.length > 0) args.push('-addext', `subjectAltName=${alt.join(',')}`);
  execFileSync('openssl', args, { stdio: 'ignore' });
  return { cert, key };
}

/** Writes the certificate and key into one file (the combined layout). */
export function combine(pair: { cert: string; key: string }, path: string): string {
  writeFileSync(path, readFileSync(pair.cert, 'utf8') + readFileSync(pair.key, 'utf8'));
  return path;
}

export type TlsMode = 'implicit' | 'smtp' | 'pop3' | 'imap';

/** The subject CN of the certificate the server presents, as openssl s_client sees it. */
export async function presentedCn(port: number, mode: TlsMode, servername: string | null): Promise<string> {
  const stdout = await sClient(port, mode, servername, []);
  const m = /^subject=.*CN\s*=\s*([^,\n]+)/m.exec(stdout);
  if (!m?.[1]) throw new Error(`no certificate in openssl output: ${stdout.slice(0, 500)}`);
  return m[1].trim();
}

/** A handshake with only TLS `version` offered: the protocol and CN, or null when refused. */
export async function legacyHandshake(port: number, mode: TlsMode, servername: string | null, version: '-tls1' | '-tls1_1'): Promise<{ protocol: string; cn: string } | null> {
  const stdout = await sClient(port, mode, servername, [version, '-cipher', 'DEFAULT:@SECLEVEL=0']);
  const protocol = /^\s*Protocol\s*:\s*(\S+)/m.exec(stdout)?.[1];
  const cn = /^subject=.*CN\s*=\s*([^,\n]+)/m.exec(stdout)?.[1];
  return protocol && cn ? { protocol, cn: cn.trim() } : null;
}

async function sClient(port: number, mode: TlsMode, servername: string | null, extra: string[]): Promise<string> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, ...extra];
  if (mode !== 'implicit') args.push('-starttls', mode);
  args.push(...(servername === null ? ['-noservername'] : ['-servername', servername]));
  const stdout = await new Promise<string>((resolve, reject) => {
    // stdin at EOF: s_client prints the handshake and quits.
    const child = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
  return stdout;
}

/** A configuration with every mail listener on 127.0.0.1:0 (HTTP as given), from environment-style keys. */
export function testConfig(dataDir: string, env: Record<string, string>, http = 'off'): Config {
  const listeners = ['SMTP', 'SUBMISSION', 'SUBMISSIONS', 'POP3', 'POP3S', 'IMAP', 'IMAPS'];
  const base: Record<string, string> = {
    STEADYMAIL_DATA_DIR: dataDir,
    STEADYMAIL_HOSTNAME: 'mx.provider.test',
    STEADYMAIL_LISTEN_HTTP: http,
    STEADYMAIL_LISTEN_SNMP: 'off',
    STEADYMAIL_LISTEN_MANAGESIEVE: 'off',
    STEADYMAIL_OUTBOUND_ENABLED: 'false',
    STEADYMAIL_LOG_LEVEL: 'silent',
  };
  for (const l of listeners) base[`STEADYMAIL_LISTEN_${l}`] = '127.0.0.1:0';
  return loadConfig({ env: { ...base, ...env }, cwd: dataDir });
}

/** Listener name → how openssl reaches TLS on it. */
export const TLS_LISTENERS: Array<[name: 'smtp' | 'submission' | 'submissions' | 'pop3' | 'pop3s' | 'imap' | 'imaps', mode: TlsMode]> = [
  ['smtp', 'smtp'],
  ['submission', 'smtp'],
  ['submissions', 'implicit'],
  ['pop3', 'pop3'],
  ['pop3s', 'implicit'],
  ['imap', 'imap'],
  ['imaps', 'implicit'],
];
