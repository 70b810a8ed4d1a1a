// [filter] in steadymail.toml and the environment: nested sections, their environment
// names (STEADYMAIL_FILTER_RSPAMD_URL → filter.rspamd.url), defaults and errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config/index.js';

function dir(toml?: string): string {
  const d = mkdtempSync(join(tmpdir(), 'steadymail-filtercfg-'));
  if (toml !== undefined) writeFileSync(join(d, 'steadymail.toml'), toml);
  return d;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('no ConfigError');
}

test('defaults: on, built-in layer only, loopback trusted', () => {
  const f = loadConfig({ cwd: dir(), env: {} }).filter;
  assert.equal(f.enabled, true);
  assert.equal(f.junkScore, 5);
  assert.deepEqual(f.trustedNetworks, ['127.0.0.0/8', '::1/128']);
  assert.deepEqual(f.greylist, { enabled: true, delaySeconds: 300, retryWindowHours: 24, passDays: 36 });
  assert.equal(f.rspamd, null);
  assert.equal(f.clamav, null);
});

test('nested sections from the file, overridden key by key from the environment', () => {
  const cwd = dir(`
[filter]
junk_score = 6.5

[filter.dnsbl]
lists = ["zen.example.org*4", "bl.example.net"]

[filter.rspamd]
url = "http://127.0.0.1:11333"
password = "secret"

[filter.clamav]
socket = "run/clamd.ctl"
`);
  const f = loadConfig({ cwd, env: { STEADYMAIL_FILTER_RSPAMD_URL: 'http://10.0.0.5:11333', STEADYMAIL_FILTER_GREYLIST_DELAY_SECONDS: '60', STEADYMAIL_FILTER_JUNK_SCORE: '4.5' } }).filter;
  assert.equal(f.junkScore, 4.5);
  assert.deepEqual(f.dnsbl.lists, [
    { zone: 'zen.example.org', weight: 4 },
    { zone: 'bl.example.net', weight: 3 },
  ]);
  assert.deepEqual(f.rspamd, { url: 'http://10.0.0.5:11333', controllerUrl: 'http://10.0.0.5:11333', password: 'secret', timeoutMs: 10_000, failOpen: true, onReject: 'reject' });
  assert.deepEqual(f.clamav, { target: { socket: join(cwd, 'run/clamd.ctl') }, timeoutMs: 30_000, failOpen: false });
  assert.equal(f.greylist.delaySeconds, 60);
});

test('errors name the nested key and where it came from', () => {
  let e = configError(() => loadConfig({ cwd: dir('[filter.rspamd]\nulr = "http://x"\n'), env: {} }));
  assert.equal(e.key, 'filter.rspamd.ulr');
  assert.match(e.message, /\[filter\.rspamd\] allows: url, controller_url, password, timeout_ms, fail_open/);
  e = configError(() => loadConfig({ cwd: dir(), env: { STEADYMAIL_FILTER_RSPAMD_ULR: 'x' } }));
  assert.match(e.message, /unknown key; \[filter\] allows: .*\[filter\.rspamd\]/);
  e = configError(() => loadConfig({ cwd: dir(), env: { STEADYMAIL_FILTER_CLAMAV_ADDRESS: 'clamd' } }));
  assert.equal(e.key, 'filter.clamav.address');
  assert.equal(e.source, 'STEADYMAIL_FILTER_CLAMAV_ADDRESS');
  e = configError(() => loadConfig({ cwd: dir(), env: { STEADYMAIL_FILTER_DNSBL_LISTS: 'not a zone' } }));
  assert.equal(e.key, 'filter.dnsbl.lists.0');
  e = configError(() => loadConfig({ cwd: dir(), env: { STEADYMAIL_FILTER_TRUSTED_NETWORKS: '10.0.0.0/33' } }));
  assert.match(e.message, /expected an address or network/);
  e = configError(() => loadConfig({ cwd: dir('[filter.clamav]\nsocket = "/s"\naddress = "127.0.0.1:3310"\n'), env: {} }));
  assert.match(e.message, /not both/);
});
