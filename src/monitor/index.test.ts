// Unit tests: status derivation, the status page, and a probe against a listener that
// accepts but never answers (it must fail within its timeout, not hang).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { deriveStatus, ProbeHistory } from './history.js';
import { runProbes, type ProbeResult } from './probes/index.js';
import { renderStatusPage, summarize } from './status-page.js';

function result(ok: boolean | 'some', ms = 10): ProbeResult {
  const steps =
    ok === 'some'
      ? [
          { name: 'pop3:banner', ok: true, ms },
          { name: 'pop3s:banner', ok: false, ms, error: 'ECONNREFUSED' },
        ]
      : [{ name: 'banner', ok, ms }];
  return { component: 'pop3', at: new Date(), ok: ok === true, ms, steps };
}

test('status: unknown, operational, degraded, partial and major outage', () => {
  assert.equal(deriveStatus([]), 'unknown');
  assert.equal(deriveStatus([result(true), result(true)]), 'operational');
  assert.equal(deriveStatus([result(true, 6000)]), 'degraded performance', 'slow');
  assert.equal(deriveStatus([result(false), result(true)]), 'degraded performance', 'recovered, recent failure');
  assert.equal(deriveStatus([result(true), result(false)]), 'partial outage', 'one failure is not yet major');
  assert.equal(deriveStatus([result('some'), result('some')]), 'partial outage', 'one listener of two still answers');
  assert.equal(deriveStatus([result(false), result(false)]), 'major outage');
  const history = new ProbeHistory(3);
  for (let i = 0; i < 5; i++) history.add(result(false));
  history.add(result(true));
  assert.equal(history.recent('pop3').length, 3);
  assert.equal(history.status('pop3'), 'degraded performance');
});

test('the status page is plain HTML with the components and escapes what it shows', () => {
  const history = new ProbeHistory();
  history.add(result(true));
  const summary = summarize(history, ['pop3', 'imap']);
  assert.equal(summary.status, 'unknown', 'IMAP never probed');
  assert.equal(summary.components[0]?.status, 'operational');
  const html = renderStatusPage(summary, '<mx>&"');
  assert.match(html, /&#60;mx&#62;&#38;&#34;/);
  assert.doesNotMatch(html, /<script/i);
  assert.match(html, /POP3<\/th>\s*<td class="status">operational/);
});

test('a listener that accepts but never answers fails the probe within its timeout', async () => {
  const sockets: Socket[] = [];
  const silent = createServer((s) => void sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const address = silent.address();
  assert.ok(address && typeof address === 'object');
  const started = Date.now();
  const results = await runProbes({
    hostname: 'probe.test',
    listeners: new Map([
      ['imap', { host: '127.0.0.1', port: address.port }],
      ['smtp', { host: '127.0.0.1', port: address.port }],
    ]),
    credentials: null,
    timeoutMs: 300,
  });
  assert.ok(Date.now() - started < 2000);
  for (const r of results) {
    assert.equal(r.ok, false);
    assert.match(r.steps[0]?.error ?? '', /timeout/);
  }
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent.close(r));
});
