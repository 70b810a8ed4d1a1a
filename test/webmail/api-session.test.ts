// Sign-in, cookies, CSRF, sign-out, and the wall between accounts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, mailboxId, putMessage, startApiServer, type ApiServer } from './api-harness.js';
import type { FolderListResponse, MessageDetail, MessagePage, SessionInfo } from '../../src/http/api/types.js';

let s: ApiServer;
before(async () => {
  s = await startApiServer({ 'alice@api.test': 'alice-secret', 'bob@api.test': 'bob-secret' });
});
after(async () => {
  await s.close();
});

test('sign in sets an HttpOnly SameSite=Lax cookie (not Secure on plain HTTP) and returns the CSRF token', async () => {
  const res = await fetch(`${s.base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'Alice@api.test', password: 'alice-secret' }) });
  assert.equal(res.status, 200);
  const cookie = res.headers.get('set-cookie') ?? '';
  assert.match(cookie, /^steadymail_session=[A-Za-z0-9_-]{40,}; /);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Lax/);
  assert.doesNotMatch(cookie, /Secure/);
  const info = (await res.json()) as SessionInfo;
  assert.equal(info.address, 'alice@api.test');
  assert.ok(info.csrfToken.length >= 20);
  assert.ok(info.limits.maxUploadBytes > 0);
  // The token itself is not what the store keeps.
  const token = cookie.split(';')[0]!.split('=')[1]!;
  const found = await s.store.webmail.getSession(token);
  assert.equal(found, undefined);
});

test('a wrong password is 401 and every API route needs a session', async () => {
  const res = await fetch(`${s.base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice@api.test', password: 'nope' }) });
  assert.equal(res.status, 401);
  assert.equal(((await res.json()) as { error: string }).error, 'bad-credentials');
  for (const path of ['/api/session', '/api/folders', '/api/search?subject=x', '/api/settings', '/api/filters', '/api/events', '/api/messages/1.1']) {
    const r = await fetch(s.base + path);
    assert.equal(r.status, 401, path);
    assert.equal(((await r.json()) as { error: string }).error, 'unauthenticated');
  }
  const forged = await fetch(`${s.base}/api/folders`, { headers: { cookie: 'steadymail_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
  assert.equal(forged.status, 401);
});

test('mutating requests need the CSRF token; sign-out ends the session', async () => {
  const c = await Client.login(s.base, 'alice@api.test', 'alice-secret');
  const csrf = c.csrf;
  c.csrf = '';
  const noToken = await c.request('POST', '/api/folders', { name: 'NoCsrf' });
  assert.equal(noToken.status, 403);
  assert.equal(((await noToken.json()) as { error: string }).error, 'csrf');
  c.csrf = 'x'.repeat(csrf.length);
  assert.equal((await c.request('POST', '/api/folders', { name: 'NoCsrf' })).status, 403);
  assert.equal((await c.request('DELETE', '/api/session')).status, 403);
  c.csrf = csrf;
  const folders = await c.get<FolderListResponse>('/api/folders');
  assert.ok(!folders.folders.some((f) => f.name === 'NoCsrf'), 'nothing was created without the token');
  const cookie = c.cookie;
  assert.equal((await c.request('DELETE', '/api/session')).status, 200);
  assert.equal(c.cookie, '', 'the cookie is cleared');
  const after = await fetch(`${s.base}/api/folders`, { headers: { cookie } });
  assert.equal(after.status, 401, 'the old cookie no longer works');
});

test("one account can never read, change or learn of another account's folders and messages", async () => {
  const alice = await Client.login(s.base, 'alice@api.test', 'alice-secret');
  const bob = await Client.login(s.base, 'bob@api.test', 'bob-secret');
  const inbox = await mailboxId(s.store, 'alice@api.test', 'INBOX');
  const put = await putMessage(s.store, inbox, 'From: x@example.com\nSubject: private\nContent-Type: text/html\n\n<p>secret</p>\n');
  const mid = `${inbox}.${put.uid}`;
  // Alice sees it.
  const mine = await alice.get<MessageDetail>(`/api/messages/${mid}?markSeen=0`);
  assert.equal(mine.headers.subject, 'private');

  // Bob gets exactly what a non-existent id gets.
  const missing = `999999.1`;
  const pairs: Array<[string, string, unknown?]> = [
    ['GET', `/api/folders/${inbox}/messages`],
    ['GET', `/api/messages/${mid}`],
    ['GET', `/api/messages/${mid}/raw`],
    ['GET', `/api/messages/${mid}/body`],
    ['GET', `/api/messages/${mid}/parts/1`],
    ['GET', `/api/messages/${mid}/cid/x`],
    ['PATCH', `/api/folders/${inbox}`, { name: 'Stolen' }],
    ['DELETE', `/api/folders/${inbox}`],
    ['POST', `/api/folders/${inbox}/empty`],
    ['GET', `/api/search?folderId=${inbox}&subject=private`],
  ];
  for (const [method, path, body] of pairs) {
    const theirs = await bob.request(method, path, body);
    const nothing = await bob.request(method, path.replace(mid, missing).replace(`/folders/${inbox}`, '/folders/999999').replace(`folderId=${inbox}`, 'folderId=999999'), body);
    assert.equal(theirs.status, 404, `${method} ${path}`);
    assert.equal(nothing.status, 404, `${method} ${path} (missing)`);
    assert.deepEqual(await theirs.json(), await nothing.json(), `${method} ${path}: same answer as for nothing`);
  }
  // Bulk actions ignore foreign ids: nothing changes.
  const bobInbox = await mailboxId(s.store, 'bob@api.test', 'INBOX');
  assert.deepEqual(await bob.post('/api/messages/flags', { ids: [mid], add: ['flagged', 'seen'] }), { count: 0 });
  assert.equal((await bob.post<{ count: number }>('/api/messages/delete', { ids: [mid] })).count, 0);
  assert.equal((await bob.post<{ count: number }>('/api/messages/move', { ids: [mid], folderId: String(bobInbox) })).count, 0);
  assert.equal((await bob.post<{ count: number }>('/api/messages/junk', { ids: [mid], junk: true })).count, 0);
  // Moving into Alice's folder is as if it did not exist.
  const bobMsg = await putMessage(s.store, bobInbox, 'Subject: bobs\n\nx\n');
  const into = await bob.request('POST', '/api/messages/move', { ids: [`${bobInbox}.${bobMsg.uid}`], folderId: String(inbox) });
  assert.equal(into.status, 404);
  // Forwarding Alice's message as an attachment is refused too.
  const fwd = await bob.request('POST', '/api/drafts', { to: [], subject: 'x', text: 'x', forwardAttachments: [mid] });
  assert.equal(fwd.status, 404);
  // Bob's capability token does not open Alice's body either.
  const bobSession = await bob.get<MessageDetail>(`/api/messages/${bobInbox}.${bobMsg.uid}`);
  const cap = new URL(bobSession.htmlUrl!, s.base).search;
  const viaCap = await fetch(`${s.base}/api/messages/${mid}/body${cap}`);
  assert.equal(viaCap.status, 404);

  // Alice's message is untouched.
  const [meta] = await s.store.getMessages(inbox, [put.uid]);
  assert.deepEqual(meta?.flags, []);
  const page = await alice.get<MessagePage>(`/api/folders/${inbox}/messages`);
  assert.equal(page.items.length, 1);
  const folders = await alice.get<FolderListResponse>('/api/folders');
  assert.ok(folders.folders.some((f) => f.name === 'INBOX'));
  assert.ok(!folders.folders.some((f) => f.name === 'Stolen'));
});

test('sessions live in the store, under the hash of the cookie token, so every worker and node finds them', async () => {
  const c = await Client.login(s.base, 'bob@api.test', 'bob-secret');
  const token = c.cookie.split('=')[1]!;
  const { hashToken } = await import('../../src/http/api/session.js');
  const session = await s.store.webmail.getSession(hashToken(token));
  assert.ok(session);
  assert.equal(session.accountId, (await s.store.getAccount('bob@api.test'))!.id);
});

test('behind a trusted proxy the cookie is Secure for https and the client address is the forwarded one; sign-in bodies are small', async () => {
  const proxied = await startApiServer({ 'carol@api.test': 'carol-secret' }, { STEADYMAIL_WEBMAIL_TRUSTED_PROXIES: '127.0.0.1/8' });
  try {
    const login = (headers: Record<string, string>) =>
      fetch(`${proxied.base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ username: 'carol@api.test', password: 'carol-secret' }) });
    const viaTls = await login({ 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' });
    assert.equal(viaTls.status, 200);
    assert.match(viaTls.headers.get('set-cookie') ?? '', /; Secure/);
    const plain = await login({});
    assert.doesNotMatch(plain.headers.get('set-cookie') ?? '', /Secure/);
    const { hashToken } = await import('../../src/http/api/session.js');
    const token = (viaTls.headers.get('set-cookie') ?? '').split(';')[0]!.split('=')[1]!;
    const session = await proxied.store.webmail.getSession(hashToken(token));
    assert.ok(session);
    // The forwarded address is what was recorded (and what the login throttle counts).
    assert.equal(session.remoteAddress, '203.0.113.9');
    // The throttle is the one IMAP, POP3 and SMTP use: an address blocked there is blocked here.
    // Counted in the store: failures recorded anywhere (another protocol, worker or node) count here.
    const { loginThrottleFor } = await import('../../src/auth/authenticator.js');
    const throttle = loginThrottleFor(proxied.store);
    for (let i = 0; i < throttle.limits.maxFailuresPerIp; i++) await throttle.recordFailure('198.51.100.7', `guess${i}@api.test`);
    const blocked = await login({ 'x-forwarded-for': '198.51.100.7' });
    assert.equal(blocked.status, 429);
    assert.equal(((await blocked.json()) as { error: string }).error, 'throttled');
    assert.equal((await login({ 'x-forwarded-for': '198.51.100.8' })).status, 200, 'other addresses are not affected');
    const huge = await fetch(`${proxied.base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'carol@api.test', password: 'x'.repeat(100_000) }) });
    assert.equal(huge.status, 413);
  } finally {
    await proxied.close();
  }
  const always = await startApiServer({ 'dave@api.test': 'dave-secret' }, { STEADYMAIL_WEBMAIL_SECURE_COOKIES: 'true' });
  try {
    const res = await fetch(`${always.base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'dave@api.test', password: 'dave-secret' }) });
    assert.match(res.headers.get('set-cookie') ?? '', /; Secure/);
  } finally {
    await always.close();
  }
});
