// The SNMP agent of a real server, queried with Debian's snmpget and snmpwalk (net-snmp
// tools) over UDP: v2c with the community, v3 with the USM user, a wrong community
// refused; applTable, mtaTable and STEADYMAIL-MIB values follow the probes, and a stopped
// listener shows as down.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { hashPassword } from '../../src/auth/password.js';
import { loadConfig, type ListenAddress, type ListenerName } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { LISTENERS, startServer, type Listener, type ListenerFactory, type ServerHandle } from '../../src/server.js';
import { openStore } from '../../src/store/open.js';
import { ENTERPRISE_OID } from '../../src/snmp/agent.js';

const run = promisify(execFile);
const ACCOUNT = 'probe@snmp.test';
const PASSWORD = 'probe-secret';
const COMMUNITY = 'n0c-read-only';
const SM = `${ENTERPRISE_OID}.1`;
let dataDir: string;
let server: ServerHandle;
const real = new Map<ListenerName, Listener>();

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'steadymail-snmp-'));
  const store = await openStore({ driver: 'sqlite', dataDir });
  await store.createDomain('snmp.test');
  await store.createAccount({ address: ACCOUNT, passwordHash: await hashPassword(PASSWORD) });
  await store.close();
  const listen = Object.fromEntries(['SMTP', 'SUBMISSION', 'POP3', 'IMAP', 'HTTP', 'SNMP'].map((n) => [`STEADYMAIL_LISTEN_${n}`, '127.0.0.1:0']));
  const config = loadConfig({
    cwd: dataDir,
    env: {
      ...listen,
      STEADYMAIL_LISTEN_SUBMISSIONS: 'off',
      STEADYMAIL_LISTEN_MANAGESIEVE: 'off',
      STEADYMAIL_LISTEN_POP3S: 'off',
      STEADYMAIL_LISTEN_IMAPS: 'off',
      STEADYMAIL_DATA_DIR: dataDir,
      STEADYMAIL_HOSTNAME: 'mx.snmp.test',
      STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '1',
      STEADYMAIL_MONITOR_PROBE_INTERVAL_SECONDS: '3600',
      STEADYMAIL_MONITOR_PROBE_ACCOUNT: ACCOUNT,
      STEADYMAIL_MONITOR_PROBE_PASSWORD: PASSWORD,
      STEADYMAIL_SNMP_COMMUNITY: COMMUNITY,
      STEADYMAIL_SNMP_V3_USER: 'nms',
      STEADYMAIL_SNMP_V3_AUTH_PASSWORD: 'auth-secret-1',
      STEADYMAIL_SNMP_V3_PRIV_PASSWORD: 'priv-secret-1',
    },
  });
  const listeners = Object.fromEntries(
    Object.entries(LISTENERS).map(([name, factory]) => [
      name,
      (context: Parameters<ListenerFactory>[0], address: ListenAddress) => {
        const listener = factory(context, address);
        real.set(name as ListenerName, listener);
        return listener;
      },
    ]),
  );
  server = await startServer({ config, logger: createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() })), listeners });
});

