import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, plaintextAllowed } from './index.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'steadymail-config-'));
}

function withFile(toml: string): { cwd: string; path: string } {
  const cwd = tempDir();
  const path = join(cwd, 'custom.toml');
  writeFileSync(path, toml);
  return { cwd, path };
}

function expectConfigError(fn: () => unknown, key: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.key, key);
    assert.match(err.message, pattern);
    return true;
  });
}

test('defaults apply when there is no file and no environment', () => {
  const cwd = tempDir();
  const c = loadConfig({ cwd, env: {} });
  assert.equal(c.file, null);
  assert.equal(c.hostname, hostname());
  assert.equal(c.dataDir, join(cwd, 'data'));
  assert.deepEqual(c.server, { workers: 1, shutdownGraceSeconds: 10 });
  assert.deepEqual(c.listen.smtp, { host: '0.0.0.0', port: 2525 });
  assert.deepEqual(c.listen.submission, { host: '0.0.0.0', port: 2587 });
  assert.deepEqual(c.listen.submissions, { host: '0.0.0.0', port: 2465 });
  assert.deepEqual(c.listen.pop3, { host: '0.0.0.0', port: 2110 });
  assert.deepEqual(c.listen.pop3s, { host: '0.0.0.0', port: 2995 });
  assert.deepEqual(c.listen.imap, { host: '0.0.0.0', port: 2143 });
  assert.deepEqual(c.listen.imaps, { host: '0.0.0.0', port: 2993 });
  assert.deepEqual(c.listen.http, { host: '0.0.0.0', port: 8080 });
  assert.deepEqual(c.listen.snmp, { host: '0.0.0.0', port: 1161 });
  assert.deepEqual(c.listen.managesieve, { host: '0.0.0.0', port: 4190 });
  assert.deepEqual(c.store, { driver: 'sqlite', url: null, inlineBlobMax: 65536 });
  assert.equal(c.limits.maxMessageBytes, 50 * 1024 * 1024);
  assert.equal(c.limits.maxLiteralBytes, 50 * 1024 * 1024);
  assert.equal(c.limits.maxLineBytes, 65536);
  assert.equal(c.limits.maxConnectionsPerIp, 50);
  assert.equal(c.limits.idleTimeoutSeconds, 1800);
  assert.equal(c.limits.commandTimeoutSeconds, 300);
  assert.equal(c.limits.authFailuresBeforeDelay, 5);
  assert.deepEqual(c.tls, { cert: null, key: null, certsDir: null, extraCerts: [], reloadIntervalSeconds: 60, expiryWarningDays: 14, legacyVersionsOn: [] });
  assert.equal(c.acme.enabled, false);
  assert.equal(c.acme.directoryUrl, 'https://acme-v02.api.letsencrypt.org/directory');
  assert.equal(c.acme.renewDaysBefore, 30);
  assert.equal(c.auth.allowPlaintextWithoutTls, false);
  assert.deepEqual(c.dns.servers, []);
  assert.equal(c.log.level, 'info');
});

test('a file sets values; ./steadymail.toml is found without --config', () => {
  const cwd = tempDir();
  writeFileSync(
    join(cwd, 'steadymail.toml'),
    `hostname = "mx.example.net"
data_dir = "/var/lib/steadymail"
[listen]
imap = "[::1]:143"
pop3 = "off"
[limits]
max_message_bytes = 1000000
[dns]
servers = ["192.0.2.1", "192.0.2.2:5353", "[2001:db8::1]:53"]
[log]
level = "debug"
`,
  );
  const c = loadConfig({ cwd, env: {} });
  assert.equal(c.file, join(cwd, 'steadymail.toml'));
  assert.equal(c.hostname, 'mx.example.net');
  assert.equal(c.dataDir, '/var/lib/steadymail');
  assert.deepEqual(c.listen.imap, { host: '::1', port: 143 });
  assert.equal(c.listen.pop3, null);
  assert.deepEqual(c.listen.smtp, { host: '0.0.0.0', port: 2525 });
  assert.equal(c.limits.maxMessageBytes, 1000000);
  assert.equal(c.limits.maxLiteralBytes, 1000000, 'max_literal_bytes follows max_message_bytes');
  assert.deepEqual(c.dns.servers, [
    { host: '192.0.2.1', port: 53 },
    { host: '192.0.2.2', port: 5353 },
    { host: '2001:db8::1', port: 53 },
  ]);
  assert.equal(c.log.level, 'debug');
});

