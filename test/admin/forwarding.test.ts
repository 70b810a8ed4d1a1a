// An account's forwarding set from the console over real HTTP on SQLite: it is written
// into the account's "webmail" Sieve script by the webmail's generator (the user's rules
// stay; the webmail shows the forwarding), mail delivered over SMTP is then forwarded
// (the forward waits in the outbound queue), the change is audited, and a script edited
// by hand is not overwritten.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { Client } from '../webmail/api-harness.js';
import { AdminClient, startAdminServer, type AdminServer } from './harness.js';
import type { ForwardingInfo } from '../../src/http/admin/types.js';
import type { FiltersState } from '../../src/http/api/types.js';

describe('admin API: forwarding', () => {
  let s: AdminServer;
  let admin: AdminClient;

  before(async () => {
    s = await startAdminServer({ STEADYMAIL_LISTEN_SMTP: '127.0.0.1:0', STEADYMAIL_SIEVE_SRS_SECRET: 'a-secret-for-these-tests' });
    admin = await AdminClient.signIn(s.base, 'root', 'rootpw');
  });
  after(() => s.close());

  const path = '/api/admin/accounts/user@mail.test/forwarding';

  test('set through the webmail generator, kept rules, mail forwarded, audited', async () => {
    const none = await admin.ok<ForwardingInfo>('GET', path);
    assert.deepEqual(none.forwarding, { enabled: false, address: '', keepCopy: true });
    assert.equal(none.modifiedElsewhere, false);

    // The user has a rule of their own, saved in the webmail.
    const user = await Client.login(s.base, 'user@mail.test', 'userpw');
    const rule = { name: 'news', enabled: true, match: 'any', conditions: [{ field: 'subject', match: 'contains', value: 'newsletter' }], actions: [{ kind: 'flag' }], stop: false };
    assert.equal((await user.request('PUT', '/api/filters', { rules: [rule] })).status, 200);

    assert.equal((await admin.call('PUT', path, { enabled: true, address: 'not an address', keepCopy: true })).status, 400);
    assert.equal((await admin.call('PUT', '/api/admin/accounts/nobody@mail.test/forwarding', { enabled: true, address: 'a@b.test', keepCopy: true })).status, 404);
    const set = await admin.ok<ForwardingInfo>('PUT', path, { enabled: true, address: 'User.Away@Elsewhere.test', keepCopy: true });
    assert.equal(set.forwarding.enabled, true);
    assert.match(set.forwarding.address, /^User\.Away@elsewhere\.test$/i);
    assert.equal(set.active, true);

    const script = await s.store.getSieveScript((await s.store.getAccount('user@mail.test'))!.id, 'webmail');
    assert.match(script!.content, /redirect :copy "User\.Away@elsewhere\.test";/i);
    const seen = (await (await user.request('GET', '/api/filters')).json()) as FiltersState;
    assert.equal(seen.forwarding.enabled, true);
    assert.deepEqual(seen.rules.map((r) => r.name), ['news'], "the user's rule is kept");
    assert.equal(seen.modifiedElsewhere, false);

    const rows = await s.store.listAudit({ action: 'account.forwarding', limit: 10 });
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.actor, 'admin:root');
    assert.equal((rows[0]!.detail.to as { enabled: boolean }).enabled, true);

    // Mail for the account is now forwarded (and kept).
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: s.server.addresses.get('smtp')!.port, secure: false, ignoreTLS: true });
    await transport.sendMail({ envelope: { from: 'sender@remote.test', to: ['user@mail.test'] }, raw: `From: <sender@remote.test>\r\nTo: <user@mail.test>\r\nSubject: Forward me\r\nMessage-ID: <fwd.${Date.now()}@remote.test>\r\nDate: ${new Date().toUTCString()}\r\n\r\nHello.\r\n` });
    transport.close();
    const queued = await s.store.listQueue();
    assert.ok(queued.some((e) => e.recipients.some((r) => r.toLowerCase() === 'user.away@elsewhere.test')), 'the forward is queued');

    // Off again: the script no longer redirects.
    const off = await admin.ok<ForwardingInfo>('PUT', path, { enabled: false, address: '', keepCopy: true });
    assert.equal(off.forwarding.enabled, false);
    const after = await s.store.getSieveScript((await s.store.getAccount('user@mail.test'))!.id, 'webmail');
    assert.doesNotMatch(after!.content, /redirect/);
    assert.match(after!.content, /newsletter/);
  });

  test('a script edited by hand is not overwritten', async () => {
    const account = (await s.store.getAccount('user@mail.test'))!;
    const own = (await s.store.getSieveScript(account.id, 'webmail'))!;
    await s.store.putSieveScript(account.id, 'webmail', own.content + '\r\n# edited by hand\r\nkeep;\r\n');
    const r = await admin.call<{ error: string }>('PUT', path, { enabled: true, address: 'x@elsewhere.test', keepCopy: false });
    assert.equal(r.status, 409);
    assert.equal((await admin.ok<ForwardingInfo>('GET', path)).modifiedElsewhere, true);
    assert.match((await s.store.getSieveScript(account.id, 'webmail'))!.content, /edited by hand/);
  });
});
