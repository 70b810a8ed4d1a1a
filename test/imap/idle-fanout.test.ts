// Many sessions on one mailbox: one change is read from the store once per
// process, not once per session (src/imap/mailbox-feed.ts), and every session
// still sees it in its own terms (MSNs, \Recent, CONDSTORE MODSEQ, IMAP4rev2).
// The store is the real one (SQLite and PostgreSQL), wrapped to count calls.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../src/store/open.js';
import { searchTextExtractor } from '../../src/mime/index.js';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';
import type { Store } from '../../src/store/store.js';
import { RawClient, msg, startServer, type OpenHarnessStore } from './harness.js';

const SESSIONS = 200;

/** The real store, counting the calls made through it (by method name). */
function counting(store: Store): { store: Store; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const wrapped = new Proxy(store, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...args: unknown[]) => {
        calls.set(prop, (calls.get(prop) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: wrapped, calls };
}

const backends: Array<{ name: string; open: (dataDir: string) => Promise<{ store: Store; drop: () => Promise<void> }> }> = [
  {
    name: 'sqlite',
    open: async (dataDir) => ({ store: await openStore({ driver: 'sqlite', dataDir, searchText: searchTextExtractor }), drop: async () => undefined }),
  },
  {
    name: 'postgres',
    open: async (dataDir) => {
      const db = await createTestDatabase();
      const store = await openStore({ driver: 'postgres', url: db.url, dataDir, searchText: searchTextExtractor });
      return { store, drop: db.drop };
    },
  },
];

function total(calls: Map<string, number>): number {
  let n = 0;
  for (const v of calls.values()) n += v;
  return n;
}

for (const backend of backends) {
  describe(`IDLE fan-out (${backend.name})`, () => {
    test(`${SESSIONS} sessions in IDLE on one mailbox: all see a delivery, store reads do not grow with sessions`, { timeout: 120_000 }, async () => {
      let inner: Store | undefined;
      let drop: () => Promise<void> = async () => undefined;
      let calls = new Map<string, number>();
      const open: OpenHarnessStore = async (dataDir) => {
        const o = await backend.open(dataDir);
        inner = o.store;
        drop = o.drop;
        const c = counting(o.store);
        calls = c.calls;
        return c.store;
      };
      const h = await startServer(
        { limits: { maxLineBytes: 8192, maxLiteralBytes: 1 << 20, idleTimeoutMs: 120_000, maxConnectionsPerIp: SESSIONS + 10, authFailureDelayMs: 10 } },
        ['alice@example.com'],
        open,
      );
      const clients: RawClient[] = [];
      try {
        const store = inner as Store;
        const box = (await store.getMailbox(h.account.id, 'INBOX'))!;
        const deliver = async (subject: string): Promise<void> => {
          const blob = await store.blobs.put(Buffer.from(msg(subject)));
          await store.appendMessage(box.id, { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: {} });
        };
        await deliver('before');
        // A mix: IMAP4rev1 SELECT (claims \Recent), EXAMINE, CONDSTORE, IMAP4rev2.
        const kinds = ['select', 'examine', 'condstore', 'rev2'] as const;
        const recentAtSelect: number[] = [];
        for (let i = 0; i < SESSIONS; i++) {
          const c = await RawClient.connect(h.port);
          clients.push(c);
          await c.login();
          const kind = kinds[i % kinds.length];
          if (kind === 'rev2') await c.cmd('e', 'ENABLE IMAP4rev2');
          if (kind === 'condstore') await c.cmd('e', 'ENABLE CONDSTORE');
          const sel = await c.cmd('s', kind === 'examine' ? 'EXAMINE INBOX' : 'SELECT INBOX');
          assert.ok(sel.at(-1)?.startsWith('s OK'), sel.join('\n'));
          recentAtSelect.push(Number(/^\* (\d+) RECENT$/.exec(sel.find((l) => l.endsWith(' RECENT')) ?? '')?.[1] ?? 0));
          c.write('i IDLE\r\n');
          assert.equal(await c.next(), '+ idling');
        }

        calls.clear();
        await deliver('pushed');
        const seen = await Promise.all(
          clients.map(async (c, i) => {
            const lines = [await c.next(30_000)];
            const kind = kinds[i % kinds.length];
            // IMAP4rev1 sessions follow EXISTS with RECENT.
            if (kind !== 'rev2') lines.push(await c.next(30_000));
            return lines;
          }),
        );
        for (const [i, lines] of seen.entries()) assert.equal(lines[0], '* 2 EXISTS', `session ${i}: ${lines.join(' | ')}`);
        // Exactly one SELECT session takes the new message as \Recent; EXAMINE sessions show
        // it without taking it. RECENT counts all of the session's recent messages.
        const gained = seen.map((l, i) => Number(/^\* (\d+) RECENT$/.exec(l[1] ?? '')?.[1] ?? 0) - (recentAtSelect[i] ?? 0));
        const byKind = (kind: string) => gained.filter((_, i) => kinds[i % kinds.length] === kind);
        const claimed = [...byKind('select'), ...byKind('condstore')];
        assert.equal(claimed.filter((g) => g === 1).length, 1, claimed.join(' '));
        assert.ok(claimed.every((g) => g === 0 || g === 1), claimed.join(' '));
        assert.ok(byKind('examine').every((g) => g === 1), byKind('examine').join(' '));
        const reads = { changesSince: calls.get('changesSince') ?? 0, claimRecent: calls.get('claimRecent') ?? 0, all: total(calls) };
        assert.ok(reads.changesSince >= 1 && reads.changesSince <= 2, `changesSince called ${reads.changesSince} times for ${SESSIONS} sessions`);
        assert.ok(reads.claimRecent <= 3, `claimRecent called ${reads.claimRecent} times: ${JSON.stringify([...calls])}`);
        assert.ok(reads.all <= 8, `store called ${reads.all} times for ${SESSIONS} sessions: ${JSON.stringify([...calls])}`);

        // A flag change made by one session reaches the others, CONDSTORE ones with MODSEQ.
        const writer = await RawClient.connect(h.port);
        clients.push(writer);
        await writer.login();
        await writer.cmd('s', 'SELECT INBOX');
        calls.clear();
        await writer.cmd('f', 'STORE 1 +FLAGS (\\Flagged)');
        const fetched = await Promise.all(clients.slice(0, SESSIONS).map((c) => c.next(30_000)));
        for (const [i, line] of fetched.entries()) {
          const kind = kinds[i % kinds.length];
          const re = kind === 'condstore' ? /^\* 1 FETCH \(UID 1 FLAGS \((\\Recent )?\\Flagged( \\Recent)?\) MODSEQ \(\d+\)\)$/ : /^\* 1 FETCH \(UID 1 FLAGS \((\\Recent )?\\Flagged( \\Recent)?\)\)$/;
          assert.match(line, re, `session ${i} (${kind})`);
        }
        assert.ok((calls.get('changesSince') ?? 0) <= 2, `changesSince called ${calls.get('changesSince')} times after a STORE`);
        for (const c of clients.slice(0, SESSIONS)) c.write('DONE\r\n');
        for (const c of clients.slice(0, SESSIONS)) assert.equal(await c.next(), 'i OK IDLE terminated');
      } finally {
        for (const c of clients) c.close();
        await h.close();
        await drop();
      }
    });
  });
}