test('environment beats file beats default', () => {
  const { cwd, path } = withFile(`[listen]
imap = "127.0.0.1:1143"
pop3 = "127.0.0.1:1110"
[server]
workers = 2
`);
  const c = loadConfig({
    cwd,
    path,
    env: {
      STEADYMAIL_LISTEN_IMAP: '127.0.0.1:9143',
      STEADYMAIL_DATA_DIR: 'elsewhere',
      STEADYMAIL_HOSTNAME: 'env.example',
      STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '3',
      STEADYMAIL_AUTH_ALLOW_PLAINTEXT_WITHOUT_TLS: 'true',
      STEADYMAIL_DNS_SERVERS: '192.0.2.9, 192.0.2.10:53',
      STEADYMAIL_TEST_SOMETHING: 'left alone',
    },
  });
  assert.deepEqual(c.listen.imap, { host: '127.0.0.1', port: 9143 }, 'env wins over file');
  assert.deepEqual(c.listen.pop3, { host: '127.0.0.1', port: 1110 }, 'file wins over default');
  assert.deepEqual(c.listen.imaps, { host: '0.0.0.0', port: 2993 }, 'default');
  assert.equal(c.server.workers, 2);
  assert.equal(c.server.shutdownGraceSeconds, 3);
  assert.equal(c.dataDir, join(cwd, 'elsewhere'));
  assert.equal(c.hostname, 'env.example');
  assert.equal(c.auth.allowPlaintextWithoutTls, true);
  assert.equal(c.dns.servers.length, 2);
});

test('postgres driver with a url from the environment', () => {
  const c = loadConfig({
    cwd: tempDir(),
    env: { STEADYMAIL_STORE_DRIVER: 'postgres', STEADYMAIL_STORE_URL: 'postgres://u@localhost/mail' },
  });
  assert.deepEqual(c.store, { driver: 'postgres', url: 'postgres://u@localhost/mail', inlineBlobMax: 65536 });
});

test('an unknown key in the file names the key and what is allowed', () => {
  const { cwd, path } = withFile('[listen]\nimapp = "127.0.0.1:143"\n');
  expectConfigError(() => loadConfig({ cwd, path, env: {} }), 'listen.imapp', /unknown key.*allows: smtp, submission/);
  const top = withFile('colour = "blue"\n');
  expectConfigError(() => loadConfig({ cwd: top.cwd, path: top.path, env: {} }), 'colour', /unknown key/);
  const section = withFile('[lisen]\nimap = "off"\n');
  expectConfigError(() => loadConfig({ cwd: section.cwd, path: section.path, env: {} }), 'lisen', /\[listen\]/);
});

test('an unknown key in a known section of the environment is an error', () => {
  expectConfigError(
    () => loadConfig({ cwd: tempDir(), env: { STEADYMAIL_LISTEN_IMAPP: '127.0.0.1:143' } }),
    'listen.imapp',
    /STEADYMAIL_LISTEN_IMAPP.*unknown key/,
  );
});

test('a bad port is rejected with the key, the source and the expected form', () => {
  for (const bad of ['127.0.0.1:70000', '127.0.0.1', ':143', '::1:143', '127.0.0.1:http', 'off ']) {
    expectConfigError(
      () => loadConfig({ cwd: tempDir(), env: { STEADYMAIL_LISTEN_IMAP: bad } }),
      'listen.imap',
      /STEADYMAIL_LISTEN_IMAP.*host:port.*off/,
    );
  }
  const { cwd, path } = withFile('[listen]\nhttp = 8080\n');
  expectConfigError(() => loadConfig({ cwd, path, env: {} }), 'listen.http', /custom\.toml.*expected string.*8080/);
});

test('a bad driver lists the allowed drivers', () => {
  expectConfigError(
    () => loadConfig({ cwd: tempDir(), env: { STEADYMAIL_STORE_DRIVER: 'mysql' } }),
    'store.driver',
    /"sqlite", "postgres".*"mysql"/,
  );
});

