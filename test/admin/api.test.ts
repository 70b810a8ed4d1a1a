// The admin API end to end over real HTTP on SQLite: domains with their DNS records and a
// live check against a loopback DNS server, accounts (with the CSV import), the queue,
// incidents, the audit log and the dashboard. Every mutation leaves an audit row naming
// who, what and from where.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../webmail/api-harness.js';
import { AdminClient, startAdminServer, type AdminServer } from './harness.js';
import { startZoneDns, type ZoneDns } from './dns-server.js';
import type { AuditEntry } from '../../src/store/types.js';

interface Rec {
  type: string;
  name: string;
  value: string;
  state?: string;
  found?: string[];
  zone: string;
}

describe('admin API', () => {
  let s: AdminServer;
  let dns: ZoneDns;
  let admin: AdminClient;
  let bot: AdminClient;
  let submissionPort = 0;

  before(async () => {
    dns = await startZoneDns([
      { type: 'MX', name: 'shop.test', priority: 5, exchange: 'mail.api.test' },
      { type: 'TXT', name: 'shop.test', text: 'v=spf1 include:_spf.elsewhere.test ~all' },
      { type: 'TXT', name: 'shop.test', text: 'google-site-verification=abc' },
      { type: 'SRV', name: '_submission._tcp.shop.test', priority: 0, weight: 1, port: 587, target: 'mail.api.test' },
      { type: 'CNAME', name: 'autoconfig.shop.test', target: 'mail.api.test' },
      { type: 'CNAME', name: 'autodiscover.shop.test', target: 'elsewhere.test' },
    ]);
    s = await startAdminServer({ STEADYMAIL_DNS_SERVERS: dns.server, STEADYMAIL_LISTEN_SUBMISSION: '127.0.0.1:0', STEADYMAIL_LISTEN_IMAP: '127.0.0.1:0' });
    submissionPort = s.server.addresses.get('submission')!.port;
    admin = await AdminClient.signIn(s.base, 'root', 'rootpw');
    bot = AdminClient.withToken(s.base, s.token);
  });
  after(async () => {
    await s.close();
    await dns.close();
  });

  async function auditOf(action: string): Promise<AuditEntry[]> {
    return s.store.listAudit({ action, limit: 100 });
  }

  test('domains: add, list, DKIM, the records to publish and what DNS says', async () => {
    await admin.ok('POST', '/api/admin/domains', { name: 'Shop.TEST' });
    assert.equal((await admin.call('POST', '/api/admin/domains', { name: 'shop.test' })).status, 409);
    assert.equal((await admin.call('POST', '/api/admin/domains', { name: 'not a domain' })).status, 400);
    const { domains } = await bot.ok<{ domains: Array<{ name: string; accounts: number; dkim: boolean }> }>('GET', '/api/admin/domains');
    assert.deepEqual(domains.map((d) => [d.name, d.dkim]), [['mail.test', false], ['shop.test', false]]);

    const dkim = await admin.ok<{ created: boolean; name: string; value: string }>('POST', '/api/admin/domains/shop.test/dkim');
    assert.equal(dkim.created, true);
    assert.equal(dkim.name, 'steadymail._domainkey.shop.test');
    assert.match(dkim.value, /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$/);
    assert.equal((await admin.ok<{ created: boolean }>('POST', '/api/admin/domains/shop.test/dkim')).created, false, 'an existing key is kept');

    const { records } = await bot.ok<{ records: Rec[] }>('GET', '/api/admin/domains/shop.test/records');
    const byName = (type: string, name: string) => records.find((r) => r.type === type && r.name === name);
    assert.equal(byName('MX', 'shop.test')?.value, '10 mail.api.test');
    assert.equal(byName('TXT', 'steadymail._domainkey.shop.test')?.value, dkim.value);
    assert.match(byName('TXT', '_dmarc.shop.test')?.value ?? '', /^v=DMARC1; /);
    assert.match(byName('TXT', '_mta-sts.shop.test')?.value ?? '', /^v=STSv1; id=/);
    // RFC 6186 SRV records follow the real listeners: submission and IMAP are on (their bound ports), the rest off.
    assert.equal(byName('SRV', '_submission._tcp.shop.test')?.value, `0 1 ${submissionPort} mail.api.test`);
    assert.equal(byName('SRV', '_imap._tcp.shop.test')?.value, `0 1 ${s.server.addresses.get('imap')!.port} mail.api.test`);
    for (const off of ['_submissions._tcp', '_imaps._tcp', '_pop3._tcp', '_pop3s._tcp']) assert.equal(byName('SRV', `${off}.shop.test`)?.value, '0 0 0 .', off);
    assert.equal(byName('CNAME', 'autoconfig.shop.test')?.value, 'mail.api.test');
    assert.equal(byName('CNAME', 'autodiscover.shop.test')?.value, 'mail.api.test');
    assert.match(byName('TXT', 'steadymail._domainkey.shop.test')?.zone ?? '', /^steadymail\._domainkey\.shop\.test\. 3600 IN TXT "v=DKIM1; k=rsa; p=.{200,}" ".+"$/);

    const checked = (await admin.ok<{ records: Rec[] }>('GET', '/api/admin/domains/shop.test/dns-check')).records;
    const state = (type: string, name: string) => checked.find((r) => r.type === type && r.name === name);
    assert.equal(state('MX', 'shop.test')?.state, 'ok', 'another preference for this host is fine');
    assert.equal(state('TXT', 'shop.test')?.state, 'ok', 'any one SPF policy is the owner’s choice');
    assert.equal(state('TXT', '_dmarc.shop.test')?.state, 'missing');
    assert.equal(state('TXT', 'steadymail._domainkey.shop.test')?.state, 'missing');
    assert.equal(state('SRV', '_submission._tcp.shop.test')?.state, submissionPort === 587 ? 'ok' : 'different');
    assert.deepEqual(state('SRV', '_submission._tcp.shop.test')?.found, ['0 1 587 mail.api.test']);
    assert.equal(state('CNAME', 'autoconfig.shop.test')?.state, 'ok');
    assert.equal(state('CNAME', 'autodiscover.shop.test')?.state, 'different');
    assert.deepEqual(state('CNAME', 'autodiscover.shop.test')?.found, ['elsewhere.test']);

    const added = await auditOf('domain.add');
    assert.equal(added[0]?.actor, 'admin:root');
    assert.equal(added[0]?.subject, 'shop.test');
    assert.equal(added[0]?.detail.ip, '127.0.0.1');
    assert.equal((await auditOf('domain.dkim')).length, 2);
  });

  test('accounts: create, show with folders and aliases, password, quota, disable, remove', async () => {
    await admin.ok('POST', '/api/admin/domains', { name: 'acc.test' });
    const created = await admin.ok<{ address: string; quotaBytes: number }>('POST', '/api/admin/accounts', { address: 'Ann@acc.test', password: 'first-pw', quotaBytes: 1_000_000 });
    assert.deepEqual([created.address, created.quotaBytes], ['ann@acc.test', 1_000_000]);
    assert.equal((await admin.call('POST', '/api/admin/accounts', { address: 'ann@acc.test', password: 'x' })).status, 409);
    assert.equal((await admin.call('POST', '/api/admin/accounts', { address: 'bob@nowhere.test', password: 'x' })).status, 404);
    assert.equal((await admin.call('POST', '/api/admin/accounts', { address: 'bob@acc.test', password: '' })).status, 400);
    await bot.ok('POST', '/api/admin/aliases', { source: 'sales@acc.test', targets: ['ann@acc.test'] });

    // The new account signs in to the webmail.
    await Client.login(s.base, 'ann@acc.test', 'first-pw');
    const shown = await bot.ok<{ usedBytes: number; folders: Array<{ name: string; messages: number }>; aliases: Array<{ source: string }> }>('GET', '/api/admin/accounts/ann@acc.test');
    assert.deepEqual(shown.folders.map((f) => f.name).sort(), ['Archive', 'Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']);
    assert.deepEqual(shown.aliases.map((a) => a.source), ['sales@acc.test']);
    assert.equal((await bot.ok<{ accounts: Array<{ address: string }> }>('GET', '/api/admin/accounts?domain=acc.test')).accounts.length, 1);

    await admin.ok('PUT', '/api/admin/accounts/ann@acc.test/password', { password: 'second-pw' });
    await assert.rejects(Client.login(s.base, 'ann@acc.test', 'first-pw'));
    await Client.login(s.base, 'ann@acc.test', 'second-pw');
    assert.equal((await admin.ok<{ quotaBytes: number }>('PUT', '/api/admin/accounts/ann@acc.test/quota', { quotaBytes: 0 })).quotaBytes, 0);
    assert.equal((await admin.ok<{ disabled: boolean }>('POST', '/api/admin/accounts/ann@acc.test/disable')).disabled, true);
    assert.equal((await new Client(s.base).request('POST', '/api/session', { username: 'ann@acc.test', password: 'second-pw' })).status, 403);
    assert.equal((await admin.ok<{ disabled: boolean }>('POST', '/api/admin/accounts/ann@acc.test/enable')).disabled, false);
    await admin.ok('DELETE', '/api/admin/aliases/sales@acc.test');
    await admin.ok('DELETE', '/api/admin/accounts/ann@acc.test');
    assert.equal(await s.store.getAccount('ann@acc.test'), undefined);
    assert.equal((await admin.call('GET', '/api/admin/accounts/ann@acc.test')).status, 404);

    for (const action of ['account.create', 'account.password', 'account.quota', 'account.disable', 'account.enable', 'alias.add', 'alias.remove']) {
      const rows = await auditOf(action);
      assert.ok(rows.length > 0, action);
      assert.equal(rows[0]?.detail.ip, '127.0.0.1', action);
    }
    assert.equal((await auditOf('alias.add'))[0]?.actor, `token:${s.tokenId}`);
    const removed = await auditOf('account.delete');
    assert.equal(removed[0]?.actor, 'admin:root');
    assert.match(removed[0]?.reason ?? '', /operator console, from 127\.0\.0\.1/);
  });

  test('CSV import: one bad row and nothing is created; a good file creates every row', async () => {
    await admin.ok('POST', '/api/admin/domains', { name: 'csv.test' });
    const bad = await admin.ok<{ created: number; rows: Array<{ line: number; status: string; error?: string }> }>('POST', '/api/admin/accounts/import', {
      csv: 'address,password,quota\na@csv.test,pw-a,100M\n"b@csv.test","pw, with comma",\nnot-an-address,pw,\nc@unknown.test,pw,\na@csv.test,pw,\nd@csv.test,,1G\ne@csv.test,pw,lots\n',
    });
    assert.equal(bad.created, 0);
    assert.deepEqual(
      bad.rows.map((r) => [r.line, r.status]),
      [
        [2, 'not-created'],
        [3, 'not-created'],
        [4, 'invalid'],
        [5, 'invalid'],
        [6, 'invalid'],
        [7, 'invalid'],
        [8, 'invalid'],
      ],
    );
    assert.match(bad.rows[3]?.error ?? '', /not hosted/);
    assert.match(bad.rows[4]?.error ?? '', /twice/);
    assert.equal((await s.store.listAccounts('csv.test')).length, 0, 'nothing half-done');

    const good = await admin.ok<{ created: number; rows: Array<{ status: string }> }>('POST', '/api/admin/accounts/import', { csv: 'address,password,quota\r\na@csv.test,pw-a,100M\r\n"b@csv.test","pw, with ""quotes""",\r\n' });
    assert.equal(good.created, 2);
    const accounts = await s.store.listAccounts('csv.test');
    assert.deepEqual(accounts.map((a) => [a.address, a.quotaBytes]), [['a@csv.test', 100 * 1024 * 1024], ['b@csv.test', 0]]);
    await Client.login(s.base, 'b@csv.test', 'pw, with "quotes"');
    assert.equal((await admin.call('POST', '/api/admin/accounts/import', { csv: 'mail,pw\nx@csv.test,y\n' })).status, 400);
    assert.equal((await s.store.listAudit({ action: 'account.create', limit: 100 })).filter((e) => e.detail.import === true).length, 2);
  });

  test('queue: list, show, retry and delete (audited)', async () => {
    const blob = await s.store.blobs.put(Buffer.from('Subject: hi\r\n\r\nhello\r\n'));
    const [entry] = await s.store.enqueueOutbound({ blobId: blob.id, size: blob.size, mailFrom: 'user@mail.test', recipients: ['x@remote.test'] });
    await s.store.deferQueueEntry(entry!.id, '451 4.7.1 try later', new Date(Date.now() + 3600_000));
    const { entries } = await bot.ok<{ entries: Array<{ id: number; lastError: string | null }> }>('GET', '/api/admin/queue?state=queued');
    assert.deepEqual(entries.map((e) => [e.id, e.lastError]), [[entry!.id, '451 4.7.1 try later']]);
    assert.equal((await bot.ok<{ domain: string }>('GET', `/api/admin/queue/${entry!.id}`)).domain, 'remote.test');
    assert.equal((await bot.call('GET', '/api/admin/queue?state=bogus')).status, 400);
    const dash = await admin.ok<{ queue: { queued: number }; errors: Array<{ source: string; message: string }> }>('GET', '/api/admin/dashboard');
    assert.equal(dash.queue.queued, 1);
    assert.ok(dash.errors.some((e) => e.message === '451 4.7.1 try later'), 'a queue error shows among recent errors');
    const retried = await admin.ok<{ nextAttemptAt: string }>('POST', `/api/admin/queue/${entry!.id}/retry`);
    assert.ok(Date.parse(retried.nextAttemptAt) <= Date.now());
    await admin.ok('DELETE', `/api/admin/queue/${entry!.id}`);
    assert.equal(await s.store.getQueueEntry(entry!.id), undefined);
    assert.equal((await admin.call('DELETE', `/api/admin/queue/${entry!.id}`)).status, 404);
    assert.equal((await auditOf('queue.retry'))[0]?.actor, 'admin:root');
    assert.equal((await auditOf('queue.delete'))[0]?.actor, 'admin:root');
  });

  test('incidents: open, update, resolve, as `steadymail incident` does', async () => {
    const opened = await admin.ok<{ id: number; stage: string }>('POST', '/api/admin/incidents', { title: 'POP3 slow', impact: 'minor', components: ['pop3'], body: 'Looking into it.' });
    assert.equal(opened.stage, 'investigating');
    assert.equal((await admin.call('POST', '/api/admin/incidents', { title: 'x', impact: 'apocalyptic', body: 'x' })).status, 400);
    const updated = await bot.ok<{ stage: string; updates: Array<{ author: string }> }>('POST', `/api/admin/incidents/${opened.id}/updates`, { body: 'Found it.', stage: 'identified' });
    assert.equal(updated.stage, 'identified');
    assert.equal(updated.updates.at(-1)?.author, `token:${s.tokenId}`);
    const resolved = await admin.ok<{ stage: string; resolvedAt: string | null }>('POST', `/api/admin/incidents/${opened.id}/resolve`, { body: 'Fixed.' });
    assert.equal(resolved.stage, 'resolved');
    assert.ok(resolved.resolvedAt);
    const listed = await bot.ok<{ incidents: Array<{ id: number }> }>('GET', '/api/admin/incidents');
    assert.ok(listed.incidents.some((i) => i.id === opened.id));
    assert.equal((await s.store.monitoring.getIncident(opened.id))?.stage, 'resolved', 'the status page reads the same store');
    for (const action of ['incident.open', 'incident.update', 'incident.resolve']) assert.equal((await auditOf(action)).length, 1, action);
  });

  test('the audit log through the API, filtered and paged', async () => {
    const page = await bot.ok<{ entries: Array<{ id: number; actor: string; action: string; detail: { ip?: string } }>; next: number | null }>('GET', '/api/admin/audit?actor=admin:root&limit=3');
    assert.equal(page.entries.length, 3);
    assert.ok(page.entries.every((e) => e.actor === 'admin:root'));
    assert.ok(page.next);
    const older = await bot.ok<{ entries: Array<{ id: number }> }>('GET', `/api/admin/audit?actor=admin:root&limit=3&before=${page.next}`);
    assert.ok(older.entries.every((e) => e.id < page.next!));
    const accounts = await bot.ok<{ entries: Array<{ action: string }> }>('GET', '/api/admin/audit?action=account.');
    assert.ok(accounts.entries.length > 0 && accounts.entries.every((e) => e.action.startsWith('account.')));
    const signIns = await bot.ok<{ entries: Array<{ action: string; detail: { ip?: string } }> }>('GET', '/api/admin/audit?action=admin.sign-in');
    assert.equal(signIns.entries[0]?.detail.ip, '127.0.0.1');
  });

  test('the dashboard: 24 hourly traffic figures, store, disk and connections', async () => {
    await s.store.admin.addTraffic(new Date(), { received: 4, deliveredLocal: 3, transmitted: 2, failed: 1 });
    const d = await admin.ok<{
      traffic: Array<{ hour: string; received: number; transmitted: number }>;
      store: { accounts: number; databaseBytes: number | null };
      disk: { freeBytes: number; totalBytes: number } | null;
      connections: Array<{ protocol: string; open: number }>;
      components: unknown;
    }>('GET', '/api/admin/dashboard');
    assert.equal(d.traffic.length, 24);
    assert.ok(d.traffic.at(-1)!.received >= 4);
    assert.ok(d.traffic.at(-1)!.transmitted >= 2);
    assert.equal(Date.parse(d.traffic[23]!.hour) - Date.parse(d.traffic[0]!.hour), 23 * 3600_000);
    assert.ok(d.store.accounts >= 1);
    assert.ok((d.store.databaseBytes ?? 0) > 0);
    assert.ok(d.disk && d.disk.freeBytes > 0 && d.disk.totalBytes >= d.disk.freeBytes);
    // The listeners that count their connections (IMAP here; the test's own HTTP requests are not counted).
    assert.deepEqual(d.connections, [{ protocol: 'imap', open: 0 }]);
    assert.equal(d.components, null, 'the monitor is off in this server');
  });
});
