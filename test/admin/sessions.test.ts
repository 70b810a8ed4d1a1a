// Sessions in the admin API over real HTTP on SQLite and PostgreSQL, with a real IMAP client (imapflow):
// the live list shows an open session, ending it disconnects the client and leaves an
// audit row, the account's log-in history has the row, and a trace switched on from the
// console records the next log-in with its password masked until it is switched off.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { AdminClient, startAdminServer, type AdminServer } from './harness.js';
import type { HistoryInfo, LiveSessionInfo, TraceInfo } from '../../src/http/admin/types.js';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

for (const driver of ['sqlite', 'postgres'] as const) describe(`admin API: sessions and traces (${driver})`, () => {
  let s: AdminServer;
  let db: { url: string; drop: () => Promise<void> } | null = null;
  let admin: AdminClient;
  let imapPort = 0;

  before(async () => {
    db = driver === 'postgres' ? await createTestDatabase() : null;
    s = await startAdminServer({ STEADYMAIL_LISTEN_IMAP: '127.0.0.1:0', ...(db ? { STEADYMAIL_STORE_DRIVER: 'postgres', STEADYMAIL_STORE_URL: db.url } : {}) });
    imapPort = s.server.addresses.get('imap')!.port;
    admin = await AdminClient.signIn(s.base, 'root', 'rootpw');
  });
  after(async () => {
    await s?.close();
    await db?.drop();
  });

  const imap = () =>
    new ImapFlow({ host: '127.0.0.1', port: imapPort, secure: false, doSTARTTLS: false, auth: { user: 'user@mail.test', pass: 'userpw' }, clientInfo: { name: 'console-test' }, logger: false, tls: { rejectUnauthorized: false } });

  test('the live list shows an IMAP session; ending it disconnects the client and is audited; the history has it', async () => {
    const client = imap();
    await client.connect();
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));

    const open = await until('the live row with its account', async () => {
      const { sessions } = await admin.ok<{ sessions: LiveSessionInfo[] }>('GET', '/api/admin/sessions');
      return sessions.find((x) => x.protocol === 'imap' && x.account === 'user@mail.test');
    });
    assert.equal(open.clientIp, '127.0.0.1');
    assert.equal(open.tls, null);
    assert.match(open.clientId ?? '', /console-test/);
    assert.equal(open.killRequested, false);
    assert.match(open.node, /.+:\d+$/);
    assert.ok(Date.now() - Date.parse(open.startedAt) < 60_000);
    const filtered = await admin.ok<{ sessions: LiveSessionInfo[] }>('GET', '/api/admin/sessions?account=user@mail.test');
    assert.deepEqual(filtered.sessions.map((x) => x.sessionId), [open.sessionId]);
    assert.deepEqual((await admin.ok<{ sessions: LiveSessionInfo[] }>('GET', '/api/admin/sessions?account=nobody@mail.test')).sessions, []);

    assert.equal((await admin.call('POST', '/api/admin/sessions/no-such-session/kill')).status, 404);
    await admin.ok('POST', `/api/admin/sessions/${encodeURIComponent(open.sessionId)}/kill`);
    const started = Date.now();
    await Promise.race([closed, sleep(15_000).then(() => assert.fail('the client was not disconnected'))]);
    assert.ok(Date.now() - started < 15_000);
    await until('the live row to go', async () => ((await s.store.sessions.getLiveSession(open.sessionId)) ? undefined : true));

    const rows = await s.store.listAudit({ action: 'session.kill', limit: 10 });
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.actor, 'admin:root');
    assert.equal(rows[0]!.subject, `session ${open.sessionId}`);
    assert.equal(rows[0]!.detail.account, 'user@mail.test');
    assert.equal(rows[0]!.detail.ip, '127.0.0.1');

    const row = await until('the history row', async () => {
      const { sessions } = await admin.ok<{ sessions: HistoryInfo[] }>('GET', '/api/admin/accounts/user@mail.test/sessions');
      return sessions.find((x) => x.sessionId === open.sessionId);
    });
    assert.equal(row.protocol, 'imap');
    assert.equal(row.login, 'ok');
    assert.equal(row.endReason, 'killed');
    assert.equal(row.clientIp, '127.0.0.1');
    assert.ok(row.commands >= 1);
    assert.equal((await admin.call('GET', '/api/admin/accounts/nobody@mail.test/sessions')).status, 404);
  });

  test('a trace switched on from the console records an IMAP log-in, password masked; off stops it', async () => {
    assert.equal((await admin.call('POST', '/api/admin/accounts/user@mail.test/trace', { for: 'forever' })).status, 400);
    assert.equal((await admin.call('POST', '/api/admin/accounts/user@mail.test/trace', { for: '31d' })).status, 400);
    const on = await admin.ok<TraceInfo>('POST', '/api/admin/accounts/user@mail.test/trace', { for: '30m', bodies: false });
    assert.equal(on.active, true);
    const minutes = (Date.parse(on.trace!.until) - Date.now()) / 60_000;
    assert.ok(minutes > 29 && minutes <= 30, String(minutes));
    const audited = await s.store.listAudit({ action: 'trace.on', limit: 10 });
    assert.equal(audited.length, 1);
    assert.equal(audited[0]!.subject, 'user@mail.test');
    assert.equal(audited[0]!.detail.bodies, false);

    // The server re-reads trace switches every few seconds: log in until a session is recorded.
    const trace = await until(
      'a recorded IMAP log-in',
      async () => {
        const client = imap();
        await client.connect();
        await client.logout();
        await sleep(700);
        const t = await admin.ok<TraceInfo>('GET', '/api/admin/accounts/user@mail.test/trace');
        return t.lines.some((l) => l.protocol === 'imap' && /^\S+ (AUTHENTICATE|LOGIN)\b/.test(l.line)) ? t : undefined;
      },
      20_000,
    );
    assert.equal(trace.active, true);
    const text = trace.lines.map((l) => `${l.direction} ${l.line}`).join('\n');
    assert.match(text, /^C \S+ AUTHENTICATE PLAIN$/m);
    assert.match(text, /^C \*\*\*$/m, 'the SASL response is masked');
    assert.match(text, /^S \S+ OK .*Logged in$/m);
    assert.match(text, /^C \S+ LOGOUT$/m);
    assert.ok(!text.includes('userpw'), 'no password');
    assert.ok(!text.includes(Buffer.from('\0user@mail.test\0userpw').toString('base64')), 'no encoded password');
    const one = trace.lines[0]!.sessionId;
    const only = await admin.ok<TraceInfo>('GET', `/api/admin/accounts/user@mail.test/trace?session=${encodeURIComponent(one)}`);
    assert.ok(only.lines.length > 0 && only.lines.every((l) => l.sessionId === one));
    const history = await admin.ok<{ sessions: HistoryInfo[] }>('GET', '/api/admin/accounts/user@mail.test/sessions');
    assert.equal(history.sessions.find((h) => h.sessionId === one)?.traced, true);

    assert.deepEqual(await admin.ok('DELETE', '/api/admin/accounts/user@mail.test/trace'), { stopped: true });
    const off = await admin.ok<TraceInfo>('GET', '/api/admin/accounts/user@mail.test/trace');
    assert.equal(off.active, false);
    assert.equal(off.lines.length, trace.lines.length, 'what was recorded stays readable');
    assert.deepEqual(await admin.ok('DELETE', '/api/admin/accounts/user@mail.test/trace'), { stopped: false });
    assert.equal((await s.store.listAudit({ action: 'trace.off', limit: 10 })).length, 2);
    assert.equal((await admin.call('GET', '/api/admin/accounts/nobody@mail.test/trace')).status, 404);
  });
});