test('postgres without url is an error naming store.url', () => {
  const { cwd, path } = withFile('[store]\ndriver = "postgres"\n');
  expectConfigError(() => loadConfig({ cwd, path, env: {} }), 'store.url', /required when store.driver is "postgres"/);
});

test('other bad values: workers, tls pair, log level, TOML syntax, missing file', () => {
  const cwd = tempDir();
  expectConfigError(() => loadConfig({ cwd, env: { STEADYMAIL_SERVER_WORKERS: '0' } }), 'server.workers', /at least 1/);
  expectConfigError(() => loadConfig({ cwd, env: { STEADYMAIL_SERVER_WORKERS: 'many' } }), 'server.workers', /expected a number of processes \(1 or more\) or "auto"/);
  assert.equal(loadConfig({ cwd, env: { STEADYMAIL_SERVER_WORKERS: 'auto' } }).server.workers, availableParallelism(), 'auto: one per CPU core');
  expectConfigError(() => loadConfig({ cwd, env: { STEADYMAIL_TLS_CERT: '/x.pem' } }), 'tls.cert', /both tls.cert and tls.key/);
  expectConfigError(() => loadConfig({ cwd, env: { STEADYMAIL_LOG_LEVEL: 'loud' } }), 'log.level', /"info"/);
  expectConfigError(() => loadConfig({ cwd, env: { STEADYMAIL_DNS_SERVERS: 'dns.example' } }), 'dns.servers.0', /ip:port/);
  const broken = withFile('[listen\n');
  expectConfigError(() => loadConfig({ cwd: broken.cwd, path: broken.path, env: {} }), 'file', /not valid TOML/);
  expectConfigError(() => loadConfig({ cwd, path: 'missing.toml', env: {} }), '--config', /does not exist/);
});

test('plaintext passwords: TLS always, loopback always, elsewhere only when allowed', () => {
  const strict = { auth: { allowPlaintextWithoutTls: false } };
  assert.equal(plaintextAllowed(strict, '192.0.2.1', true), true);
  assert.equal(plaintextAllowed(strict, '127.0.0.1', false), true);
  assert.equal(plaintextAllowed(strict, '::1', false), true);
  assert.equal(plaintextAllowed(strict, '::ffff:127.0.0.1', false), true);
  assert.equal(plaintextAllowed(strict, '192.0.2.1', false), false);
  assert.equal(plaintextAllowed(strict, undefined, false), false);
  assert.equal(plaintextAllowed({ auth: { allowPlaintextWithoutTls: true } }, '192.0.2.1', false), true);
});

test('the sample production file is valid and docs/configuration.md names every key', async () => {
  const { readFileSync } = await import('node:fs');
  const { KEYS } = await import('./schema.js');
  const root = new URL('../../', import.meta.url).pathname;
  const c = loadConfig({ cwd: root, path: 'steadymail.example.toml', env: {} });
  assert.deepEqual(c.listen.imaps, { host: '0.0.0.0', port: 993 });
  assert.equal(c.store.driver, 'postgres');
  assert.equal(c.server.workers, availableParallelism(), 'one worker per core');
  const doc = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');
  for (const key of Object.keys(KEYS)) {
    const env = `STEADYMAIL_${key.replace(/\./g, '_').toUpperCase()}`;
    assert.ok(doc.includes(env), `docs/configuration.md does not mention ${env}`);
  }
});

