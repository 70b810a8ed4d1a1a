// The operator console's part of the store contract (../admin.ts): admin accounts,
// API tokens, admin sessions, hourly traffic and the audit log's filters. Every backend's
// test file runs it.

import { describe, test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../store.js';
import { AlreadyExists, InvalidInput, NotFound } from '../errors.js';
import type { ContractBackend } from './suite.js';

export function runAdminContract(backend: ContractBackend): void {
  describe(`admin store contract: ${backend.name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      const opened = await backend.open();
      store = opened.store;
      cleanup = opened.cleanup;
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    test('admin accounts: create, find, change password, remove (sessions end with them)', async () => {
      const root = await store.admin.createAdmin('Root', 'hash-1');
      assert.equal(root.name, 'root');
      await assert.rejects(store.admin.createAdmin('root', 'x'), AlreadyExists);
      await assert.rejects(store.admin.createAdmin('not valid!', 'x'), InvalidInput);
      await store.admin.createAdmin('ops', 'hash-2');
      assert.deepEqual((await store.admin.listAdmins()).map((a) => a.name), ['ops', 'root']);
      assert.equal((await store.admin.getAdmin('ROOT'))?.id, root.id);
      assert.equal((await store.admin.getAdminById(root.id))?.passwordHash, 'hash-1');

      const session = await store.admin.createSession({ tokenHash: 'cookie-1', adminId: root.id, csrfToken: 'csrf', expiresAt: new Date(Date.now() + 60_000), remoteAddress: '192.0.2.1' });
      assert.equal((await store.admin.getSession('cookie-1'))?.id, session.id);
      await store.admin.setAdminPassword('root', 'hash-3');
      assert.equal((await store.admin.getAdmin('root'))?.passwordHash, 'hash-3');
      assert.equal(await store.admin.getSession('cookie-1'), undefined, 'a new password ends old sessions');
      await assert.rejects(store.admin.setAdminPassword('nobody', 'x'), NotFound);

      await store.admin.createSession({ tokenHash: 'cookie-2', adminId: root.id, csrfToken: 'csrf', expiresAt: new Date(Date.now() + 60_000), remoteAddress: '192.0.2.1' });
      await store.admin.deleteAdmin('root');
      assert.equal(await store.admin.getAdmin('root'), undefined);
      assert.equal(await store.admin.getSession('cookie-2'), undefined);
      await assert.rejects(store.admin.deleteAdmin('root'), NotFound);
    });

    test('admin sessions expire and are swept', async () => {
      const a = await store.admin.createAdmin('root', 'h');
      const old = await store.admin.createSession({ tokenHash: 'old', adminId: a.id, csrfToken: 'c', expiresAt: new Date(Date.now() - 1000), remoteAddress: '::1' });
      await store.admin.createSession({ tokenHash: 'new', adminId: a.id, csrfToken: 'c', expiresAt: new Date(Date.now() + 60_000), remoteAddress: '::1' });
      assert.equal(await store.admin.getSession('old'), undefined);
      assert.equal(await store.admin.deleteExpiredSessions(), 1);
      assert.ok(await store.admin.getSession('new'));
      await store.admin.deleteSession(old.id);
    });

    test('API tokens: only the matching hash of an unrevoked token is accepted', async () => {
      const t = await store.admin.createToken({ id: 'abc123', label: 'deploy', tokenHash: 'h1', createdBy: 'cli:root' });
      assert.equal(t.lastUsedAt, null);
      await assert.rejects(store.admin.createToken({ id: 'abc123', label: 'again', tokenHash: 'h2', createdBy: 'x' }), AlreadyExists);
      assert.equal(await store.admin.useToken('abc123', 'wrong'), undefined);
      assert.equal(await store.admin.useToken('nope', 'h1'), undefined);
      const used = await store.admin.useToken('abc123', 'h1');
      assert.ok(used?.lastUsedAt);
      assert.ok((await store.admin.listTokens())[0]?.lastUsedAt, 'the use is recorded');
      const revoked = await store.admin.revokeToken('abc123');
      assert.ok(revoked.revokedAt);
      assert.equal((await store.admin.revokeToken('abc123')).revokedAt?.getTime(), revoked.revokedAt.getTime());
      assert.equal(await store.admin.useToken('abc123', 'h1'), undefined);
      await assert.rejects(store.admin.revokeToken('nope'), NotFound);
    });

    test('hourly traffic adds up per hour, from any number of writers', async () => {
      const hour = new Date(Math.floor(Date.now() / 3600_000) * 3600_000);
      const before = new Date(hour.getTime() - 3 * 3600_000);
      await Promise.all([
        store.admin.addTraffic(new Date(hour.getTime() + 5), { received: 2, deliveredLocal: 3, transmitted: 1, failed: 0 }),
        store.admin.addTraffic(new Date(hour.getTime() + 1000), { received: 1, deliveredLocal: 1, transmitted: 0, failed: 1 }),
        store.admin.addTraffic(before, { received: 7, deliveredLocal: 7, transmitted: 0, failed: 0 }),
      ]);
      const rows = await store.admin.listTraffic(new Date(hour.getTime() - 24 * 3600_000));
      assert.deepEqual(
        rows.map((r) => [r.hour.getTime(), r.received, r.deliveredLocal, r.transmitted, r.failed]),
        [
          [before.getTime(), 7, 7, 0, 0],
          [hour.getTime(), 3, 4, 1, 1],
        ],
      );
      assert.equal((await store.admin.listTraffic(hour)).length, 1);
    });

    test('the audit log filters by actor, action prefix and id', async () => {
      await store.audit({ actor: 'admin:root', action: 'account.create', accountId: null, subject: 'a@example.org', reason: '', detail: { ip: '192.0.2.1' } });
      await store.audit({ actor: 'token:abc', action: 'account.disable', accountId: null, subject: 'a@example.org', reason: '', detail: {} });
      await store.audit({ actor: 'admin:root', action: 'domain.add', accountId: null, subject: 'example.org', reason: '', detail: {} });
      await store.audit({ actor: 'admin:root', action: 'account_x.y', accountId: null, subject: 'x', reason: '', detail: {} });
      const all = await store.listAudit();
      assert.equal(all.length, 4);
      assert.deepEqual((await store.listAudit({ actor: 'admin:root' })).map((e) => e.action), ['account_x.y', 'domain.add', 'account.create']);
      assert.deepEqual((await store.listAudit({ action: 'account.' })).map((e) => e.action), ['account.disable', 'account.create']);
      assert.deepEqual((await store.listAudit({ action: 'domain.add' })).map((e) => e.subject), ['example.org']);
      const newest = all[0]!;
      assert.equal((await store.listAudit({ beforeId: newest.id, limit: 1 }))[0]?.action, 'domain.add');
      assert.deepEqual((await store.listAudit({ action: 'account.create' }))[0]?.detail, { ip: '192.0.2.1' });
    });
  });
}
