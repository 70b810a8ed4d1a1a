// Debian's pebble (an ACME test CA) and pebble-challtestsrv (its DNS) on loopback, each
// on free ports, for the ACME tests. Names resolve to 127.0.0.1 unless told otherwise.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:https';
import { makeCertificate } from './helpers.js';
import { freePort } from '../free-port.js';

export interface Pebble {
  directoryUrl: string;
  /** The CA certificate pebble's own HTTPS uses (acme.ca_file). */
  caFile: string;
  /** The root that signs issued certificates. */
  root(): Promise<string>;
  /** Makes `host` resolve to `address` (127.0.0.1 by default). */
  setA(host: string, address: string): Promise<void>;
  clearA(host: string): Promise<void>;
  stop(): Promise<void>;
}

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function post(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
}

/** Starts the DNS and the CA; `httpPort` is where pebble validates HTTP-01 (our HTTP listener). */
export async function startPebble(dir: string, httpPort: number): Promise<Pebble> {
  // Pebble's own HTTPS: the directory is https://127.0.0.1:port/dir; this certificate is also the CA we trust for it.
  const tls = makeCertificate(dir, 'pebble-https', 'localhost', ['localhost'], 30, ['127.0.0.1']);
  const [listen, management, dns, dnsManagement] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const config = join(dir, 'pebble-config.json');
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${listen}`,
        managementListenAddress: `127.0.0.1:${management}`,
        certificate: tls.cert,
        privateKey: tls.key,
        httpPort,
        tlsPort: await freePort(),
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const children: ChildProcess[] = [];
  const output: string[] = [];
  const track = (c: ChildProcess): void => {
    children.push(c);
    c.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
    c.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  };
  track(
    spawn('pebble-challtestsrv', ['-dns01', `127.0.0.1:${dns}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${dnsManagement}`, '-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  track(
    spawn('pebble', ['-config', config, '-dnsserver', `127.0.0.1:${dns}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
    }),
  );
  const ca = readFileSync(tls.cert, 'utf8');
  const directoryUrl = `https://127.0.0.1:${listen}/dir`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await get(directoryUrl, ca).then((r) => r.status === 200, () => false);
    const dnsUp = await fetch(`http://127.0.0.1:${dnsManagement}/`).then(() => true, () => false);
    if (ok && dnsUp) break;
    if (Date.now() > deadline) throw new Error(`pebble did not start: ${output.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    directoryUrl,
    caFile: tls.cert,
    root: async () => (await get(`https://127.0.0.1:${management}/roots/0`, ca)).body,
    setA: (host, address) => post(`http://127.0.0.1:${dnsManagement}/add-a`, { host: `${host}.`, addresses: [address] }),
    clearA: (host) => post(`http://127.0.0.1:${dnsManagement}/clear-a`, { host: `${host}.` }),
    async stop() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
