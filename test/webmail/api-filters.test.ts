// Settings → Filters over the API, end to end on SQLite and PostgreSQL: rules, vacation
// and forwarding saved through the webmail become the account's Sieve script, mail
// delivered over SMTP is sorted by it (seen over IMAP), the vacation reply and the
// forwards wait in the outbound queue, ManageSieve lists and returns the same script,
// and a script uploaded over ManageSieve is left alone until the user switches.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { ImapFlow } from 'imapflow';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';
import { SieveTalk, b64, literal } from '../sieve/client.js';
import { Client, startApiServer, type ApiServer } from './api-harness.js';
import type { FiltersState, FiltersUpdate, SieveErrorResponse } from '../../src/http/api/types.js';

const PW = 'pw-filters-1';

function portOf(s: ApiServer, name: 'smtp' | 'imap' | 'managesieve'): number {
  const a = s.server.addresses.get(name);
  if (!a) throw new Error(`${name} is not listening`);
  return a.port;
}

async function send(s: ApiServer, to: string, subject: string, opts: { from?: string; body?: string; headers?: string } = {}): Promise<void> {
  const from = opts.from ?? 'sender@remote.test';
  const raw = `From: Sender <${from}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}.${Date.now()}@remote.test>\r\nDate: ${new Date().toUTCString()}\r\n${opts.headers ?? ''}\r\n${opts.body ?? 'Hello.'}\r\n`;
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: portOf(s, 'smtp'), secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({ envelope: { from, to: [to] }, raw });
  } finally {
    transport.close();
  }
}

