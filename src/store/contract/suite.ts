// The store contract: one suite every backend must pass. A backend's test file
// calls runStoreContract() with a factory that opens a fresh, empty store.

import { describe, test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ChangeEvent, Store } from '../store.js';
import { AlreadyExists, InvalidInput, NotFound, OverQuota } from '../errors.js';
import type { Account, NewMessage } from '../types.js';

export interface ContractBackend {
  name: string;
  open(): Promise<{ store: Store; cleanup: () => Promise<void> }>;
}

const AUDIT = { actor: 'test', reason: 'contract suite' };

export async function storeMessage(store: Store, body: string, extra: Partial<NewMessage> = {}): Promise<NewMessage> {
  const raw = Buffer.from(body);
  const { id, size } = await store.blobs.put(raw);
  return { blobId: id, size, internalDate: new Date('2026-01-02T03:04:05Z'), structure: { test: true }, ...extra };
}

export function runStoreContract(backend: ContractBackend): void {
  describe(`store contract: ${backend.name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let alice: Account;
    let inbox: number;

    beforeEach(async () => {
      const opened = await backend.open();
      store = opened.store;
      cleanup = () => opened.cleanup();
      await store.createDomain('example.org');
      alice = await store.createAccount({ address: 'Alice@Example.org', passwordHash: 'x' });
      inbox = (await store.getMailbox(alice.id, 'INBOX'))!.id;
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    test('domains, accounts and default mailboxes', async () => {
      assert.equal(alice.address, 'alice@example.org');
      await assert.rejects(store.createDomain('EXAMPLE.org'), AlreadyExists);
      await assert.rejects(store.createDomain('not a domain'), InvalidInput);
      await assert.rejects(store.createAccount({ address: 'alice@example.org', passwordHash: 'y' }), AlreadyExists);
      await assert.rejects(store.createAccount({ address: 'bob@nowhere.test', passwordHash: 'y' }), NotFound);
      await assert.rejects(store.createAccount({ address: 'no-at-sign', passwordHash: 'y' }), InvalidInput);
      const boxes = await store.listMailboxes(alice.id);
      assert.deepEqual(boxes.map((b) => [b.name, b.specialUse]).sort(), [
        ['Archive', '\\Archive'],
        ['Drafts', '\\Drafts'],
        ['INBOX', null],
        ['Junk', '\\Junk'],
        ['Sent', '\\Sent'],
        ['Trash', '\\Trash'],
      ]);
      const updated = await store.updateAccount(alice.id, { disabled: true, quotaBytes: 1000 });
      assert.equal(updated.disabled, true);
      assert.equal(updated.quotaBytes, 1000);
      await assert.rejects(store.deleteDomain('example.org', AUDIT), InvalidInput);
      await store.deleteAccount(alice.id, AUDIT);
      assert.equal(await store.getAccount('alice@example.org'), undefined);
      const audit = await store.listAudit();
      assert.equal(audit[0]?.action, 'account.delete');
      await store.deleteDomain('example.org', AUDIT);
      assert.deepEqual(await store.listDomains(), []);
    });

    test('aliases and catch-all resolution', async () => {
      await store.createAccount({ address: 'bob@example.org', passwordHash: 'x' });
      await store.addAlias('sales@example.org', ['alice@example.org', 'bob@example.org']);
      await store.addAlias('@example.org', ['alice@example.org']);
      await assert.rejects(store.addAlias('bob@example.org', ['alice@example.org']), AlreadyExists);
      await assert.rejects(store.addAlias('x@unknown.test', ['alice@example.org']), NotFound);
      assert.equal((await store.resolveRecipient('ALICE@example.org')).kind, 'account');
      const sales = await store.resolveRecipient('sales@example.org');
      assert.equal(sales.kind, 'alias');
      assert.deepEqual(sales.kind === 'alias' && sales.targets, ['alice@example.org', 'bob@example.org']);
      const other = await store.resolveRecipient('anything@example.org');
      assert.deepEqual(other.kind === 'alias' && other.alias.source, '@example.org');
      assert.equal((await store.resolveRecipient('x@elsewhere.test')).kind, 'unknown-domain');
      await store.removeAlias('@example.org');
      assert.equal((await store.resolveRecipient('anything@example.org')).kind, 'unknown-user');
      await assert.rejects(store.removeAlias('@example.org'), NotFound);
    });

    test('UIDs are unique and increasing under concurrent appends', async () => {
      const msg = await storeMessage(store, 'Subject: hi\r\n\r\nbody\r\n');
      const results = await Promise.all(Array.from({ length: 200 }, () => store.appendMessage(inbox, msg)));
      const uids = results.map((r) => r.uid).sort((a, b) => a - b);
      assert.deepEqual(uids, Array.from({ length: 200 }, (_, i) => i + 1));
      assert.equal(new Set(results.map((r) => r.messageId)).size, 200);
      const mb = (await store.getMailboxById(inbox))!;
      assert.equal(mb.uidNext, 201);
      assert.equal(mb.messages, 200);
      assert.equal(mb.unseen, 200);
      // Expunged UIDs are never reused.
      await store.expungeMessages(inbox, [200, 199]);
      const next = await store.appendMessage(inbox, msg);
      assert.equal(next.uid, 201);
    });

    test('modseq grows with every change and tombstones report vanished UIDs', async () => {
      const msg = await storeMessage(store, 'a');
      const a = await store.appendMessage(inbox, msg);
      const b = await store.appendMessage(inbox, msg);
      assert.ok(b.modseq > a.modseq);
      const f = await store.updateFlags(inbox, { uids: [a.uid], operation: 'add', flags: ['\\Seen'], keywords: ['$Important'] });
      assert.ok(f.highestModseq > b.modseq);
      assert.deepEqual(f.changed.map((c) => c.uid), [a.uid]);
      // A no-op change does not bump modseq.
      const same = await store.updateFlags(inbox, { uids: [a.uid], operation: 'add', flags: ['\\Seen'], keywords: ['$important'] });
      assert.equal(same.changed.length, 0);
      assert.equal(same.highestModseq, f.highestModseq);
      const removed = await store.expungeMessages(inbox, [b.uid, 999]);
      assert.deepEqual(removed, [b.uid]);
      const mb = (await store.getMailboxById(inbox))!;
      assert.ok(mb.highestModseq > f.highestModseq);
      const changes = await store.changesSince(inbox, b.modseq);
      assert.deepEqual(changes.vanished, [b.uid]);
      assert.deepEqual(changes.changed.map((m) => [m.uid, m.flags, m.keywords]), [[a.uid, ['\\Seen'], ['$Important']]]);
      assert.equal(changes.highestModseq, mb.highestModseq);
      assert.deepEqual((await store.changesSince(inbox, mb.highestModseq)).changed, []);
    });

    test('flag operations, unseen counter and UNCHANGEDSINCE', async () => {
      const msg = await storeMessage(store, 'x');
      const r1 = await store.appendMessage(inbox, { ...msg, flags: ['\\Seen'] });
      const r2 = await store.appendMessage(inbox, msg);
      assert.equal((await store.getMailboxById(inbox))!.unseen, 1);
      await store.updateFlags(inbox, { uids: [r1.uid, r2.uid], operation: 'set', flags: ['\\Flagged'], keywords: ['Work'] });
      assert.equal((await store.getMailboxById(inbox))!.unseen, 2);
      await store.updateFlags(inbox, { uids: [r2.uid], operation: 'remove', flags: ['\\Flagged'], keywords: ['WORK'] });
      const [m1, m2] = await store.getMessages(inbox, [r1.uid, r2.uid]);
      assert.deepEqual([m1!.flags, m1!.keywords], [['\\Flagged'], ['Work']]);
      assert.deepEqual([m2!.flags, m2!.keywords], [[], []]);
      const cond = await store.updateFlags(inbox, { uids: [r1.uid, r2.uid], operation: 'add', flags: ['\\Seen'], keywords: [], unchangedSince: m1!.modseq });
      assert.deepEqual(cond.modified, [r2.uid]);
      assert.deepEqual(cond.changed.map((c) => c.uid), [r1.uid]);
      assert.equal((await store.getMailboxById(inbox))!.unseen, 1);
    });

    test('quota is charged, enforced and released', async () => {
      await store.updateAccount(alice.id, { quotaBytes: 25 });
      const msg = await storeMessage(store, '0123456789');
      await store.appendMessage(inbox, msg);
      await store.appendMessage(inbox, msg);
      await assert.rejects(store.appendMessage(inbox, msg), OverQuota);
      assert.equal((await store.getAccountById(alice.id))!.usedBytes, 20);
      const bob = await store.createAccount({ address: 'bob@example.org', passwordHash: 'x' });
      const bobInbox = (await store.getMailbox(bob.id, 'INBOX'))!.id;
      const results = await store.deliverMessage([inbox, bobInbox], msg);
      assert.ok(results[0] instanceof OverQuota);
      assert.ok(!(results[1] instanceof Error));
      assert.equal((await store.getMailboxById(bobInbox))!.messages, 1);
      const sent = (await store.getMailbox(alice.id, 'Sent'))!.id;
      await assert.rejects(store.copyMessages(inbox, [1], sent), OverQuota);
      await store.expungeMessages(inbox, [1]);
      assert.equal((await store.getAccountById(alice.id))!.usedBytes, 10);
      await store.moveMessages(inbox, [2], sent);
      assert.equal((await store.getAccountById(alice.id))!.usedBytes, 10);
      await store.deleteMailbox(alice.id, 'Sent', AUDIT);
      assert.equal((await store.getAccountById(alice.id))!.usedBytes, 0);
    });

    test('appendMessages adds all messages in one transaction, or none (RFC 3502)', async () => {
      const events: ChangeEvent[] = [];
      store.bus.subscribe(alice.id, (e) => events.push(e));
      const three = [await storeMessage(store, 'one'), await storeMessage(store, 'two', { flags: ['\\Seen'] }), await storeMessage(store, 'three')];
      const added = await store.appendMessages(inbox, three);
      assert.deepEqual(added.map((r) => r.uid), [1, 2, 3]);
      const box = (await store.getMailboxById(inbox))!;
      assert.equal(box.messages, 3);
      assert.equal(box.unseen, 2);
      await store.updateAccount(alice.id, { quotaBytes: 3 + 3 + 5 + 10 });
      // The second message passes the quota: the first is not kept either.
      await assert.rejects(store.appendMessages(inbox, [await storeMessage(store, 'four'), await storeMessage(store, 'a longer fifth')]), OverQuota);
      await assert.rejects(store.appendMessages(999_999, [await storeMessage(store, 'x')]), NotFound);
      assert.equal((await store.listMessages(inbox)).length, 3);
      assert.deepEqual((await store.listMessages(inbox, { withoutStructure: true, largerThan: 3 })).map((m) => m.size), [5], 'only the larger ones');
      assert.equal((await store.getAccountById(alice.id))!.usedBytes, 11);
      assert.equal((await store.getMailboxById(inbox))!.uidNext, 4, 'no UID was used up');
      await new Promise((r) => setTimeout(r, 20));
      assert.ok(events.every((e) => e.kind === 'exists' && e.uids?.every((u) => u <= 3)), JSON.stringify(events));
    });

    test('\\Recent: each new message is claimed by one caller only (RFC 3501)', async () => {
      await store.appendMessage(inbox, await storeMessage(store, 'r1'));
      await store.appendMessage(inbox, await storeMessage(store, 'r2'));
      assert.deepEqual(await store.claimRecent(inbox, false), { from: 1, to: 2 }, 'a peek claims nothing');
      const both = await Promise.all([store.claimRecent(inbox, true), store.claimRecent(inbox, true)]);
      assert.deepEqual(both.filter((r) => r.from <= r.to), [{ from: 1, to: 2 }], 'one of two concurrent claims gets them');
      await store.appendMessage(inbox, await storeMessage(store, 'r3'));
      assert.deepEqual(await store.claimRecent(inbox, true), { from: 3, to: 3 });
      const none = await store.claimRecent(inbox, true);
      assert.ok(none.from > none.to);
      // Only expunged UIDs in the range: nothing to claim, and the next new message is still claimable.
      const r4 = await store.appendMessage(inbox, await storeMessage(store, 'r4'));
      await store.expungeMessages(inbox, [r4.uid]);
      const gone = await store.claimRecent(inbox, true);
      assert.ok(gone.from > gone.to, JSON.stringify(gone));
      const r5 = await store.appendMessage(inbox, await storeMessage(store, 'r5'));
      const fifth = await store.claimRecent(inbox, true);
      assert.ok(fifth.from <= r5.uid && fifth.to === r5.uid, JSON.stringify(fifth));
      const after = await store.claimRecent(inbox, true);
      assert.ok(after.from > after.to);
      await assert.rejects(store.claimRecent(999_999, true), NotFound);
    });

    test('METADATA entries per mailbox and server: depth, removal, limit, cleanup (RFC 5464)', async () => {
      const v = (t: string) => Buffer.from(t);
      assert.equal(await store.setMetadata(alice.id, null, [{ name: '/private/Comment', value: v('server note') }], 10), true);
      assert.equal(await store.setMetadata(alice.id, inbox, [
        { name: '/private/vendor/x/a', value: v('1') },
        { name: '/private/vendor/x/a/b', value: v('2') },
        { name: '/shared/comment', value: Buffer.from([0, 255, 1]) },
      ], 10), true);
      assert.deepEqual(await store.getMetadata(alice.id, null, ['/PRIVATE/comment'], '0'), [{ name: '/private/comment', value: v('server note') }]);
      assert.deepEqual((await store.getMetadata(alice.id, inbox, ['/private/vendor/x'], '1')).map((e) => e.name), ['/private/vendor/x/a']);
      assert.deepEqual((await store.getMetadata(alice.id, inbox, ['/private/vendor/x'], 'infinity')).map((e) => e.name), ['/private/vendor/x/a', '/private/vendor/x/a/b']);
      assert.deepEqual((await store.getMetadata(alice.id, inbox, ['/shared/comment'], '0'))[0]?.value, Buffer.from([0, 255, 1]));
      // Over the limit: nothing changes.
      assert.equal(await store.setMetadata(alice.id, inbox, [{ name: '/private/vendor/x/a', value: null }, { name: '/private/n1', value: v('x') }, { name: '/private/n2', value: v('y') }], 3), false);
      assert.equal((await store.getMetadata(alice.id, inbox, ['/private'], 'infinity')).length, 2);
      assert.equal(await store.setMetadata(alice.id, inbox, [{ name: '/private/vendor/x/a', value: null }], 3), true);
      assert.equal((await store.getMetadata(alice.id, inbox, ['/private'], 'infinity')).length, 1);
      const box = await store.createMailbox(alice.id, 'Annotated');
      await store.setMetadata(alice.id, box.id, [{ name: '/private/comment', value: v('bye') }], 10);
      await store.deleteMailbox(alice.id, 'Annotated', AUDIT);
      assert.deepEqual(await store.getMetadata(alice.id, box.id, ['/private/comment'], '0'), []);
      assert.equal((await store.getMetadata(alice.id, null, ['/private/comment'], '0')).length, 1, 'server entries stay');
    });

    test('copy makes new messages; move keeps the message id and leaves a tombstone', async () => {
      const msg = await storeMessage(store, 'copy me');
      const a = await store.appendMessage(inbox, { ...msg, keywords: ['k1'] });
      const archive = (await store.getMailbox(alice.id, 'Archive'))!;
      const copy = await store.copyMessages(inbox, [a.uid, 42], archive.id);
      assert.equal(copy.uidValidity, archive.uidValidity);
      assert.deepEqual(copy.mapping, [[a.uid, 1]]);
      const [copied] = await store.getMessages(archive.id, [1]);
      assert.notEqual(copied!.messageId, a.messageId);
      assert.deepEqual(copied!.keywords, ['k1']);
      assert.equal(copied!.blobId, msg.blobId);
      const move = await store.moveMessages(inbox, [a.uid], archive.id, AUDIT);
      assert.deepEqual(move.mapping, [[a.uid, 2]]);
      const [moved] = await store.getMessages(archive.id, [2]);
      assert.equal(moved!.messageId, a.messageId);
      assert.deepEqual(await store.listMessages(inbox), []);
      assert.deepEqual((await store.changesSince(inbox, a.modseq)).vanished, [a.uid]);
      const ib = (await store.getMailboxById(inbox))!;
      assert.deepEqual([ib.messages, ib.bytes], [0, 0]);
      const ar = (await store.getMailboxById(archive.id))!;
      assert.deepEqual([ar.messages, ar.bytes], [2, 2 * msg.size]);
      assert.equal((await store.listAudit({ accountId: alice.id }))[0]?.action, 'message.move');
    });

    test('mailbox create, rename (INBOX too), delete and UIDVALIDITY', async () => {
      const created = await store.createMailbox(alice.id, 'Projects/2026/Q1');
      assert.ok(await store.getMailbox(alice.id, 'Projects'));
      assert.ok(await store.getMailbox(alice.id, 'Projects/2026'));
      await assert.rejects(store.createMailbox(alice.id, 'projects/2026/Q1'.replace('projects', 'Projects')), AlreadyExists);
      await assert.rejects(store.createMailbox(alice.id, 'bad*name'), InvalidInput);
      await store.renameMailbox(alice.id, 'Projects', 'Work/Projects');
      assert.ok(await store.getMailbox(alice.id, 'Work/Projects/2026/Q1'));
      assert.equal(await store.getMailbox(alice.id, 'Projects/2026'), undefined);
      assert.equal((await store.getMailbox(alice.id, 'Work/Projects/2026/Q1'))!.uidValidity, created.uidValidity);
      await assert.rejects(store.deleteMailbox(alice.id, 'Work/Projects', AUDIT), InvalidInput);
      await store.deleteMailbox(alice.id, 'Work/Projects/2026/Q1', AUDIT);
      const again = await store.createMailbox(alice.id, 'Work/Projects/2026/Q1');
      assert.ok(again.uidValidity > created.uidValidity, 'a recreated mailbox gets a new UIDVALIDITY');
      await assert.rejects(store.deleteMailbox(alice.id, 'inbox', AUDIT), InvalidInput);

      const msg = await storeMessage(store, 'in inbox');
      await store.appendMessage(inbox, msg);
      await store.appendMessage(inbox, msg);
      await store.renameMailbox(alice.id, 'INBOX', 'Old Inbox');
      const old = (await store.getMailbox(alice.id, 'Old Inbox'))!;
      assert.equal(old.messages, 2);
      assert.deepEqual((await store.listMessages(old.id)).map((m) => m.uid), [1, 2]);
      const ib = (await store.getMailbox(alice.id, 'INBOX'))!;
      assert.deepEqual([ib.id, ib.messages, ib.uidNext], [inbox, 0, 3]);
      await store.setSubscribed(alice.id, 'Old Inbox', false);
      assert.equal((await store.getMailbox(alice.id, 'Old Inbox'))!.subscribed, false);
    });

    test('removals are audited with who, why and what', async () => {
      const msg = await storeMessage(store, 'audited');
      const a = await store.appendMessage(inbox, msg);
      await store.expungeMessages(inbox, [a.uid], { actor: 'admin:root', reason: 'spam complaint' });
      const [entry] = await store.listAudit({ accountId: alice.id });
      assert.equal(entry?.actor, 'admin:root');
      assert.equal(entry?.reason, 'spam complaint');
      assert.equal(entry?.action, 'message.expunge');
      assert.deepEqual(entry?.detail.messageIds, [a.messageId]);
      assert.ok(entry.at.getTime() <= Date.now());
    });

    test('events are published after commit only', async () => {
      const seen: Array<{ event: ChangeEvent; uidNextAtEvent: number }> = [];
      const pending: Array<Promise<void>> = [];
      const unsubscribe: () => void = store.bus.subscribe(alice.id, (event) => {
        // Record in arrival order; the read that follows completes whenever it does.
        const entry = { event, uidNextAtEvent: -1 };
        seen.push(entry);
        pending.push(
          (async () => {
            const mb = 'mailboxId' in event ? await store.getMailboxById(event.mailboxId) : undefined;
            entry.uidNextAtEvent = mb?.uidNext ?? -1;
          })(),
        );
      });
      const msg = await storeMessage(store, 'evented');
      const r = await store.appendMessage(inbox, msg);
      await store.updateAccount(alice.id, { quotaBytes: 1 });
      await assert.rejects(store.appendMessage(inbox, msg), OverQuota);
      await store.updateFlags(inbox, { uids: [r.uid], operation: 'add', flags: ['\\Seen'], keywords: [] });
      await store.expungeMessages(inbox, [r.uid]);
      await Promise.all(pending);
      unsubscribe();
      assert.deepEqual(
        seen.map((s) => ('kind' in s.event ? s.event.kind : '')),
        ['exists', 'flags', 'expunge'],
      );
      // uidNext never goes back, so this holds whenever the read ran, as long as it ran after the commit.
      assert.ok(seen[0]!.uidNextAtEvent > r.uid, 'a listener reading the store sees the committed change');
      assert.deepEqual((seen[0]!.event as { uids?: number[] }).uids, [r.uid]);
    });

    test('blobs are content-addressed, deduplicated and collected only after the grace period', async () => {
      const bytes = Buffer.from('dedup me\r\n');
      const one = await store.blobs.put(bytes);
      const two = await store.blobs.put(bytes);
      assert.equal(one.id, two.id);
      assert.equal(one.id, createHash('sha256').update(bytes).digest('hex'));
      assert.deepEqual(await store.blobs.get(one.id), bytes);
      assert.deepEqual(await store.blobs.getRange(one.id, { start: 2, end: 4 }), Buffer.from('dup'));
      const streamed = await store.blobs.putStream((async function* () {
        yield Buffer.from('dedup ');
        yield Buffer.from('me\r\n');
      })());
      assert.equal(streamed.id, one.id);
      await assert.rejects(store.blobs.putStream((async function* () { yield Buffer.alloc(100); })(), 10));
      const kept = await storeMessage(store, 'referenced');
      await store.appendMessage(inbox, kept);
      const fresh = await store.collectGarbage(60_000);
      assert.equal(fresh.removed, 0, 'nothing younger than the grace period is removed');
      await new Promise((r) => setTimeout(r, 20));
      const gc = await store.collectGarbage(1);
      assert.equal(gc.removed, 1);
      assert.equal(await store.blobs.stat(one.id), undefined);
      assert.ok(await store.blobs.stat(kept.blobId), 'a referenced blob survives');
    });

    test('outbound messages are queued per recipient domain and keep their blob alive', async () => {
      const msg = await storeMessage(store, 'to the world');
      const entries = await store.enqueueOutbound({
        blobId: msg.blobId,
        size: msg.size,
        mailFrom: 'alice@example.org',
        recipients: ['a@remote.test', 'b@REMOTE.test', 'c@other.test'],
        accountId: alice.id,
      });
      assert.deepEqual(entries.map((e) => [e.domain, e.recipients, e.state, e.attempts]), [
        ['remote.test', ['a@remote.test', 'b@REMOTE.test'], 'queued', 0],
        ['other.test', ['c@other.test'], 'queued', 0],
      ]);
      assert.equal((await store.listQueue({ state: 'queued' })).length, 2);
      await assert.rejects(store.enqueueOutbound({ blobId: msg.blobId, size: msg.size, mailFrom: '', recipients: [] }), InvalidInput);
      await new Promise((r) => setTimeout(r, 20));
      const gc = await store.collectGarbage(1);
      assert.equal(gc.removed, 0, 'a queued message keeps its blob');
    });

    test('integrity check finds damaged counters and missing blobs; repair fixes counters without losing messages', async () => {
      const msg = await storeMessage(store, 'integrity');
      await store.appendMessage(inbox, msg);
      await store.appendMessage(inbox, { ...msg, flags: ['\\Seen'] });
      assert.deepEqual(await store.checkIntegrity({ blobs: 'hash' }), []);
      await store.expungeMessages(inbox, [2]);
      await damage(store, inbox, alice.id);
      const problems = await store.checkIntegrity({ blobs: 'exists' });
      assert.deepEqual(problems.map((p) => p.kind).sort(), ['highest-modseq', 'mailbox-counters', 'quota-usage', 'uid-next']);
      const actions = await store.repairIntegrity(AUDIT);
      assert.equal(actions.length, 4);
      assert.deepEqual(await store.checkIntegrity({ blobs: 'hash' }), []);
      const mb = (await store.getMailboxById(inbox))!;
      assert.deepEqual([mb.messages, mb.unseen, mb.bytes], [1, 1, msg.size]);
      assert.equal(mb.uidNext, 3, 'uidNext is raised past the expunged UID 2, never reused');
      assert.equal((await store.listMessages(inbox)).length, 1);
      assert.equal((await store.listAudit())[0]?.action, 'store.repair');
      const stray = await storeMessage(store, 'lost blob');
      await store.appendMessage(inbox, stray);
      await store.blobs.delete(stray.blobId);
      const missing = await store.checkIntegrity({ blobs: 'exists' });
      assert.deepEqual(missing.map((p) => [p.kind, p.blobId]), [['blob-missing', stray.blobId]]);
    });

    test('updateStructure replaces the cached structure and nothing else', async () => {
      const msg = await storeMessage(store, 'Subject: x\r\n\r\nbody');
      const { uid } = await store.appendMessage(inbox, msg);
      const before = (await store.getMailboxById(inbox))!;
      const [old] = await store.getMessages(inbox, [uid]);
      await store.updateStructure(inbox, uid, { version: 99, root: { type: 'text' } });
      const [now] = await store.getMessages(inbox, [uid]);
      assert.deepEqual(now?.structure, { version: 99, root: { type: 'text' } });
      assert.deepEqual({ ...now, structure: null }, { ...old, structure: null }, 'flags, modseq and ids unchanged');
      assert.equal((await store.getMailboxById(inbox))!.highestModseq, before.highestModseq);
      await assert.rejects(store.updateStructure(inbox, uid + 100, {}), NotFound);
    });

    test('leases are exclusive until released or expired', async () => {
      assert.equal(await store.acquireLease('pop3:1', 'node-a', 60_000), true);
      assert.equal(await store.acquireLease('pop3:1', 'node-b', 60_000), false);
      assert.equal(await store.renewLease('pop3:1', 'node-b', 60_000), false);
      assert.equal(await store.renewLease('pop3:1', 'node-a', 60_000), true);
      await store.releaseLease('pop3:1', 'node-a');
      assert.equal(await store.acquireLease('pop3:1', 'node-b', 1), true);
      await new Promise((r) => setTimeout(r, 10));
      assert.equal(await store.acquireLease('pop3:1', 'node-c', 60_000), true, 'an expired lease can be taken over');
    });

    test('MTA-STS policies are cached per domain and replaced by a newer one', async () => {
      assert.equal(await store.getMtaStsPolicy('example.net'), undefined);
      const fetchedAt = new Date(Date.UTC(2026, 0, 1));
      const first = { domain: 'example.net', id: '20260101', mode: 'enforce' as const, mx: ['mx1.example.net', '*.example.net'], maxAge: 86400, fetchedAt, expiresAt: new Date(fetchedAt.getTime() + 86400_000) };
      await store.putMtaStsPolicy(first);
      assert.deepEqual(await store.getMtaStsPolicy('example.net'), first);
      const second = { ...first, id: '20260102', mode: 'testing' as const, mx: ['mx.example.net'], maxAge: 604800, expiresAt: new Date(fetchedAt.getTime() + 604800_000) };
      await store.putMtaStsPolicy(second);
      assert.deepEqual(await store.getMtaStsPolicy('example.net'), second);
      assert.equal(await store.getMtaStsPolicy('example.com'), undefined);
    });

    test('failed-login counters count within their window, concurrently, and clear', async () => {
      const keys = ['ip:192.0.2.1', 'login:alice@example.org'];
      assert.deepEqual(await store.countAuthFailures(keys, 60_000), [0, 0]);
      assert.deepEqual(await store.recordAuthFailures(keys, 60_000), [1, 1]);
      const concurrent = await Promise.all([1, 2, 3, 4].map(() => store.recordAuthFailures(['ip:192.0.2.1'], 60_000)));
      assert.deepEqual(concurrent.flat().sort(), [2, 3, 4, 5], 'every failure counted once');
      assert.deepEqual(await store.countAuthFailures(keys, 60_000), [5, 1]);
      await store.clearAuthFailures(['login:alice@example.org']);
      assert.deepEqual(await store.countAuthFailures(keys, 60_000), [5, 0]);
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(await store.countAuthFailures(keys, 10), [0, 0], 'an expired window counts nothing');
      assert.deepEqual(await store.recordAuthFailures(['ip:192.0.2.1'], 10), [1], 'an expired window starts again');
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await store.pruneAuthFailures(10), 1);
      assert.deepEqual(await store.countAuthFailures(keys, 60_000), [0, 0]);
    });

    test('webmail threadHeaders: the threading headers of a mailbox, by uid, without the whole structure', async () => {
      const indexed = (subject: string, from: string, messageId: string | null, inReplyTo: string | null, references: string[]) => ({
        version: 1,
        root: { children: [] },
        sort: { subject, from, to: '' },
        decoded: { subject, messageId, inReplyTo, references, from: [] },
      });
      const root = await store.appendMessage(
        inbox,
        await storeMessage(store, 'one', { internalDate: new Date(1_000_000), flags: ['\\Seen'], structure: indexed('HELLO "WORLD"', 'ann@example.org', '<a@x>', null, []) }),
      );
      const reply = await store.appendMessage(
        inbox,
        await storeMessage(store, 'two!', { internalDate: new Date(2_000_000), flags: ['\\Flagged'], structure: indexed('HÉLLO', '', '<b@x>', '<a@x>', ['<r@x>', '<a@x>']) }),
      );
      const legacy = await store.appendMessage(inbox, await storeMessage(store, 'three', { internalDate: new Date(3_000_000) }));
      await store.appendMessage((await store.getMailbox(alice.id, 'Sent'))!.id, await storeMessage(store, 'elsewhere', { structure: indexed('S', '', '<s@x>', null, []) }));

      const all = await store.webmail.threadHeaders(inbox);
      assert.deepEqual(all, [
        { uid: root.uid, indexVersion: 1, internalDate: 1_000_000, size: 3, subject: 'HELLO "WORLD"', from: 'ann@example.org', messageId: '<a@x>', inReplyTo: null, references: [] },
        { uid: reply.uid, indexVersion: 1, internalDate: 2_000_000, size: 4, subject: 'HÉLLO', from: '', messageId: '<b@x>', inReplyTo: '<a@x>', references: ['<r@x>', '<a@x>'] },
        // A structure without the index's fields: no headers, and no version to trust.
        { uid: legacy.uid, indexVersion: null, internalDate: 3_000_000, size: 5, subject: '', from: '', messageId: null, inReplyTo: null, references: [] },
      ]);
      assert.deepEqual((await store.webmail.threadHeaders(inbox, { unread: true })).map((h) => h.uid), [reply.uid, legacy.uid]);
      assert.deepEqual((await store.webmail.threadHeaders(inbox, { flagged: true })).map((h) => h.uid), [reply.uid]);
      assert.deepEqual((await store.webmail.threadHeaders(inbox, { unread: true, flagged: true })).map((h) => h.uid), [reply.uid]);
      await store.expungeMessages(inbox, [reply.uid]);
      assert.deepEqual((await store.webmail.threadHeaders(inbox)).map((h) => h.uid), [root.uid, legacy.uid]);
      assert.deepEqual(await store.webmail.threadHeaders(999_999), []);
    });

    test('stats count what is stored', async () => {
      const msg = await storeMessage(store, '12345');
      await store.appendMessage(inbox, msg);
      assert.deepEqual(await store.stats(), { domains: 1, accounts: 1, messages: 1, bytes: 5 });
      await store.ping();
    });

    test('queue entries are claimed by one holder at a time, and leases expire', async () => {
      const msg = await storeMessage(store, 'outbound');
      const queued = await store.enqueueOutbound({ blobId: msg.blobId, size: msg.size, mailFrom: 'alice@example.org', recipients: ['a@one.test', 'b@two.test', 'c@three.test'] });
      assert.equal(queued.length, 3);
      const claims = await Promise.all([store.claimQueueEntries('node-a', 10, 60_000), store.claimQueueEntries('node-b', 10, 60_000)]);
      const ids = claims.flat().map((e) => e.id).sort((a, b) => a - b);
      assert.deepEqual(ids, queued.map((e) => e.id).sort((a, b) => a - b), 'every entry claimed exactly once');
      assert.deepEqual(await store.claimQueueEntries('node-c', 10, 60_000), [], 'leased entries are not claimed again');
      const [first, second, third] = queued.map((e) => e.id) as [number, number, number];
      const done = await store.completeQueueEntry(first);
      assert.deepEqual([done.state, done.attempts], ['delivered', 1]);
      const later = new Date(Date.now() + 3_600_000);
      const deferred = await store.deferQueueEntry(second, '451 4.3.0 try later', later);
      assert.deepEqual([deferred.state, deferred.attempts, deferred.lastError, deferred.nextAttemptAt.getTime()], ['queued', 1, '451 4.3.0 try later', later.getTime()]);
      assert.deepEqual(await store.claimQueueEntries('node-c', 10, 60_000), [], 'a deferred entry is not due yet');
      const retried = await store.retryQueueEntry(second);
      assert.ok(retried.nextAttemptAt.getTime() <= Date.now());
      assert.deepEqual((await store.claimQueueEntries('node-c', 10, 1)).map((e) => e.id), [second]);
      await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual((await store.claimQueueEntries('node-d', 10, 60_000)).map((e) => e.id), [second], 'an expired lease can be taken over');
      const failed = await store.failQueueEntry(third, '550 5.1.1 no such user');
      assert.deepEqual([failed.state, failed.lastError], ['failed', '550 5.1.1 no such user']);
      assert.deepEqual((await store.listQueue({ state: 'failed' })).map((e) => e.id), [third]);
      await store.deleteQueueEntry(third, AUDIT);
      assert.equal(await store.getQueueEntry(third), undefined);
      await assert.rejects(store.deleteQueueEntry(third, AUDIT), NotFound);
      await assert.rejects(store.completeQueueEntry(third), NotFound);
      const audit = (await store.listAudit())[0];
      assert.deepEqual([audit?.action, audit?.subject], ['queue.delete', `queue:${third}`]);
    });

    test('sieve scripts: one active per account, the active one cannot be deleted, vacation replies once per period', async () => {
      const bob = await store.createAccount({ address: 'bob@example.org', passwordHash: 'x' });
      await store.putSieveScript(alice.id, 'main', 'keep;');
      await store.putSieveScript(alice.id, 'other', 'discard;');
      await store.putSieveScript(bob.id, 'main', 'stop;');
      await store.putSieveScript(alice.id, 'main', 'keep; # ünïcode');
      assert.deepEqual((await store.listSieveScripts(alice.id)).map((s) => [s.name, s.active, s.size]), [['main', false, 17], ['other', false, 8]]);
      assert.equal((await store.getSieveScript(alice.id, 'main'))?.content, 'keep; # ünïcode');
      await store.activateSieveScript(alice.id, 'main');
      await store.activateSieveScript(alice.id, 'other');
      assert.equal((await store.getActiveSieveScript(alice.id))?.name, 'other');
      assert.equal(await store.getActiveSieveScript(bob.id), undefined, 'accounts do not share scripts');
      await assert.rejects(store.deleteSieveScript(alice.id, 'other'), (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'in-use');
      await assert.rejects(store.renameSieveScript(alice.id, 'main', 'other'), AlreadyExists);
      await store.renameSieveScript(alice.id, 'other', 'renamed');
      assert.equal((await store.getActiveSieveScript(alice.id))?.name, 'renamed', 'renaming keeps it active');
      await store.activateSieveScript(alice.id, null);
      assert.equal(await store.getActiveSieveScript(alice.id), undefined);
      await store.deleteSieveScript(alice.id, 'renamed');
      await assert.rejects(store.deleteSieveScript(alice.id, 'renamed'), NotFound);
      await assert.rejects(store.activateSieveScript(alice.id, 'nope'), NotFound);

      assert.equal(await store.recordAutoReply(alice.id, 'h', 'Friend@Remote.test', 60_000), true);
      assert.equal(await store.recordAutoReply(alice.id, 'h', 'friend@remote.test', 60_000), false, 'once per period, addresses compared case-insensitively');
      assert.equal(await store.recordAutoReply(alice.id, 'other-handle', 'friend@remote.test', 60_000), true);
      assert.equal(await store.recordAutoReply(bob.id, 'h', 'friend@remote.test', 60_000), true);
      assert.equal(await store.recordAutoReply(alice.id, 'short', 'x@remote.test', 1), true);
      await new Promise((r) => setTimeout(r, 5));
      assert.equal(await store.recordAutoReply(alice.id, 'short', 'x@remote.test', 1), true, 'a new period after the old one expired');
      await store.deleteAccount(bob.id, AUDIT);
      assert.deepEqual(await store.listSieveScripts(bob.id), []);
    });

    test('sessions: live list, kill requests, history with retention and a per-account cap', async () => {
      const s = store.sessions;
      const t0 = new Date(Date.now() - 10_000);
      const live = (id: string, node: string) => s.addLiveSession({ sessionId: id, node, protocol: 'imap', clientIp: '192.0.2.7', clientId: null, tls: null, account: null, startedAt: t0 });
      await live('a1', 'host:1');
      await live('a2', 'host:2');
      await s.updateLiveSession('a1', { account: 'Alice@Example.org', clientId: 'Thunderbird', tls: 'TLSv1.3' });
      const listed = await s.listLiveSessions();
      assert.deepEqual(listed.map((l) => [l.sessionId, l.node, l.account, l.clientId, l.tls]), [
        ['a1', 'host:1', 'alice@example.org', 'Thunderbird', 'TLSv1.3'],
        ['a2', 'host:2', null, null, null],
      ]);
      assert.deepEqual((await s.listLiveSessions({ account: 'alice@example.org' })).map((l) => l.sessionId), ['a1']);
      assert.equal(await s.requestKill('nope'), false);
      assert.equal(await s.requestKill('a1'), true);
      assert.equal((await s.getLiveSession('a1'))?.killRequested, true);
      assert.deepEqual(await s.refreshLiveSessions('host:1'), ['a1'], 'the owner sees the request');
      assert.deepEqual(await s.refreshLiveSessions('host:2'), [], 'another process does not');
      await live('a3', 'host:2');
      await s.removeLiveSession('a3');
      assert.equal(await s.getLiveSession('a3'), undefined);
      const entry = (id: string, account: string | null, startedAt: Date, endedAt: Date) => ({
        sessionId: id,
        account,
        protocol: 'imap' as const,
        node: 'host:1',
        clientIp: '192.0.2.7',
        clientId: 'Thunderbird',
        tls: 'TLSv1.3',
        login: 'ok' as const,
        startedAt,
        endedAt,
        endReason: 'killed' as const,
        bytesIn: 120,
        bytesOut: 4000,
        commands: 7,
        traced: false,
      });
      await s.finishSession(entry('a1', 'alice@example.org', t0, new Date()));
      assert.deepEqual((await s.listLiveSessions()).map((l) => l.sessionId), ['a2'], 'a finished session leaves the live list');
      const [h] = await s.listHistory({ account: 'ALICE@example.org' });
      assert.deepEqual(
        h && [h.sessionId, h.account, h.login, h.endReason, h.bytesIn, h.bytesOut, h.commands, h.clientId, h.tls, h.startedAt.getTime()],
        ['a1', 'alice@example.org', 'ok', 'killed', 120, 4000, 7, 'Thunderbird', 'TLSv1.3', t0.getTime()],
      );
      // Retention: old rows go by age, and an account keeps only its newest rows.
      const day = 86_400_000;
      await s.finishSession(entry('old', 'alice@example.org', new Date(Date.now() - 40 * day), new Date(Date.now() - 40 * day)));
      for (let i = 0; i < 5; i++) await s.finishSession(entry(`b${i}`, 'bob@example.org', new Date(Date.now() - (10 - i) * 1000), new Date()));
      const now = new Date();
      const pruned = await s.prune({ historyBefore: new Date(now.getTime() - 30 * day), historyMaxPerAccount: 3, tracesBefore: now, liveBefore: new Date(now.getTime() - 60_000) });
      assert.equal(pruned.history, 3, 'one too old, two over the cap');
      assert.deepEqual((await s.listHistory({ account: 'bob@example.org' })).map((e) => e.sessionId), ['b4', 'b3', 'b2']);
      assert.deepEqual((await s.listHistory({ account: 'alice@example.org' })).map((e) => e.sessionId), ['a1']);
      // A live row its owner stopped refreshing (a dead process) is pruned.
      const later = await s.prune({ historyBefore: new Date(0), historyMaxPerAccount: 100, tracesBefore: new Date(0), liveBefore: new Date(Date.now() + 1000) });
      assert.equal(later.live, 1);
      assert.deepEqual(await s.listLiveSessions(), []);
    });

    test('sessions: traces record while on, within their limits, and expire', async () => {
      const s = store.sessions;
      const line = (sessionId: string, direction: 'C' | 'S', text: string) => ({ sessionId, protocol: 'pop3' as const, at: new Date(), direction, line: text });
      assert.equal(await s.appendTrace('alice@example.org', [line('p1', 'C', 'CAPA')], { maxBytes: 10_000, totalMaxBytes: 100_000 }), false, 'no trace switched on');
      const until = new Date(Date.now() + 3600_000);
      const sw = await s.startTrace('Alice@example.org', until, false);
      assert.deepEqual([sw.account, sw.until.getTime(), sw.bodies, sw.bytes], ['alice@example.org', until.getTime(), false, 0]);
      assert.deepEqual((await s.activeTraces()).map((t) => t.account), ['alice@example.org']);
      assert.equal(await s.appendTrace('alice@example.org', [line('p1', 'C', 'USER alice'), line('p1', 'S', '+OK')], { maxBytes: 10_000, totalMaxBytes: 100_000 }), true);
      assert.equal(await s.appendTrace('alice@example.org', [line('p2', 'C', 'STAT')], { maxBytes: 10_000, totalMaxBytes: 100_000 }), true);
      assert.equal(await s.appendTrace('alice@example.org', [line('p2', 'S', 'x'.repeat(20_000))], { maxBytes: 10_000, totalMaxBytes: 100_000 }), false, 'over the trace limit');
      assert.equal(await s.appendTrace('alice@example.org', [line('p2', 'S', 'y'.repeat(500))], { maxBytes: 10_000, totalMaxBytes: 200 }), false, 'over the total limit');
      assert.deepEqual((await s.readTrace('alice@example.org')).map((l) => [l.sessionId, l.direction, l.line]), [
        ['p1', 'C', 'USER alice'],
        ['p1', 'S', '+OK'],
        ['p2', 'C', 'STAT'],
      ]);
      assert.deepEqual((await s.readTrace('alice@example.org', { sessionId: 'p2' })).map((l) => l.line), ['STAT']);
      assert.ok((await s.getTrace('alice@example.org'))!.bytes > 0);
      // Off: recording stops, the lines stay until pruned.
      assert.equal(await s.stopTrace('alice@example.org'), true);
      assert.equal(await s.stopTrace('alice@example.org'), false);
      assert.deepEqual(await s.activeTraces(), []);
      assert.equal(await s.appendTrace('alice@example.org', [line('p3', 'C', 'NOOP')], { maxBytes: 10_000, totalMaxBytes: 100_000 }), false);
      assert.equal((await s.readTrace('alice@example.org')).length, 3);
      // A trace that has ended starts again empty when switched on again.
      await s.startTrace('alice@example.org', new Date(Date.now() + 1000), true);
      assert.deepEqual(await s.readTrace('alice@example.org'), []);
      // Expiry: a switch past its end records nothing; pruning removes it and its lines.
      const past = new Date(Date.now() - 1000);
      await s.appendTrace('alice@example.org', [line('p4', 'C', 'QUIT')], { maxBytes: 10_000, totalMaxBytes: 100_000 });
      assert.equal(await s.appendTrace('alice@example.org', [line('p4', 'C', 'QUIT')], { maxBytes: 10_000, totalMaxBytes: 100_000 }, new Date(Date.now() + 5000)), false, 'expired');
      assert.deepEqual(await s.activeTraces(new Date(Date.now() + 5000)), []);
      const pruned = await s.prune({ historyBefore: past, historyMaxPerAccount: 100, tracesBefore: new Date(Date.now() + 5000), liveBefore: past });
      assert.deepEqual([pruned.traces, pruned.lines], [1, 1]);
      assert.equal(await s.getTrace('alice@example.org'), undefined);
      assert.deepEqual(await s.readTrace('alice@example.org'), []);
    });
  });
}

/** Corrupts counters the way a buggy older version or a bad restore might. */
async function damage(store: Store, mailboxId: number, accountId: number): Promise<void> {
  const s = store as unknown as { writes: { run: (op: (tx: import('kysely').Kysely<import('../sql/schema.js').Database>) => Promise<unknown>) => Promise<unknown> } };
  await s.writes.run(async (tx) => {
    await tx.updateTable('mailboxes').set({ messages: 7, unseen: 0, bytes: 1, uid_next: 1, highest_modseq: 1 }).where('id', '=', mailboxId).execute();
    await tx.updateTable('accounts').set({ used_bytes: 999 }).where('id', '=', accountId).execute();
  });
}
