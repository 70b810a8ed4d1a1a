// The search index's contract (store searchText, migration 0008), on every backend:
// its answer must be exactly a case-insensitive substring scan of the indexed text.
// The extractor here is a plain header/body split; the IMAP tests use mime/'s.

import { describe, test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../store.js';
import type { SearchText, SearchTextExtractor, TextFilter } from '../types.js';
import { storeMessage } from './suite.js';

export interface SearchBackend {
  name: string;
  /** A fresh, empty store; `reopen` opens another handle on the same data. */
  open(searchText?: SearchTextExtractor): Promise<{ store: Store; reopen(searchText?: SearchTextExtractor): Promise<Store>; cleanup: () => Promise<void> }>;
}

function splitText(raw: Buffer): SearchText {
  const s = raw.toString('utf8');
  const at = s.indexOf('\r\n\r\n');
  return at < 0 ? { headers: s, body: '' } : { headers: s.slice(0, at), body: s.slice(at + 4) };
}

export const SPLIT_V1: SearchTextExtractor = { version: 1, extract: (raw) => splitText(raw) };
/** A changed rule: the body is indexed reversed, so a test can tell which version answered. */
const SPLIT_V2: SearchTextExtractor = { version: 2, extract: (raw) => ({ ...splitText(raw), body: [...splitText(raw).body].reverse().join('') }) };

/** The reference: what IMAP's scan computes for one filter over one text. */
function reference(f: TextFilter, t: SearchText): boolean {
  const has = (hay: string, needle: string) => hay.toLowerCase().includes(needle.toLowerCase());
  if ('field' in f) {
    if (f.field === 'headers') return has(t.headers, f.value);
    if (f.field === 'body') return has(t.body, f.value);
    return has(t.headers, f.value) || has(t.body, f.value);
  }
  return 'and' in f ? f.and.every((p) => reference(p, t)) : f.or.some((p) => reference(p, t));
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function runSearchIndexContract(backend: SearchBackend): void {
  describe(`search index contract: ${backend.name}`, () => {
    let store: Store;
    let reopen: (x?: SearchTextExtractor) => Promise<Store>;
    let cleanup: () => Promise<void>;
    let inbox: number;
    let other: number;
    const extra: Store[] = [];

    beforeEach(async () => {
      const opened = await backend.open(SPLIT_V1);
      store = opened.store;
      reopen = (x) => opened.reopen(x);
      cleanup = opened.cleanup;
      await store.createDomain('example.org');
      const alice = await store.createAccount({ address: 'alice@example.org', passwordHash: 'x' });
      inbox = (await store.getMailbox(alice.id, 'INBOX'))!.id;
      other = (await store.getMailbox(alice.id, 'Archive'))!.id;
    });
    afterEach(async () => {
      for (const s of extra.splice(0)) await s.close();
      await store.close();
      await cleanup();
    });

    async function add(mailboxId: number, raw: string, on: Store = store): Promise<number> {
      return (await on.appendMessage(mailboxId, await storeMessage(on, raw))).uid;
    }

    test('appended and delivered messages are indexed: case-insensitive substrings, fields apart', async () => {
      const a = await add(inbox, 'Subject: Quarterly Report\r\nX-Id: 100%_done\r\n\r\nThe CAFÉ numbers are in; see "page 2".\r\n');
      const [delivered] = await store.deliverMessage([inbox, other], await storeMessage(store, 'Subject: lunch\r\n\r\nNothing about reports. a\\b 50 % off\r\n'));
      const b = (delivered as { uid: number }).uid;
      const q = (filter: TextFilter, mailboxId = inbox) => store.searchText(mailboxId, filter);
      assert.deepEqual(await q({ field: 'body', value: 'café NUMBERS' }), { matched: [a], unindexed: [] });
      assert.deepEqual((await q({ field: 'body', value: 'report' })).matched, [b], 'the subject of the first is a header, not body');
      assert.deepEqual((await q({ field: 'headers', value: 'REPORT' })).matched, [a]);
      assert.deepEqual((await q({ field: 'text', value: 'report' })).matched, [a, b]);
      assert.deepEqual((await q({ field: 'text', value: 'eport' })).matched, [a, b], 'inside a word');
      assert.deepEqual((await q({ field: 'body', value: 'N;' })).matched, [a], 'under three characters');
      assert.deepEqual((await q({ field: 'body', value: '' })).matched, [a, b], 'the empty string is in every text');
      // LIKE and FTS5 syntax are literal text here.
      assert.deepEqual((await q({ field: 'headers', value: '100%_d' })).matched, [a]);
      assert.deepEqual((await q({ field: 'headers', value: '100_' })).matched, []);
      assert.deepEqual((await q({ field: 'body', value: '50 %' })).matched, [b]);
      assert.deepEqual((await q({ field: 'body', value: '5%' })).matched, []);
      assert.deepEqual((await q({ field: 'body', value: 'a\\b' })).matched, [b]);
      assert.deepEqual((await q({ field: 'body', value: '"page 2"' })).matched, [a]);
      assert.deepEqual((await q({ field: 'body', value: 'numbers AND nothing' })).matched, []);
      assert.deepEqual((await q({ and: [{ field: 'body', value: 'café' }, { field: 'headers', value: 'quarterly' }] })).matched, [a]);
      assert.deepEqual((await q({ or: [{ field: 'body', value: 'café' }, { field: 'body', value: 'lunch' }] })).matched, [a]);
      assert.deepEqual((await q({ or: [{ field: 'body', value: 'x' }, { field: 'body', value: 'off' }] })).matched, [b], 'OR with a short needle');
      // One row per blob: the delivered copy in the other mailbox, and a COPY, are found too.
      assert.deepEqual((await q({ field: 'body', value: 'reports' }, other)).matched, [1]);
      const copied = await store.copyMessages(inbox, [a], other);
      assert.deepEqual((await q({ field: 'body', value: 'café' }, other)).matched, [copied.mapping[0]![1]]);
      assert.deepEqual((await q({ field: 'body', value: 'café' }, other)).unindexed, []);
      // Expunged messages are gone from the answer.
      await store.expungeMessages(inbox, [a]);
      assert.deepEqual(await q({ field: 'body', value: 'café' }), { matched: [], unindexed: [] });
    });

    test('messages stored without an extractor are reported unindexed until indexed', async () => {
      const plain = await reopen();
      extra.push(plain);
      const a = await add(inbox, 'Subject: x\r\n\r\nzebra crossing\r\n', plain);
      const b = await add(inbox, 'Subject: y\r\n\r\nzebra\r\n');
      assert.deepEqual(await store.searchText(inbox, { field: 'body', value: 'zebra' }), { matched: [b], unindexed: [a] });
      // A scan that read it may hand its text over...
      const blob = (await store.getMessages(inbox, [a]))[0]!.blobId;
      await store.indexSearchText(blob, splitText(await store.blobs.get(blob)));
      assert.deepEqual(await store.searchText(inbox, { field: 'body', value: 'zebra' }), { matched: [a, b], unindexed: [] });
      // ...or the backlog pass indexes what is missing, in steps.
      const c = await add(other, 'Subject: z\r\n\r\nzebra three\r\n', plain);
      const d = await add(other, 'Subject: w\r\n\r\nno stripes\r\n', plain);
      assert.deepEqual((await store.searchText(other, { field: 'body', value: 'zebra' })).unindexed, [c, d]);
      let next: number | null = 0;
      let indexed = 0;
      while (next !== null) {
        const step: { indexed: number; next: number | null } = await store.indexSearchBacklog(next, 1);
        indexed += step.indexed;
        next = step.next;
      }
      assert.equal(indexed, 2);
      assert.deepEqual(await store.searchText(other, { field: 'body', value: 'zebra' }), { matched: [c], unindexed: [] });
      assert.deepEqual(await plain.indexSearchBacklog(0, 100), { indexed: 0, next: null }, 'without an extractor there is nothing to do');
      // Needles the index cannot hold leave every message to the caller's scan.
      assert.deepEqual(await store.searchText(other, { field: 'body', value: 'a\uFFFDb' }), { matched: [], unindexed: [c, d] });
    });

    test('a text too long to index is left to the caller, and not read again by the backlog', async () => {
      const big = await add(inbox, 'Subject: big\r\n\r\n' + 'walrus '.repeat(150_000) + 'tail\r\n');
      const small = await add(inbox, 'Subject: small\r\n\r\nwalrus tail\r\n');
      assert.deepEqual(await store.searchText(inbox, { field: 'body', value: 'tail' }), { matched: [small], unindexed: [big] });
      assert.deepEqual(await store.indexSearchBacklog(0, 10), { indexed: 0, next: null });
    });

    test('a new extractor version re-indexes: old rows count as unindexed', async () => {
      const a = await add(inbox, 'Subject: x\r\n\r\nabcdef\r\n');
      const v2 = await reopen(SPLIT_V2);
      extra.push(v2);
      assert.deepEqual(await v2.searchText(inbox, { field: 'body', value: 'abc' }), { matched: [], unindexed: [a] });
      assert.deepEqual(await v2.indexSearchBacklog(0, 10), { indexed: 1, next: null });
      assert.deepEqual(await v2.searchText(inbox, { field: 'body', value: 'fed' }), { matched: [a], unindexed: [] });
      assert.deepEqual((await v2.searchText(inbox, { field: 'body', value: 'abc' })).matched, []);
    });

    test('equals a case-insensitive substring scan on random texts and needles', async () => {
      const rnd = random(5);
      const alphabet = ['a', 'b', 'A', 'B', 'é', 'É', 'ß', 'ẞ', 'İ', 'i', 'Σ', 'σ', 'ς', '%', '_', '\\', '"', ' ', '\n', '\0', '𝔸', '日', '本'];
      const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
      const texts = new Map<number, SearchText>();
      for (let i = 0; i < 60; i++) {
        const text = { headers: 'Subject: ' + word(8), body: word(40) };
        const uid = await add(inbox, `${text.headers}\r\n\r\n${text.body}`);
        texts.set(uid, text);
      }
      for (let i = 0; i < 150; i++) {
        const source = [...texts.get(1 + Math.floor(rnd() * texts.size))!.body];
        const from = Math.floor(rnd() * source.length);
        // Half the needles are taken from a text (often a hit), half are random.
        let value = rnd() < 0.5 ? source.slice(from, from + 1 + Math.floor(rnd() * 5)).join('') : word(1 + Math.floor(rnd() * 4));
        if (rnd() < 0.5) value = rnd() < 0.5 ? value.toUpperCase() : value.toLowerCase();
        value = value.replace(/\0/g, 'x');
        const field = (['headers', 'body', 'text'] as const)[i % 3]!;
        const filter: TextFilter = i % 7 === 0 ? { or: [{ field, value }, { field: 'body', value: word(3) }] } : { field, value };
        const expected = [...texts].filter(([, t]) => reference(filter, t)).map(([uid]) => uid);
        assert.deepEqual((await store.searchText(inbox, filter)).matched, expected, `${JSON.stringify(filter)}`);
      }
    });
  });
}
