import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Srs, loadSrsSecret } from './srs.js';

test('SRS0 forward and reverse; forged, foreign and expired addresses are refused', () => {
  let now = Date.UTC(2026, 0, 10);
  const srs = new Srs('a-secret-for-the-test', () => now);
  const rewritten = srs.forward('Sender@Remote.test', 'example.org');
  assert.match(rewritten, /^SRS0=[A-Z2-7]{4}=[A-Z2-7]{2}=Remote\.test=Sender@example\.org$/);
  assert.equal(srs.reverse(rewritten), 'Sender@Remote.test');
  assert.equal(srs.reverse(rewritten.toLowerCase()), 'sender@remote.test', 'some MTAs lower-case the address');
  assert.equal(srs.forward('', 'example.org'), '', 'the null sender stays null');
  assert.equal(srs.forward('bob@example.org', 'example.org'), 'bob@example.org', 'our own domain needs no rewriting');
  const forged = rewritten.replace(/=Sender@/, '=victim@');
  assert.equal(srs.reverse(forged), null);
  assert.equal(new Srs('another-secret-value').reverse(rewritten), null);
  assert.equal(srs.reverse('alice@example.org'), null);
  now += 22 * 86_400_000;
  assert.equal(srs.reverse(rewritten), null, 'older than 21 days');
});

test('the secret is generated once in data_dir and reused; a configured one wins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steadymail-srs-'));
  try {
    const first = loadSrsSecret(null, dir);
    assert.match(first, /^[0-9a-f]{64}$/);
    assert.equal(loadSrsSecret(null, dir), first);
    assert.equal(readFileSync(join(dir, 'srs.secret'), 'utf8').trim(), first);
    assert.equal(loadSrsSecret('configured-secret-123', dir), 'configured-secret-123');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