async function imapList(s: ApiServer, user: string, box: string): Promise<Array<{ subject: string; flags: string[] }>> {
  const client = new ImapFlow({ host: '127.0.0.1', port: portOf(s, 'imap'), secure: false, doSTARTTLS: false, auth: { user, pass: PW }, logger: false });
  await client.connect();
  try {
    const lock = await client.getMailboxLock(box);
    try {
      const out: Array<{ subject: string; flags: string[] }> = [];
      if (client.mailbox && client.mailbox.exists === 0) return out;
      for await (const m of client.fetch('1:*', { envelope: true, flags: true })) out.push({ subject: m.envelope?.subject ?? '', flags: [...(m.flags ?? [])].sort() });
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
}

async function sieveSession<T>(s: ApiServer, user: string, fn: (c: SieveTalk) => Promise<T>): Promise<T> {
  const c = await SieveTalk.connect(portOf(s, 'managesieve'));
  try {
    await c.response();
    assert.equal(await c.command(`AUTHENTICATE "PLAIN" "${b64(`\0${user}\0${PW}`)}"`), 'OK "Authenticated"\r\n');
    return await fn(c);
  } finally {
    c.close();
  }
}

function day(offset: number): string {
  return new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
}

for (const driver of ['sqlite', 'postgres'] as const) {
  let s: ApiServer;
  let db: { url: string; drop: () => Promise<void> } | null = null;
  let alice: Client;

  before(async () => {
    db = driver === 'postgres' ? await createTestDatabase() : null;
    s = await startApiServer(
      { 'alice@f.test': PW, 'bob@f.test': PW },
      {
        STEADYMAIL_LISTEN_SMTP: '127.0.0.1:0',
        STEADYMAIL_LISTEN_IMAP: '127.0.0.1:0',
        STEADYMAIL_LISTEN_MANAGESIEVE: '127.0.0.1:0',
        STEADYMAIL_SIEVE_SRS_SECRET: 'a-secret-for-these-tests',
        ...(db ? { STEADYMAIL_STORE_DRIVER: 'postgres', STEADYMAIL_STORE_URL: db.url } : {}),
      },
    );
    alice = await Client.login(s.base, 'alice@f.test', PW);
    await alice.post('/api/folders', { name: 'Bosses' });
  });
  after(async () => {
    await s.close();
    await db?.drop();
  });

  test(`${driver}: rules, vacation and forwarding as Sieve act on mail delivered over SMTP; ManageSieve sees the script`, async () => {
    const empty = await alice.get<FiltersState>('/api/filters');
    assert.deepEqual([empty.rules, empty.script, empty.active, empty.otherActive, empty.modifiedElsewhere], [[], '', false, null, false]);

    const update: FiltersUpdate = {
      rules: [
        { name: 'Boss', enabled: true, match: 'any', conditions: [{ field: 'from', match: 'contains', value: 'boss@' }], actions: [{ kind: 'flag' }, { kind: 'move', folder: 'Bosses' }], stop: true },
        { name: 'Newsletters', enabled: true, match: 'all', conditions: [{ field: 'header', header: 'List-Id', match: 'matches', value: '*news*' }], actions: [{ kind: 'mark-read' }, { kind: 'copy', folder: 'Archive' }], stop: false },
        { name: 'Spam words', enabled: true, match: 'all', conditions: [{ field: 'subject', match: 'contains', value: 'viagra' }], actions: [{ kind: 'discard' }], stop: true },
        { name: 'Big', enabled: true, match: 'all', conditions: [{ field: 'size', comparison: 'over', kilobytes: 50 }], actions: [{ kind: 'reject', reason: 'Too big for me' }], stop: true },
        { name: 'Invoices', enabled: true, match: 'all', conditions: [{ field: 'subject', match: 'is', value: 'Invoice' }], actions: [{ kind: 'forward', address: 'accounting@remote.test', keepCopy: false }], stop: true },
        { name: 'Off', enabled: false, match: 'all', conditions: [], actions: [{ kind: 'discard' }], stop: true },
      ],
      vacation: { enabled: true, subject: 'Away "this" week', body: 'I am away.\nBack soon.', days: 3, addresses: ['alice.alias@f.test'], start: day(-1), end: day(2) },
      forwarding: { enabled: true, address: 'alice@elsewhere.test', keepCopy: true },
    };
    const saved = await alice.json<FiltersState>('PUT', '/api/filters', update);
    assert.equal(saved.active, true, 'the first script is activated');
    assert.equal(saved.modifiedElsewhere, false);
    assert.deepEqual({ rules: saved.rules, vacation: saved.vacation, forwarding: saved.forwarding }, { rules: update.rules, vacation: update.vacation, forwarding: update.forwarding }, 'the form reads back as saved');
    assert.match(saved.script, /redirect :copy "alice@elsewhere\.test";/);
    assert.match(saved.script, /currentdate :value "ge" "date"/);
    assert.doesNotMatch(saved.script, /rule: Off/, 'a disabled rule is not in the script');

    // ManageSieve lists the same script, active, with the same text.
    const listed = await sieveSession(s, 'alice@f.test', async (c) => ({ list: await c.command('LISTSCRIPTS'), get: await c.command('GETSCRIPT "webmail"') }));
    assert.match(listed.list, /^"webmail" ACTIVE\r\n/m);
    assert.ok(listed.get.includes(saved.script), 'GETSCRIPT returns the stored text');

    await send(s, 'alice@f.test', 'Quarterly plan', { from: 'boss@remote.test' });
    await send(s, 'alice@f.test', 'Weekly news', { headers: 'List-Id: <news.remote.test>\r\n' });
    await send(s, 'alice@f.test', 'cheap viagra');
    await send(s, 'alice@f.test', 'Invoice', { from: 'billing@remote.test' });
    await send(s, 'alice@f.test', 'Plain hello', { from: 'friend@remote.test' });
    await assert.rejects(send(s, 'alice@f.test', 'Huge', { body: 'x'.repeat(60 * 1024) }), /Too big for me|550|554/);

    const bosses = await imapList(s, 'alice@f.test', 'Bosses');
    assert.deepEqual(bosses, [{ subject: 'Quarterly plan', flags: ['\\Flagged'] }]);
    const archive = await imapList(s, 'alice@f.test', 'Archive');
    assert.deepEqual(archive, [{ subject: 'Weekly news', flags: ['\\Seen'] }]);
    const inbox = (await imapList(s, 'alice@f.test', 'INBOX')).map((m) => m.subject).sort();
    // The boss's mail was moved, the newsletter copied (INBOX keeps it), the spam
    // discarded, the big one rejected; the invoice rule's forward without :copy cancels
    // the implicit keep (the global forwarding's :copy does not keep a copy by itself).
    assert.deepEqual(inbox, ['Plain hello', 'Weekly news']);

    // The outbound queue: forwarding of each kept message, the invoice forward, the vacation replies.
    const queue = await Promise.all((await s.store.listQueue()).map(async (e) => ({ e, text: (await s.store.blobs.get(e.blobId)).toString('utf8') })));
    const to = (rcpt: string) => queue.filter((q) => q.e.recipients.some((r) => r === rcpt)).map((q) => /^Subject: (.*)$/m.exec(q.text)?.[1] ?? '');
    assert.deepEqual(to('accounting@remote.test'), ['Invoice']);
    assert.ok(to('alice@elsewhere.test').includes('Plain hello'), 'forwarded with a copy kept');
    const replies = queue.filter((q) => /^Auto-Submitted: auto-replied/im.test(q.text));
    assert.ok(replies.length >= 1, 'a vacation reply is queued');
    assert.ok(replies.every((r) => r.text.includes('Away "this" week') && r.text.includes('I am away.')));
    assert.ok(replies.some((r) => r.e.recipients.some((x) => x === 'friend@remote.test')));
    const repliesToFriend = replies.filter((r) => r.e.recipients.some((x) => x === 'friend@remote.test')).length;
    await send(s, 'alice@f.test', 'Plain hello again', { from: 'friend@remote.test' });
    const again = await Promise.all((await s.store.listQueue()).map(async (e) => ({ e, text: (await s.store.blobs.get(e.blobId)).toString('utf8') })));
    assert.equal(
      again.filter((q) => /^Auto-Submitted: auto-replied/im.test(q.text) && q.e.recipients.some((x) => x === 'friend@remote.test')).length,
      repliesToFriend,
      'one reply per sender per :days',
    );
  });

  test(`${driver}: invalid input is refused with a reason; another client's active script is kept until the user switches`, async () => {
    const bad = await alice.request('PUT', '/api/filters', { rules: [{ name: 'x', enabled: true, match: 'all', conditions: [], actions: [{ kind: 'move', folder: 'Nope' }], stop: false }], vacation: undefined, forwarding: undefined });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /no folder "Nope"/);
    const badDays = await alice.request('PUT', '/api/filters', { rules: [], vacation: { enabled: true, subject: '', body: 'x', days: 10_000, addresses: [], start: null, end: null }, forwarding: { enabled: false, address: '', keepCopy: true } });
    assert.equal(badDays.status, 400);
    const noCsrf = await fetch(`${s.base}/api/filters`, { method: 'PUT', headers: { cookie: alice.cookie, 'content-type': 'application/json' }, body: '{"rules":[]}' });
    assert.equal(noCsrf.status, 403);
    const bob = await Client.login(s.base, 'bob@f.test', PW);
    assert.deepEqual((await bob.get<FiltersState>('/api/filters')).rules, [], "one account never sees another's filters");

    // A hand-written script uploaded over ManageSieve and activated.
    const hand = 'require "fileinto";\r\nif header :contains "subject" "hand" { fileinto "Archive"; }\r\n';
    await sieveSession(s, 'alice@f.test', async (c) => {
      assert.equal(await c.command(`PUTSCRIPT "mine" ${literal(hand)}`), 'OK "Putscript completed"\r\n');
      assert.equal(await c.command('SETACTIVE "mine"'), 'OK "Setactive completed"\r\n');
    });
    let st = await alice.get<FiltersState>('/api/filters');
    assert.deepEqual(st.otherActive, { name: 'mine', content: hand });
    assert.equal(st.active, false);
    const rules: FiltersUpdate = { rules: [{ name: 'r', enabled: true, match: 'all', conditions: [{ field: 'subject', match: 'contains', value: 'hand' }], actions: [{ kind: 'flag' }], stop: false }], vacation: st.vacation, forwarding: { enabled: false, address: '', keepCopy: true } };
    st = await alice.json<FiltersState>('PUT', '/api/filters', rules);
    assert.equal(st.active, false, 'saving does not take over from the active script');
    assert.equal(st.otherActive?.name, 'mine');
    await send(s, 'alice@f.test', 'by hand');
    assert.ok((await imapList(s, 'alice@f.test', 'Archive')).some((m) => m.subject === 'by hand'), 'the hand-written script still runs');
    st = await alice.post<FiltersState>('/api/filters/activate');
    assert.equal(st.active, true);
    assert.equal(st.otherActive, null);
    const scripts = await sieveSession(s, 'alice@f.test', (c) => c.command('LISTSCRIPTS'));
    assert.match(scripts, /^"mine"\r\n/m, 'the hand-written script is still there, inactive');
    assert.match(scripts, /^"webmail" ACTIVE\r\n/m);

    // The webmail's script edited over ManageSieve: shown as modified elsewhere.
    await sieveSession(s, 'alice@f.test', async (c) => {
      const edited = st.script + 'keep;\r\n';
      assert.equal(await c.command(`PUTSCRIPT "webmail" ${literal(edited)}`), 'OK "Putscript completed"\r\n');
    });
    st = await alice.get<FiltersState>('/api/filters');
    assert.equal(st.modifiedElsewhere, true);
    assert.equal(st.rules.length, 1, 'the form of the last webmail save is still offered');
  });
}

test('a rule the Sieve compiler refuses is answered with its line and column; the script size limit holds', async () => {
  const s = await startApiServer({ 'carol@f.test': PW }, { STEADYMAIL_SIEVE_MAX_SCRIPT_BYTES: '2000' });
  try {
    const carol = await Client.login(s.base, 'carol@f.test', PW);
    const rule = (value: string, match = 'regex') => ({ rules: [{ name: 'r', enabled: true, match: 'all', conditions: [{ field: 'subject', match, value }], actions: [{ kind: 'flag' }], stop: false }] });
    const res = await carol.request('PUT', '/api/filters', rule('(a+)+$'));
    assert.equal(res.status, 400);
    const err = (await res.json()) as SieveErrorResponse;
    assert.equal(err.error, 'invalid-script');
    assert.match(err.message, /regular expression/);
    const lines = err.script.split('\r\n');
    assert.match(lines[err.line - 1] ?? '', /^if header :regex "subject"/, 'the line points at the rule');
    assert.ok(err.column >= 1);
    assert.equal((await carol.get<FiltersState>('/api/filters')).script, '', 'nothing was stored');
    const ok = await carol.json<FiltersState>('PUT', '/api/filters', rule('^\\[ticket-[0-9]+\\]'));
    assert.match(ok.script, /require \["imap4flags", "regex"\];/);
    const big = await carol.request('PUT', '/api/filters', rule('y'.repeat(900), 'contains'));
    assert.equal(big.status, 413);
    assert.match(((await big.json()) as SieveErrorResponse).message, /sieve\.max_script_bytes/);
  } finally {
    await s.close();
  }
});