test('[monitor]: defaults, environment, and the account/password pair', () => {
  const cwd = tempDir();
  const defaults = loadConfig({ cwd, env: {} });
  assert.deepEqual(defaults.monitor, {
    probeIntervalSeconds: 30,
    probe: null,
    nodeName: hostname(),
    probeHistoryDays: 7,
    uptimeDays: 90,
    alertWebhook: null,
    alertEmail: null,
    alertAfterSeconds: 60,
    alertMinIntervalSeconds: 300,
    autoIncidentMinutes: 5,
    subscribers: [],
    alertWebhookAttempts: 4,
    alertWebhookRetrySeconds: 2,
  });
  assert.deepEqual(defaults.snmp, { community: null, v3: null });
  assert.deepEqual(defaults.sessions, { historyDays: 30, historyMaxPerAccount: 1000, traceDefaultMinutes: 60, traceMaxBytes: 10 * 1024 * 1024, traceTotalMaxBytes: 200 * 1024 * 1024, traceKeepHours: 72 });
  const tuned = loadConfig({ cwd, env: { STEADYMAIL_SESSIONS_HISTORY_DAYS: '7', STEADYMAIL_MONITOR_ALERT_WEBHOOK_ATTEMPTS: '2' } });
  assert.equal(tuned.sessions.historyDays, 7);
  assert.equal(tuned.monitor.alertWebhookAttempts, 2);
  const c = loadConfig({
    cwd,
    env: {
      STEADYMAIL_MONITOR_PROBE_INTERVAL_SECONDS: '10',
      STEADYMAIL_MONITOR_PROBE_ACCOUNT: 'probe@example.test',
      STEADYMAIL_MONITOR_PROBE_PASSWORD: 'secret',
    },
  });
  assert.deepEqual(c.monitor.probe, { account: 'probe@example.test', password: 'secret' });
  assert.equal(c.monitor.probeIntervalSeconds, 10);
  const alerting = loadConfig({
    cwd,
    env: {
      STEADYMAIL_MONITOR_NODE_NAME: 'mx2',
      STEADYMAIL_MONITOR_ALERT_WEBHOOK: 'https://hooks.example.test/steadymail',
      STEADYMAIL_MONITOR_ALERT_EMAIL: 'noc@example.test',
      STEADYMAIL_MONITOR_SUBSCRIBERS: 'a@example.test, b@example.test',
      STEADYMAIL_SNMP_COMMUNITY: 'n0c-read',
      STEADYMAIL_SNMP_V3_USER: 'nms',
      STEADYMAIL_SNMP_V3_AUTH_PASSWORD: 'auth-secret',
    },
  });
  assert.equal(alerting.monitor.nodeName, 'mx2');
  assert.equal(alerting.monitor.alertWebhook, 'https://hooks.example.test/steadymail');
  assert.equal(alerting.monitor.alertEmail, 'noc@example.test');
  assert.deepEqual(alerting.monitor.subscribers, ['a@example.test', 'b@example.test']);
  assert.deepEqual(alerting.snmp, { community: 'n0c-read', v3: { user: 'nms', authPassword: 'auth-secret', privPassword: null } });
  expectConfigError(() => loadConfig({ cwd, env: { STEADYMAIL_MONITOR_ALERT_WEBHOOK: 'ftp://x.test/' } }), 'monitor.alert_webhook', /./);
  expectConfigError(() => loadConfig({ cwd, env: { STEADYMAIL_SNMP_V3_USER: 'nms' } }), 'snmp.v3_auth_password', /needs/);
  expectConfigError(() => loadConfig({ cwd, env: { STEADYMAIL_MONITOR_PROBE_ACCOUNT: 'probe@example.test' } }), 'monitor.probe_account', /set both/);
  expectConfigError(() => loadConfig({ cwd, env: { STEADYMAIL_MONITOR_PROBE_INTERVAL_SECONDS: '1' } }), 'monitor.probe_interval_seconds', /at least 5/);
});

test('store.inline_blob_max: 0 to 256 KiB, from the file or the environment', () => {
  const cwd = tempDir();
  assert.equal(loadConfig({ cwd, env: { STEADYMAIL_STORE_INLINE_BLOB_MAX: '0' } }).store.inlineBlobMax, 0);
  assert.equal(loadConfig({ ...withFile('[store]\ninline_blob_max = 262144\n'), env: {} }).store.inlineBlobMax, 262144);
  expectConfigError(() => loadConfig({ ...withFile('[store]\ninline_blob_max = 262145\n'), env: {} }), 'store.inline_blob_max', /at most 262144 bytes/);
  expectConfigError(() => loadConfig({ cwd, env: { STEADYMAIL_STORE_INLINE_BLOB_MAX: '-1' } }), 'store.inline_blob_max', /store\.inline_blob_max/);
});
