import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { createLogger } from '../log.js';
import { CertificateStore, type CertificateStoreConfig } from './cert-store.js';
import { registerCertificateMetrics } from './metrics.js';
import { makeCertificate } from '../../test/tls/helpers.js';

function setup(extra: Array<{ cert: string; key: string }>, dir: string): CertificateStoreConfig {
  return {
    hostname: 'mx.provider.test',
    dataDir: dir,
    tls: { cert: null, key: null, extraCerts: extra, certsDir: null, reloadIntervalSeconds: 0, expiryWarningDays: 14 },
  };
}

function capture(): { lines: Array<{ level: string; msg: string; daysLeft?: number }>; logger: ReturnType<typeof createLogger> } {
  const lines: Array<{ level: string; msg: string; daysLeft?: number }> = [];
  const logger = createLogger({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as { level: string; msg: string }) });
  return { lines, logger };
}

test('certificates close to expiry are warned about once a day and reported as expiring, then expired', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steadymail-certstore-'));
  try {
    const soon = makeCertificate(dir, 'soon', 'soon', ['mail.soon.test'], 5);
    const fine = makeCertificate(dir, 'fine', 'fine', ['mail.fine.test'], 200);
    let now = Date.now();
    const { lines, logger } = capture();
    const store = await CertificateStore.open(setup([soon, fine], dir), logger, { now: () => now });
    const warnings = () => lines.filter((l) => l.level === 'warn');
    assert.equal(warnings().length, 1);
    assert.match(warnings()[0]!.msg, /^TLS certificate expires in 4 days: mail\.soon\.test$/);
    const byName = (n: string) => store.summaries().find((s) => s.names.includes(n))!;
    assert.equal(byName('mail.soon.test').status, 'expiring');
    assert.equal(byName('mail.fine.test').status, 'ok');
    // The self-signed default (hostname) is in service too; soonest expiry first.
    assert.equal(store.summaries()[0]!.names[0], 'mail.soon.test');
    assert.ok(store.summaries().some((s) => s.isDefault && s.source === 'self-signed'));

    store.warnExpiring();
    assert.equal(warnings().length, 1, 'not again the same day');
    now += 10 * 86_400_000;
    store.warnExpiring();
    assert.equal(warnings().length, 2);
    assert.match(warnings()[1]!.msg, /^TLS certificate expired: mail\.soon\.test$/);
    assert.equal(byName('mail.soon.test').status, 'expired');
    assert.ok(byName('mail.soon.test').secondsLeft < 0);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the expiry gauge has one series per name, for the certificate served for it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steadymail-certstore-'));
  try {
    const a = makeCertificate(dir, 'a', 'a', ['mail.a.test', '*.b.test'], 30);
    // A newer certificate for mail.a.test wins over the older one.
    const a2 = makeCertificate(dir, 'a2', 'a2', ['mail.a.test'], 60);
    const store = await CertificateStore.open(setup([a, a2], dir), createLogger({ level: 'silent' }));
    const registry = new Registry();
    registerCertificateMetrics(registry, store);
    const text = await registry.metrics();
    const series = (name: string): number => {
      const m = new RegExp(`^steadymail_tls_certificate_expiry_seconds\\{name="${name.replace(/[.*]/g, '\\$&')}",source="(\\w+(?:-\\w+)?)"\\} (-?\\d+)$`, 'm').exec(text);
      assert.ok(m, `series for ${name} in:\n${text}`);
      return Number(m[2]);
    };
    const days = (s: number) => Math.round(s / 86_400);
    assert.equal(days(series('mail.a.test')), 60);
    assert.equal(days(series('*.b.test')), 30);
    assert.ok(days(series('mx.provider.test')) > 800, 'the self-signed default');
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
