// Hot reload: replaced certificate files are served to new connections without a
// restart, sessions that are open keep working, and a broken replacement never
// takes a working certificate out of service.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { createLogger } from '../../src/log.js';
import { startServer, type ServerHandle } from '../../src/server.js';
import { makeCertificate, presentedCn, testConfig, type TlsMode } from './helpers.js';

let dir: string;
let certs: string;
let server: ServerHandle;
let def: { cert: string; key: string };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'steadymail-reload-'));
  certs = join(dir, 'certs');
  mkdirSync(certs);
  def = makeCertificate(dir, 'default', 'mx-v1.provider.test', ['mx.provider.test']);
  makeCertificate(certs, 'a', 'a-v1', ['mail.customer-a.test']);
  const config = testConfig(dir, {
    STEADYMAIL_TLS_CERT: def.cert,
    STEADYMAIL_TLS_KEY: def.key,
    STEADYMAIL_TLS_CERTS_DIR: certs,
    // Long enough that only fs.watch (or an explicit reload) can explain what the tests see.
    STEADYMAIL_TLS_RELOAD_INTERVAL_SECONDS: '3600',
  });
  server = await startServer({ config, logger: createLogger({ level: 'silent' }), monitor: false });
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function port(name: string): number {
  const p = server.addresses.get(name as 'imaps')?.port;
  assert.ok(p);
  return p;
}

async function eventually(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An IMAPS session kept open across the reload. */
async function openImaps(servername: string): Promise<{ socket: TLSSocket; command(line: string): Promise<string>; cn: string }> {
  const socket = connect({ host: '127.0.0.1', port: port('imaps'), servername, rejectUnauthorized: false });
  let buffer = '';
  let waiting: (() => void) | undefined;
  socket.on('data', (d: Buffer) => {
    buffer += d.toString();
    waiting?.();
  });
  const until = async (re: RegExp): Promise<string> => {
    while (!re.test(buffer)) await new Promise<void>((r) => (waiting = r));
    const text = buffer;
    buffer = '';
    return text;
  };
  await until(/^\* OK .*\r\n/m);
  const cn = /CN=([^\n,]+)/.exec(socket.getPeerX509Certificate()?.subject ?? '')?.[1] ?? '';
  return {
    socket,
    cn,
    command: async (line) => {
      socket.write(`${line}\r\n`);
      return until(/^a\d* (OK|NO|BAD).*\r\n/m);
    },
  };
}

const PROBES: Array<[string, TlsMode]> = [
  ['imaps', 'implicit'],
  ['imap', 'imap'],
  ['pop3s', 'implicit'],
  ['pop3', 'pop3'],
  ['submissions', 'implicit'],
  ['smtp', 'smtp'],
];

test('a replaced certificate reaches new connections on every listener; open sessions keep working', async () => {
  const old = await openImaps('mail.customer-a.test');
  assert.equal(old.cn, 'a-v1');
  const oldDefault = await openImaps('unknown.test');
  assert.equal(oldDefault.cn, 'mx-v1.provider.test');

  // The way certbot and most tools replace files: write aside, rename into place.
  const next = makeCertificate(dir, 'a-next', 'a-v2', ['mail.customer-a.test']);
  renameSync(next.key, join(certs, 'a.key'));
  renameSync(next.cert, join(certs, 'a.crt'));
  // The default is overwritten in place (cp over the old file).
  const nextDefault = makeCertificate(dir, 'default-next', 'mx-v2.provider.test', ['mx.provider.test']);
  copyFileSync(nextDefault.key, def.key);
  copyFileSync(nextDefault.cert, def.cert);

  await eventually('the new customer certificate is served', async () => (await presentedCn(port('imaps'), 'implicit', 'mail.customer-a.test')) === 'a-v2');
  await eventually('the new default certificate is served', async () => (await presentedCn(port('imaps'), 'implicit', null)) === 'mx-v2.provider.test');
  for (const [name, mode] of PROBES) {
    assert.equal(await presentedCn(port(name), mode, 'mail.customer-a.test'), 'a-v2', `${name} with SNI`);
    assert.equal(await presentedCn(port(name), mode, null), 'mx-v2.provider.test', `${name} without SNI`);
  }

  // The sessions opened before the reload are untouched.
  assert.match(await old.command('a1 NOOP'), /^a1 OK/m);
  assert.match(await oldDefault.command('a1 CAPABILITY'), /^a1 OK/m);
  old.socket.destroy();
  oldDefault.socket.destroy();
});

test('a broken replacement keeps the working certificate in service until it is fixed', async () => {
  const before = await presentedCn(port('pop3s'), 'implicit', 'mail.customer-a.test');
  // A certificate whose key is another one's (a half-done replacement).
  const other = makeCertificate(dir, 'other', 'a-v3', ['mail.customer-a.test']);
  copyFileSync(other.cert, join(certs, 'a.crt'));
  await server.reloadCertificates();
  assert.equal(await presentedCn(port('pop3s'), 'implicit', 'mail.customer-a.test'), before);
  // The key arrives: the pair is complete and served.
  copyFileSync(other.key, join(certs, 'a.key'));
  await server.reloadCertificates();
  assert.equal(await presentedCn(port('pop3s'), 'implicit', 'mail.customer-a.test'), 'a-v3');
});

test('a certificate added to or removed from certs_dir is picked up', async () => {
  assert.equal(await presentedCn(port('imap'), 'imap', 'mail.customer-n.test'), 'mx-v2.provider.test');
  makeCertificate(certs, 'n', 'n-v1', ['mail.customer-n.test']);
  await eventually('the new file is served', async () => (await presentedCn(port('imap'), 'imap', 'mail.customer-n.test')) === 'n-v1');
  rmSync(join(certs, 'n.crt'));
  await server.reloadCertificates();
  assert.equal(await presentedCn(port('imap'), 'imap', 'mail.customer-n.test'), 'mx-v2.provider.test');
});
