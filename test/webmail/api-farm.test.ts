// Two nodes over one PostgreSQL store (farm mode): a session made on one node works on
// the other, a change made through one node reaches the other's event stream, and the
// list, sort and search queries answer over HTTP on PostgreSQL.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';
import { Client, mailboxId, putMessage, startApiServer, type ApiServer } from './api-harness.js';
import type { BulkResponse, MessageDetail, MessagePage } from '../../src/http/api/types.js';

let db: { url: string; drop: () => Promise<void> };
let nodeA: ApiServer;
let nodeB: ApiServer;
before(async () => {
  db = await createTestDatabase();
  const env = { STEADYMAIL_STORE_DRIVER: 'postgres', STEADYMAIL_STORE_URL: db.url };
  nodeA = await startApiServer({ 'farm@f.test': 'pw-farm' }, env);
  nodeB = await startApiServer({}, env);
});
after(async () => {
  await nodeA.close();
  await nodeB.close();
  await db.drop();
});

test('a session made on one node works on the other; events cross nodes; queries run on PostgreSQL', async () => {
  const onA = await Client.login(nodeA.base, 'farm@f.test', 'pw-farm');
  const onB = new Client(nodeB.base);
  onB.cookie = onA.cookie;
  onB.csrf = onA.csrf;
  const inbox = await mailboxId(nodeA.store, 'farm@f.test', 'INBOX');

  // Node B's event stream hears a delivery made through node A.
  const controller = new AbortController();
  const res = await fetch(`${nodeB.base}/api/events`, { headers: { cookie: onB.cookie }, signal: controller.signal });
  assert.equal(res.status, 200);
  const reader: ReadableStreamDefaultReader<Uint8Array> = res.body!.getReader();
  let seen = '';
  const waitFor = async (needle: string) => {
    const deadline = Date.now() + 10_000;
    while (!seen.includes(needle)) {
      if (Date.now() > deadline) throw new Error(`no ${needle} in ${seen}`);
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      seen += Buffer.from(value).toString('utf8');
    }
  };
  await waitFor('event: ready');
  for (const [i, subject] of ['Delta', 'alpha', 'Charlie', 'bravo'].entries()) {
    await putMessage(nodeA.store, inbox, `From: "${subject} Sender" <${subject.toLowerCase()}@x.test>\nSubject: ${subject}\n\nbody ${i}\n`, { date: new Date(Date.UTC(2026, 1, i + 1)) });
  }
  await waitFor(`"folderId":"${inbox}","kind":"exists"`);
  controller.abort();

  const bySubject = await onB.get<MessagePage>(`/api/folders/${inbox}/messages?sort=subject&order=asc`);
  assert.deepEqual(bySubject.items.map((m) => m.subject), ['alpha', 'bravo', 'Charlie', 'Delta']);
  const byFrom = await onB.get<MessagePage>(`/api/folders/${inbox}/messages?sort=from&order=desc&limit=2&offset=1`);
  assert.deepEqual(byFrom.items.map((m) => m.subject), ['Charlie', 'bravo']);
  assert.equal(byFrom.total, 4);
  const found = await onB.get<MessagePage>('/api/search?from=CHARLIE');
  assert.deepEqual(found.items.map((m) => m.subject), ['Charlie']);
  const body = await onB.get<MessagePage>('/api/search?body=body%202');
  assert.deepEqual(body.items.map((m) => m.subject), ['Charlie']);
  const d = await onB.get<MessageDetail>(`/api/messages/${found.items[0]!.id}`);
  assert.match(d.text ?? '', /body 2/);
  // A mutation on node B with the token from node A.
  assert.equal((await onB.post<BulkResponse>('/api/messages/flags', { ids: [d.summary.id], add: ['flagged'] })).count, 1);
  const flagged = await onA.get<MessagePage>(`/api/folders/${inbox}/messages?flagged=1`);
  assert.deepEqual(flagged.items.map((m) => m.subject), ['Charlie']);
  // Signing out on one node ends the session on both.
  assert.equal((await onA.request('DELETE', '/api/session')).status, 200);
  assert.equal((await onB.request('GET', '/api/folders')).status, 401);
});
