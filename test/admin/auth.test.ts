// Authorisation of the admin API, generated from its route table: every route but
// sign-in refuses anonymous clients, a signed-in webmail (mailbox) user, a malformed, an
// unknown and a revoked API token; a cookie session without its CSRF token cannot
// change anything. Sign-in sets a strict cookie and is throttled like every login.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../webmail/api-harness.js';
import { createAdminToken } from '../../src/auth/admin.js';
import { ADMIN_PREFIX, ADMIN_ROUTES } from '../../src/http/admin/routes.js';
import { AdminClient, startAdminServer, type AdminServer } from './harness.js';

const PARAMS: Record<string, string> = { name: 'mail.test', address: 'user@mail.test', id: '1', source: 'alias@mail.test' };

function concrete(path: string): string {
  return ADMIN_PREFIX + path.replace(/:([a-z]+)/g, (_m, p: string) => encodeURIComponent(PARAMS[p] ?? 'x'));
}

describe('admin API authorisation', () => {
  let s: AdminServer;
  let revoked: string;
  before(async () => {
    s = await startAdminServer();
    revoked = (await createAdminToken(s.store, 'old', 'test')).secret;
    await s.store.admin.revokeToken(revoked.split('_')[1]!);
  });
  after(() => s.close());

  const guarded = ADMIN_ROUTES.filter((r) => !r.public);

  test('the table has every part of the console and only sign-in is public', () => {
    assert.deepEqual(
      ADMIN_ROUTES.filter((r) => r.public).map((r) => `${r.method} ${r.path}`),
      ['POST /session'],
    );
    for (const prefix of ['/dashboard', '/domains', '/accounts', '/sessions', '/queue', '/incidents', '/audit']) {
      assert.ok(guarded.some((r) => r.path.startsWith(prefix)), prefix);
    }
  });

  test('every guarded route refuses the anonymous, mailbox users and bad tokens', async () => {
    const mailUser = await Client.login(s.base, 'user@mail.test', 'userpw');
    const clients: Array<[string, (method: string, path: string) => Promise<number>]> = [
      ['anonymous', async (m, p) => (await new AdminClient(s.base).call(m, p, m === 'GET' ? undefined : {})).status],
      ['webmail user', async (m, p) => (await mailUser.request(m, p, m === 'GET' ? undefined : {})).status],
      ['malformed token', async (m, p) => (await AdminClient.withToken(s.base, 'not-a-token').call(m, p, m === 'GET' ? undefined : {})).status],
      ['unknown token', async (m, p) => (await AdminClient.withToken(s.base, s.token.slice(0, -4) + 'AAAA').call(m, p, m === 'GET' ? undefined : {})).status],
      ['revoked token', async (m, p) => (await AdminClient.withToken(s.base, revoked).call(m, p, m === 'GET' ? undefined : {})).status],
    ];
    const before = await s.store.listAudit({ limit: 1000 });
    let checked = 0;
    for (const route of guarded) {
      for (const [who, send] of clients) {
        const status = await send(route.method, concrete(route.path));
        assert.ok(status === 401 || status === 403, `${who}: ${route.method} ${route.path} answered ${status}`);
        checked++;
      }
    }
    assert.equal(checked, guarded.length * clients.length);
    // The mailbox user's account still exists, and nothing was written.
    assert.ok(await s.store.getAccount('user@mail.test'));
    assert.equal((await s.store.listAudit({ limit: 1000 })).length, before.length);
  });

  test('a cookie session without its CSRF token changes nothing; with it, it may', async () => {
    const admin = await AdminClient.signIn(s.base, 'root', 'rootpw');
    const mutating = guarded.filter((r) => r.method !== 'GET');
    for (const route of mutating) {
      const r = await admin.call(route.method, concrete(route.path), {}, { 'x-csrf-token': 'wrong' });
      assert.equal(r.status, 403, `${route.method} ${route.path}`);
      assert.equal((r.body as { error: string }).error, 'csrf');
    }
    assert.equal((await s.store.listDomains()).length, 1);
    assert.equal((await admin.call('POST', '/api/admin/domains', { name: 'csrf.test' })).status, 200);
    // A bearer token needs no CSRF token.
    assert.equal((await AdminClient.withToken(s.base, s.token).call('DELETE', '/api/admin/domains/csrf.test')).status, 200);
  });

  test('sign-in sets an HttpOnly SameSite=Strict cookie; sign-out ends the session', async () => {
    const c = new AdminClient(s.base);
    const bad = await c.call('POST', '/api/admin/session', { name: 'root', password: 'wrong' });
    assert.equal(bad.status, 401);
    const r = await c.call<{ name: string; csrfToken: string }>('POST', '/api/admin/session', { name: 'root', password: 'rootpw' });
    assert.equal(r.status, 200);
    assert.equal(r.body.name, 'root');
    const cookie = r.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^steadymail_admin=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    c.csrf = r.body.csrfToken;
    assert.equal((await c.call<{ name: string }>('GET', '/api/admin/session')).body.name, 'root');
    const kept = c.cookie;
    assert.equal((await c.call('DELETE', '/api/admin/session')).status, 200);
    c.cookie = kept;
    assert.equal((await c.call('GET', '/api/admin/dashboard')).status, 401);
    // A webmail password is no admin password, and an admin is no mailbox user.
    assert.equal((await new AdminClient(s.base).call('POST', '/api/admin/session', { name: 'user@mail.test', password: 'userpw' })).status, 401);
    assert.equal((await new Client(s.base).request('POST', '/api/session', { username: 'root', password: 'rootpw' })).status, 401);
  });
});

describe('admin sign-in throttling', () => {
  let s: AdminServer;
  before(async () => {
    s = await startAdminServer({ STEADYMAIL_AUTH_MAX_FAILURES_PER_IP: '3', STEADYMAIL_LIMITS_AUTH_FAILURES_BEFORE_DELAY: '10' });
  });
  after(() => s.close());

  test('failures count in the shared login throttle: the address is refused, even with the right password', async () => {
    const c = new AdminClient(s.base);
    for (let i = 0; i < 3; i++) assert.equal((await c.call('POST', '/api/admin/session', { name: 'root', password: `guess${i}` })).status, 401);
    assert.equal((await c.call('POST', '/api/admin/session', { name: 'root', password: 'rootpw' })).status, 429);
    // The same counter as every protocol: the webmail refuses this address too.
    assert.equal((await new Client(s.base).request('POST', '/api/session', { username: 'user@mail.test', password: 'userpw' })).status, 429);
  });
});
