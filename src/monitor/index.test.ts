// Unit tests: status derivation, the status page, and a probe against a listener that
// accepts but never answers (it must fail within its timeout, not hang).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { deriveStatus, ProbeHistory } from './history.js';
import { runProbes, type ProbeResult } from './probes/index.js';
import { renderAtomFeed, renderStatusPage } from './status-page.js';
import { combineNodes, type StatusSummary } from './status.js';

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

test('several nodes: agreement is kept, disagreement is a partial outage', () => {
  assert.equal(combineNodes(['operational', 'operational']), 'operational');
  assert.equal(combineNodes(['major outage', 'major outage']), 'major outage');
  assert.equal(combineNodes(['major outage', 'operational']), 'partial outage');
  assert.equal(combineNodes(['degraded performance', 'operational']), 'degraded performance');
  assert.equal(combineNodes(['unknown', 'operational']), 'operational');
  assert.equal(combineNodes([]), 'unknown');
});

function summary(): StatusSummary {
  const incident = {
    id: 7,
    title: 'POP3 <errors>',
    impact: 'major',
    stage: 'identified',
    components: ['pop3'],
    issues: [{ title: 'POP3 errors in Outlook', state: 'resolved' }],
    createdAt: '2026-11-20T10:00:00.000Z',
    updatedAt: '2026-11-20T10:30:00.000Z',
    resolvedAt: null,
    updates: [
      { at: '2026-11-20T10:30:00.000Z', stage: 'identified', body: 'A certificate & a \u0001 control character.' },
      { at: '2026-11-20T10:00:00.000Z', stage: 'investigating', body: 'Looking.' },
    ],
  };
  return {
    status: 'partial outage',
    updatedAt: '2026-11-20T10:31:00.000Z',
    complete: true,
    components: [
      {
        id: 'pop3',
        name: 'POP3',
        status: 'partial outage',
        nodes: { a: 'partial outage' },
        lastProbeAt: '2026-11-20T10:31:00.000Z',
        lastLatencyMs: 12,
        recentLatenciesMs: [10, null, 12],
        uptimePercent: 99.5,
        uptimeDays: [
          { date: '2026-11-19', uptime: null, runs: 0, failures: 0 },
          { date: '2026-11-20', uptime: 0.995, runs: 200, failures: 1 },
        ],
      },
      { id: 'imap', name: 'IMAP', status: 'under maintenance', nodes: {}, lastProbeAt: null, lastLatencyMs: null, recentLatenciesMs: [], uptimePercent: null, uptimeDays: [] },
    ],
    maintenance: [{ id: 1, title: 'IMAP upgrade', description: '', components: ['imap'], startsAt: '2026-11-20T10:00:00.000Z', endsAt: '2026-11-20T12:00:00.000Z', active: true }],
    openIncidents: [incident],
    pastIncidents: [],
  };
}

test('the status page is plain HTML with components, incidents and maintenance, escaped', () => {
  const html = renderStatusPage(summary(), '<mx>&"');
  assert.match(html, /&#60;mx&#62;&#38;&#34;/);
  assert.doesNotMatch(html, /<script/i);
  assert.match(html, /POP3<\/th>\s*<td class="status">partial outage/);
  assert.match(html, /IMAP<\/th>\s*<td class="status">under maintenance/);
  assert.match(html, /POP3 &#60;errors&#62;/);
  assert.match(html, /POP3 errors in Outlook — <span class="stage resolved">resolved/);
  assert.match(html, /99\.50% uptime/);
  assert.match(html, /IMAP upgrade <span class="stage">in progress/);
});

test('the Atom feed has one entry per incident and only XML-legal characters', () => {
  const xml = renderAtomFeed(summary(), 'mx.test', 'http://mx.test');
  assert.match(xml, /^<\?xml version="1.0" encoding="utf-8"\?>\n<feed xmlns="http:\/\/www.w3.org\/2005\/Atom">/);
  assert.equal(xml.match(/<entry>/g)?.length, 1);
  assert.match(xml, /<id>tag:mx.test,2026-11-20:incident\/7<\/id>/);
  assert.match(xml, /<updated>2026-11-20T10:30:00.000Z<\/updated>/);
  assert.ok(!xml.includes(String.fromCharCode(1)));
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

test('in a farm the page says how many nodes see a component failing, without naming them', () => {
  const s = summary();
  s.components[0]!.nodes = { 'node-a.internal': 'operational', 'node-b.internal': 'major outage', 'node-c.internal': 'operational' };
  const html = renderStatusPage(s, 'mx');
  assert.match(html, /POP3<br><small class="nodes">1 of 3 nodes: major outage<\/small><\/th>/);
  assert.doesNotMatch(html, /node-b\.internal/);
  s.components[0]!.nodes = { a: 'operational', b: 'operational' };
  assert.doesNotMatch(renderStatusPage(s, 'mx'), /class="nodes"/, 'nothing when the nodes agree');
});
