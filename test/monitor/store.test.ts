// The monitor's rows on both backends: probe history and its daily roll-up, incidents
// with updates and known issues, maintenance windows, and the shared alert state.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.js';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';
import { InvalidInput, NotFound } from '../../src/store/errors.js';
import type { Store } from '../../src/store/store.js';

const backends: Array<{ name: string; open: () => Promise<{ store: Store; cleanup: () => Promise<void> }> }> = [
  {
    name: 'sqlite',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'steadymail-monstore-'));
      const store = await openStore({ driver: 'sqlite', dataDir: dir });
      return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    async open() {
      const db = await createTestDatabase();
      const dir = await mkdtemp(join(tmpdir(), 'steadymail-monstore-pg-'));
      const store = await openStore({ driver: 'postgres', url: db.url, dataDir: dir });
      return {
        store,
        cleanup: async () => {
          await db.drop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

const DAY = 86_400_000;

for (const backend of backends) {
  describe(`monitoring store: ${backend.name}`, () => {
    const withStore = async (fn: (store: Store) => Promise<void>) => {
      const { store, cleanup } = await backend.open();
      try {
        await fn(store);
      } finally {
        await store.close();
        await cleanup();
      }
    };

    test('probe results, the daily roll-up per node, and pruning', () =>
      withStore(async (store) => {
        const m = store.monitoring;
        const base = Date.UTC(2026, 10, 20, 12);
        await m.recordProbes([
          { node: 'a', component: 'imap', at: new Date(base), ok: true, ms: 12.4, steps: 3, failedSteps: [] },
          { node: 'b', component: 'imap', at: new Date(base + 1000), ok: false, ms: 30, steps: 3, failedSteps: ['imap:login'] },
        ]);
        await m.recordProbes([{ node: 'a', component: 'imap', at: new Date(base + 2000), ok: false, ms: 8, steps: 1, failedSteps: ['imap:banner'] }]);
        await m.recordProbes([{ node: 'a', component: 'imap', at: new Date(base - DAY), ok: true, ms: 5, steps: 3, failedSteps: [] }]);
        const recent = await m.recentProbes({ since: new Date(base - 1), component: 'imap' });
        assert.deepEqual(
          recent.map((r) => [r.node, r.ok, r.ms, r.failedSteps]),
          [
            ['a', true, 12, []],
            ['b', false, 30, ['imap:login']],
            ['a', false, 8, ['imap:banner']],
          ],
        );
        assert.equal((await m.recentProbes({ since: new Date(0), node: 'a', limit: 2 })).length, 2);
        const day = Math.floor(base / DAY);
        const days = await m.probeDays(day - 5);
        const a = days.find((d) => d.node === 'a' && d.day === day);
        assert.deepEqual(a && [a.runs, a.failures, a.totalMs], [2, 1, 20]);
        assert.deepEqual(
          days.filter((d) => d.day === day - 1).map((d) => d.runs),
          [1],
        );
        const pruned = await m.pruneProbes({ recordsBefore: new Date(base), daysBefore: day });
        assert.deepEqual(pruned, { records: 1, days: 1 });
        assert.equal((await m.probeDays(0)).length, 2);
      }));

    test('an incident: opened, updated with stages and known issues, resolved', () =>
      withStore(async (store) => {
        const m = store.monitoring;
        await assert.rejects(m.openIncident({ title: ' ', impact: 'major', components: [], body: 'x', author: 'op' }), InvalidInput);
        await assert.rejects(m.openIncident({ title: 't', impact: 'huge' as 'major', components: [], body: 'x', author: 'op' }), InvalidInput);
        const opened = await m.openIncident({
          title: 'POP3 logins fail',
          impact: 'major',
          components: ['pop3', 'pop3'],
          body: 'We are looking into it.',
          author: 'ops',
          issues: [{ title: 'POP3 errors in Outlook', state: 'investigating' }],
          at: new Date('2026-11-20T10:00:00Z'),
        });
        assert.equal(opened.stage, 'investigating');
        assert.deepEqual(opened.components, ['pop3']);
        assert.equal(opened.resolvedAt, null);
        const identified = await m.updateIncident(opened.id, {
          stage: 'identified',
          body: 'A certificate expired.',
          author: 'ops',
          issues: [
            { title: 'POP3 errors in Outlook', state: 'resolved' },
            { title: 'Slow IMAP', state: 'monitoring' },
          ],
          at: new Date('2026-11-20T10:30:00Z'),
        });
        assert.deepEqual(identified.issues, [
          { title: 'POP3 errors in Outlook', state: 'resolved' },
          { title: 'Slow IMAP', state: 'monitoring' },
        ]);
        assert.deepEqual((await m.listIncidents({ open: true })).map((i) => i.id), [opened.id]);
        const resolved = await m.updateIncident(opened.id, { stage: 'resolved', body: 'Fixed.', author: 'ops', at: new Date('2026-11-20T11:00:00Z') });
        assert.equal(resolved.resolvedAt?.toISOString(), '2026-11-20T11:00:00.000Z');
        assert.ok(resolved.issues.every((i) => i.state === 'resolved'));
        assert.deepEqual(
          resolved.updates.map((u) => [u.stage, u.body, u.at.toISOString()]),
          [
            ['investigating', 'We are looking into it.', '2026-11-20T10:00:00.000Z'],
            ['identified', 'A certificate expired.', '2026-11-20T10:30:00.000Z'],
            ['resolved', 'Fixed.', '2026-11-20T11:00:00.000Z'],
          ],
        );
        assert.deepEqual(await m.listIncidents({ open: true }), []);
        assert.equal((await m.listIncidents()).length, 1);
        await assert.rejects(m.updateIncident(9999, { body: 'x', author: 'ops' }), NotFound);
      }));

    test('maintenance windows: scheduled, listed, cancelled', () =>
      withStore(async (store) => {
        const m = store.monitoring;
        const now = Date.now();
        await assert.rejects(m.scheduleMaintenance({ title: 'x', components: [], startsAt: new Date(now), endsAt: new Date(now) }), InvalidInput);
        const past = await m.scheduleMaintenance({ title: 'old', components: [], startsAt: new Date(now - 2 * DAY), endsAt: new Date(now - DAY) });
        const next = await m.scheduleMaintenance({ title: 'IMAP upgrade', description: 'New release', components: ['imap'], startsAt: new Date(now + 3600_000), endsAt: new Date(now + 7200_000) });
        assert.deepEqual((await m.listMaintenance({ endsAfter: new Date(now) })).map((w) => w.id), [next.id]);
        assert.equal((await m.listMaintenance()).length, 2);
        const cancelled = await m.cancelMaintenance(next.id);
        assert.ok(cancelled.cancelledAt);
        assert.deepEqual((await m.listMaintenance()).map((w) => w.id), [past.id]);
        assert.equal((await m.listMaintenance({ includeCancelled: true })).length, 2);
        await assert.rejects(m.cancelMaintenance(4242), NotFound);
      }));

    test('alert state: a change is announced once, and not again within the damping interval', () =>
      withStore(async (store) => {
        const m = store.monitoring;
        const t0 = new Date('2026-11-20T10:00:00Z');
        const s1 = await m.setAlertStatus('imap', 'major outage', t0);
        assert.equal(s1.since.getTime(), t0.getTime());
        const s2 = await m.setAlertStatus('imap', 'major outage', new Date(t0.getTime() + 30_000));
        assert.equal(s2.since.getTime(), t0.getTime(), 'unchanged status keeps its start');
        assert.equal(await m.claimAlertNotification('imap', 'major outage', t0, 600_000), true);
        assert.equal(await m.claimAlertNotification('imap', 'major outage', t0, 600_000), false, 'a second node does not send it again');
        await m.setAlertStatus('imap', 'operational', new Date(t0.getTime() + 60_000));
        assert.equal(await m.claimAlertNotification('imap', 'operational', new Date(t0.getTime() + 60_000), 600_000), false, 'too soon after the last');
        assert.equal(await m.claimAlertNotification('imap', 'operational', new Date(t0.getTime() + 700_000), 600_000), true);
        assert.equal(await m.claimAlertNotification('imap', 'major outage', new Date(t0.getTime() + 700_000), 0), false, 'not the current status');
        assert.deepEqual((await m.listAlertStates()).map((s) => [s.component, s.status, s.notifiedStatus]), [['imap', 'operational', 'operational']]);
      }));
  });
}