after(async () => {
  await server?.close().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

function target(): string {
  const a = server.addresses.get('snmp');
  assert.ok(a, 'the agent is listening');
  return `udp:127.0.0.1:${a.port}`;
}

/** OID → value, from net-snmp tool output with numeric OIDs and enums (-On -Oe -OQ). */
function parse(out: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^(\.[\d.]+) = (.*)$/.exec(line.trim());
    if (m) map.set(m[1]!.slice(1), m[2]!.replace(/^"(.*)"$/, '$1'));
  }
  return map;
}

async function v2(tool: 'snmpget' | 'snmpwalk', ...oids: string[]): Promise<Map<string, string>> {
  const { stdout } = await run(`/usr/bin/${tool}`, ['-v2c', '-c', COMMUNITY, '-On', '-Oe', '-OQ', '-r', '1', '-t', '3', target(), ...oids]);
  return parse(stdout);
}

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the SNMP agent');
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('v2c: system group and applTable rows follow the probes', async () => {
  const monitor = server.monitor;
  assert.ok(monitor);
  await monitor.runOnce();
  const sys = await v2('snmpget', '1.3.6.1.2.1.1.1.0', '1.3.6.1.2.1.1.2.0', '1.3.6.1.2.1.1.5.0');
  assert.match(sys.get('1.3.6.1.2.1.1.1.0') ?? '', /^Steadymail \S+ mail server$/);
  assert.equal(sys.get('1.3.6.1.2.1.1.2.0'), `.${ENTERPRISE_OID}`);
  assert.equal(sys.get('1.3.6.1.2.1.1.5.0'), 'mx.snmp.test');
  // pop3 is the 3rd component: applIndex 3.
  await until(async () => (await v2('snmpget', '1.3.6.1.2.1.27.1.1.6.3')).get('1.3.6.1.2.1.27.1.1.6.3') === '1');
  const appl = await v2('snmpwalk', '1.3.6.1.2.1.27.1.1.2');
  assert.deepEqual([...appl.values()], ['Incoming mail (SMTP)', 'Sending mail (submission)', 'POP3', 'IMAP', 'Web (HTTP)', 'End-to-end delivery', 'Mail storage', 'TLS certificates']);
  const status = await v2('snmpwalk', '1.3.6.1.2.1.27.1.1.6');
  assert.deepEqual([...status.values()], ['1', '1', '1', '1', '1', '1', '1', '1'], 'all up');
  const names = await v2('snmpwalk', `${SM}.1.1.2`);
  assert.deepEqual([...names.values()], ['smtp', 'submission', 'pop3', 'imap', 'http', 'delivery', 'store', 'certificates']);
});

test('v2c: store, queue, connections, message counters and mtaTable', async () => {
  const store = await v2('snmpget', `${SM}.5.1.0`, `${SM}.5.2.0`, `${SM}.5.3.0`, `${SM}.5.5.0`, `${SM}.2.1.0`);
  assert.match(store.get(`${SM}.5.5.0`) ?? '', /^\d+$/, 'smStoreKBytes');
  assert.equal(store.get(`${SM}.5.1.0`), '1', 'store up');
  assert.equal(store.get(`${SM}.5.2.0`), '1', 'one domain');
  assert.equal(store.get(`${SM}.5.3.0`), '1', 'one account');
  assert.equal(store.get(`${SM}.2.1.0`), '0', 'queue empty');
  const protocols = await v2('snmpwalk', `${SM}.3.1.2`);
  assert.ok([...protocols.values()].includes('imap'));
  // The round trip delivered one message into the probe account's INBOX.
  await until(async () => Number((await v2('snmpget', `${SM}.4.2.0`)).get(`${SM}.4.2.0`)) >= 1);
  const mta = await v2('snmpwalk', '1.3.6.1.2.1.28.1.1');
  assert.ok(Number(mta.get('1.3.6.1.2.1.28.1.1.1.1')) >= 1, 'mtaReceivedMessages of the SMTP application (applIndex 1)');
});

test('docs/STEADYMAIL-MIB.txt parses with net-snmp and names every object the agent serves under the enterprise', async () => {
  const mibs = mkdtempSync(join(tmpdir(), 'steadymail-mibs-'));
  try {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    // SMIv2 base modules (Debian's snmp package ships without them) from the net-snmp npm package.
    for (const m of ['SNMPv2-SMI', 'SNMPv2-TC', 'SNMPv2-CONF']) copyFileSync(join(root, 'node_modules', 'net-snmp', 'lib', 'mibs', `${m}.mib`), join(mibs, `${m}.txt`));
    copyFileSync(join(root, 'docs', 'STEADYMAIL-MIB.txt'), join(mibs, 'STEADYMAIL-MIB.txt'));
    const translated = await run('/usr/bin/snmptranslate', ['-M', mibs, '-m', 'STEADYMAIL-MIB', '-On', 'STEADYMAIL-MIB::smComponentStatus']);
    assert.equal(translated.stdout.trim(), `.${SM}.1.1.4`);
    assert.equal(translated.stderr, '', 'no parse warnings');
    const { stdout, stderr } = await run('/usr/bin/snmpwalk', ['-M', mibs, '-m', 'STEADYMAIL-MIB', '-v2c', '-c', COMMUNITY, '-r', '1', '-t', '3', target(), ENTERPRISE_OID]);
    assert.equal(stderr, '');
    const lines = stdout.trim().split('\n');
    assert.ok(lines.length > 30);
    for (const line of lines) assert.match(line, /^STEADYMAIL-MIB::sm[A-Za-z]+(\.\d+)* = /, line);
    assert.match(stdout, /^STEADYMAIL-MIB::smComponentStatus\.1 = INTEGER: operational\(1\)$/m);
    assert.match(stdout, /^STEADYMAIL-MIB::smStoreStatus\.0 = INTEGER: up\(1\)$/m);
  } finally {
    rmSync(mibs, { recursive: true, force: true });
  }
});

test('v3 authPriv user works; a wrong community gets no answer', async () => {
  const { stdout } = await run('/usr/bin/snmpget', ['-v3', '-l', 'authPriv', '-u', 'nms', '-a', 'SHA', '-A', 'auth-secret-1', '-x', 'AES', '-X', 'priv-secret-1', '-On', '-OQ', '-r', '1', '-t', '3', target(), '1.3.6.1.2.1.1.5.0']);
  assert.equal(parse(stdout).get('1.3.6.1.2.1.1.5.0'), 'mx.snmp.test');
  await assert.rejects(run('/usr/bin/snmpget', ['-v2c', '-c', 'public', '-On', '-r', '0', '-t', '1', target(), '1.3.6.1.2.1.1.5.0']), /Timeout/);
});

test('a stopped listener shows as down in applOperStatus and smComponentStatus', async () => {
  const monitor = server.monitor;
  assert.ok(monitor);
  await real.get('pop3')?.stop(0);
  await monitor.runOnce();
  await monitor.runOnce();
  await until(async () => (await v2('snmpget', '1.3.6.1.2.1.27.1.1.6.3')).get('1.3.6.1.2.1.27.1.1.6.3') === '2');
  const c = await v2('snmpget', `${SM}.1.1.4.3`, `${SM}.1.1.4.4`);
  assert.equal(c.get(`${SM}.1.1.4.3`), '4', 'pop3: majorOutage');
  assert.equal(c.get(`${SM}.1.1.4.4`), '1', 'imap: operational');
});
