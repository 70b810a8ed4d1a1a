// Body search through the store's full-text index: a rare word in the oldest message of
// a large folder is found even though webmail.search_max_scanned (set low here) would
// have stopped a scan of the messages long before reaching it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, mailboxId, putMessage, startApiServer, type ApiServer } from './api-harness.js';
import type { MessagePage } from '../../src/http/api/types.js';

const MESSAGES = 3000;
let s: ApiServer;
let c: Client;
before(async () => {
  s = await startApiServer({ 'big@s.test': 'pw-big-1' }, { STEADYMAIL_WEBMAIL_SEARCH_MAX_SCANNED: '100' });
  c = await Client.login(s.base, 'big@s.test', 'pw-big-1');
});
after(async () => {
  await s.close();
});

test(`a rare word in the oldest of ${MESSAGES} messages is found through the index, with header criteria and paging`, async (t) => {
  const inbox = await mailboxId(s.store, 'big@s.test', 'INBOX');
  const base = Date.UTC(2020, 0, 1);
  await putMessage(s.store, inbox, 'From: "Old Friend" <old@x.test>\nSubject: long ago\n\nWe met at the zwetschgendatschi stand.\n', { date: new Date(base) });
  // The others share two bodies (and so two blobs), like a mailbox of copies would.
  // Appended 100 at a time: concurrent appends share commits.
  for (let from = 1; from < MESSAGES; from += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, MESSAGES - from) }, (_, k) => {
        const i = from + k;
        return putMessage(s.store, inbox, `From: someone${i % 2}@x.test\nSubject: filler\n\n${i % 2 === 0 ? 'Nothing to see here, common words.' : 'More common words, a datsch but not the rare one.'}\n`, { date: new Date(base + i * 60_000) });
      }),
    );
  }
  const started = process.hrtime.bigint();
  const found = await c.get<MessagePage>('/api/search?body=zwetschgendatschi');
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.diagnostic(`body search over ${MESSAGES} messages: ${ms.toFixed(1)} ms`);
  assert.deepEqual(found.items.map((m) => m.subject), ['long ago']);
  assert.equal(found.total, 1);
  assert.deepEqual((await c.get<MessagePage>('/api/search?text=zwetschgendatschi&from=friend')).items.map((m) => m.subject), ['long ago'], 'any-text with a header criterion');
  assert.equal((await c.get<MessagePage>('/api/search?body=zwetschgendatschi&from=someone')).total, 0, 'header criteria still apply');
  assert.equal((await c.get<MessagePage>('/api/search?body=zwetschgendatschi&after=2021-01-01')).total, 0, 'date criteria still apply');

  // A common word: every match counted (not only the last search_max_scanned), newest first, paged.
  const common = await c.get<MessagePage>('/api/search?body=common%20words&limit=10&offset=5');
  assert.equal(common.total, MESSAGES - 1);
  assert.equal(common.items.length, 10);
  const dates = common.items.map((m) => Date.parse(m.receivedAt));
  assert.deepEqual(dates, [...dates].sort((a, b) => b - a));
  assert.equal(dates[0], base + (MESSAGES - 1 - 5) * 60_000);
});
