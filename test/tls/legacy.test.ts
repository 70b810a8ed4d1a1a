// tls.legacy_versions_on: TLS 1.0/1.1 for very old Outlook versions on the chosen
// listeners only, with SNI still working there, and a warning at start.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log.js';
import { startServer, type ServerHandle } from '../../src/server.js';
import { TLS_LISTENERS, legacyHandshake, makeCertificate, presentedCn, testConfig } from './helpers.js';

let dir: string;
let server: ServerHandle;
const logged: Array<{ level: string; msg: string; listeners?: string[] }> = [];
const LEGACY = ['submissions', 'pop3s', 'imap'];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'steadymail-legacy-'));
  const def = makeCertificate(dir, 'default', 'mx.provider.test', ['mx.provider.test']);
  const a = makeCertificate(dir, 'a', 'mail.customer-a.test', ['mail.customer-a.test']);
  const config = testConfig(dir, {
    STEADYMAIL_TLS_CERT: def.cert,
    STEADYMAIL_TLS_KEY: def.key,
    STEADYMAIL_TLS_LEGACY_VERSIONS_ON: LEGACY.join(','),
  });
  config.tls.extraCerts = [a];
  const logger = createLogger({ level: 'warn' }, { write: (s: string) => logged.push(JSON.parse(s) as { level: string; msg: string }) });
  server = await startServer({ config, logger, monitor: false });
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('TLS 1.0 and 1.1 are accepted only on the listeners named, with SNI', async () => {
  for (const [name, mode] of TLS_LISTENERS) {
    const port = server.addresses.get(name)!.port;
    for (const version of ['-tls1', '-tls1_1'] as const) {
      const r = await legacyHandshake(port, mode, 'mail.customer-a.test', version);
      if (LEGACY.includes(name)) {
        assert.deepEqual(r, { protocol: version === '-tls1' ? 'TLSv1' : 'TLSv1.1', cn: 'mail.customer-a.test' }, `${name} ${version}`);
        assert.equal((await legacyHandshake(port, mode, null, version))?.cn, 'mx.provider.test', `${name} ${version} without SNI`);
      } else {
        assert.equal(r, null, `${name} refuses ${version}`);
      }
    }
    // Modern clients are unaffected.
    assert.equal(await presentedCn(port, mode, 'mail.customer-a.test'), 'mail.customer-a.test');
  }
});

test('the operator is warned at start', () => {
  const warning = logged.find((l) => l.level === 'warn' && /TLS 1\.0 and 1\.1 are accepted/.test(l.msg));
  assert.ok(warning);
  assert.deepEqual(warning.listeners, LEGACY);
});
