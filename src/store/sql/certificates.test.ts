// ACME accounts, certificates and challenge tokens on SQLite and PostgreSQL (migration 0009).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../open.js';
import type { Store } from '../store.js';
import { createTestDatabase } from '../contract/pg-test-db.js';

const backends: Array<[string, () => Promise<{ store: Store; second: () => Promise<Store>; cleanup: () => Promise<void> }>]> = [
  [
    'sqlite',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'steadymail-certs-'));
      const store = await openStore({ driver: 'sqlite', dataDir: dir });
      return { store, second: () => openStore({ driver: 'sqlite', dataDir: dir }), cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  ],
  [
    'postgres',
    async () => {
      const db = await createTestDatabase();
      const dir = await mkdtemp(join(tmpdir(), 'steadymail-certs-pg-'));
      const store = await openStore({ driver: 'postgres', url: db.url, dataDir: dir });
      return {
        store,
        second: () => openStore({ driver: 'postgres', url: db.url, dataDir: dir }),
        cleanup: async () => {
          await db.drop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  ],
];

for (const [name, open] of backends) {
  describe(`certificates in the store: ${name}`, () => {
    test('the first ACME account stored for a directory wins; its URL is set and updated for that key only', async () => {
      const { store, second, cleanup } = await open();
      const other = await second();
      try {
        const url = 'https://ca.test/dir';
        assert.equal(await store.getAcmeAccount(url), undefined);
        const [a, b] = await Promise.all([
          store.saveAcmeAccount({ directoryUrl: url, keyPem: 'KEY-A', accountUrl: null }),
          other.saveAcmeAccount({ directoryUrl: url, keyPem: 'KEY-B', accountUrl: null }),
        ]);
        assert.equal(a.keyPem, b.keyPem, 'both nodes use one key');
        const registered = await other.saveAcmeAccount({ directoryUrl: url, keyPem: a.keyPem, accountUrl: 'https://ca.test/acct/1' });
        assert.equal(registered.accountUrl, 'https://ca.test/acct/1');
        // A losing key never overwrites the account.
        const loser = a.keyPem === 'KEY-A' ? 'KEY-B' : 'KEY-A';
        assert.equal((await store.saveAcmeAccount({ directoryUrl: url, keyPem: loser, accountUrl: 'https://ca.test/acct/2' })).accountUrl, 'https://ca.test/acct/1');
        assert.deepEqual(await store.getAcmeAccount(url), { directoryUrl: url, keyPem: a.keyPem, accountUrl: 'https://ca.test/acct/1' });
        // The CA registered the key again (it had lost the account): the new URL replaces the old.
        await store.saveAcmeAccount({ directoryUrl: url, keyPem: a.keyPem, accountUrl: 'https://ca.test/acct/3' });
        assert.equal((await other.getAcmeAccount(url))?.accountUrl, 'https://ca.test/acct/3');
      } finally {
        await other.close();
        await store.close();
        await cleanup();
      }
    });

    test('failures count up and back off; an issued certificate clears them; other nodes read it', async () => {
      const { store, second, cleanup } = await open();
      const other = await second();
      try {
        const retry = new Date(Date.now() + 300_000);
        const f1 = await store.recordTlsCertificateFailure('mail.a.test', 'connection refused', retry);
        assert.equal(f1.failures, 1);
        assert.equal(f1.certPem, null);
        assert.equal(f1.nextAttemptAt?.getTime(), retry.getTime());
        const f2 = await store.recordTlsCertificateFailure('mail.a.test', 'timeout', new Date(retry.getTime() + 1000));
        assert.equal(f2.failures, 2);
        assert.equal(f2.lastError, 'timeout');
        const notAfter = new Date('2027-01-01T00:00:00Z');
        await store.saveTlsCertificate('mail.a.test', 'CERT', 'KEY', notAfter);
        const saved = await other.getTlsCertificate('mail.a.test');
        assert.equal(saved?.certPem, 'CERT');
        assert.equal(saved?.keyPem, 'KEY');
        assert.equal(saved?.notAfter?.getTime(), notAfter.getTime());
        assert.equal(saved?.failures, 0);
        assert.equal(saved?.nextAttemptAt, null);
        assert.equal(saved?.lastError, null);
        // A failed renewal keeps the certificate in place.
        const f3 = await store.recordTlsCertificateFailure('mail.a.test', 'rate limited', retry);
        assert.equal(f3.certPem, 'CERT');
        assert.equal(f3.failures, 1);
        await store.saveTlsCertificate('mail.b.test', 'CERT-B', 'KEY-B', notAfter);
        assert.deepEqual((await other.listTlsCertificates()).map((c) => c.name), ['mail.a.test', 'mail.b.test']);
      } finally {
        await other.close();
        await store.close();
        await cleanup();
      }
    });

    test('challenge tokens: any node answers until they expire or are removed', async () => {
      const { store, second, cleanup } = await open();
      const other = await second();
      try {
        await store.putAcmeChallenge('tok-1', 'tok-1.thumb', 'mail.a.test', new Date(Date.now() + 60_000));
        assert.equal(await other.getAcmeChallenge('tok-1'), 'tok-1.thumb');
        await store.putAcmeChallenge('tok-old', 'tok-old.thumb', 'mail.a.test', new Date(Date.now() - 1));
        assert.equal(await other.getAcmeChallenge('tok-old'), undefined);
        await other.deleteAcmeChallenge('tok-1');
        assert.equal(await store.getAcmeChallenge('tok-1'), undefined);
        assert.equal(await store.getAcmeChallenge('never'), undefined);
      } finally {
        await other.close();
        await store.close();
        await cleanup();
      }
    });
  });
}
