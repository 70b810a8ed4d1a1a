// steadymail check / repair through the built binary, on a store damaged on purpose
// in each way check knows: a deleted blob, skewed counters and uidNext written
// straight into the SQLite file, dropped and stale structure caches.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { corruptBlob, loseBlob } from '../blob-damage.js';
import { assertBuilt, deliver, openData, rawMessage, seed, serve, steadymail, tempDir } from './helpers.js';

before(assertBuilt);

interface Report {
  clean: boolean;
  counts: Record<string, number>;
  problems: Array<{ kind: string; repairable: boolean }>;
}

test('check finds each kind of damage, repair fixes it and every message is still there', async () => {
  const dir = tempDir();
  const data = join(dir, 'data');
  try {
    const { inbox } = await seed(data, 6);
    const clean = await steadymail(data, ['check', '--json', '--structure', 'full']);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal((JSON.parse(clean.stdout) as Report).clean, true);

    // Damage: one body gone, counters and uidNext wrong, one cache dropped, one stale.
    const store = await openData(data);
    const messages = await store.listMessages(inbox);
    const lost = messages[1]!;
    await store.close();
    assert.ok(await loseBlob(data, lost.blobId));
    const db = new BetterSqlite3(join(data, 'steadymail.db'));
    db.prepare('update mailboxes set messages = 40, unseen = 0, uid_next = 2 where id = ?').run(inbox);
    db.prepare('update accounts set used_bytes = 1').run();
    db.prepare("update messages set structure = '{}' where mailbox_id = ? and uid = 3").run(inbox);
    db.prepare(`update messages set structure = json_set(structure, '$.version', 0) where mailbox_id = ? and uid = 4`).run(inbox);
    db.close();

    const found = await steadymail(data, ['check', '--json']);
    assert.equal(found.code, 1, 'exit 1: problems found');
    const report = JSON.parse(found.stdout) as Report;
    assert.equal(report.clean, false);
    for (const kind of ['blob-missing', 'mailbox-counters', 'uid-next', 'quota-usage', 'structure-missing', 'structure-stale']) {
      assert.ok(report.counts[kind], `check reports ${kind}: ${found.stdout}`);
    }
    assert.match(found.stderr, /problem\(s\) found/);

    const repaired = await steadymail(data, ['repair']);
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.match(repaired.stdout, /counters recomputed/);
    assert.match(repaired.stdout, /uidNext raised/);
    assert.match(repaired.stdout, /moved 1 message\(s\) whose body is missing from INBOX to Recovered/);
    assert.match(repaired.stdout, /re-indexed the cached structure of 2 message\(s\)/);

    // Nothing lost: five in INBOX, the one without a body in Recovered with its
    // message id, flags and envelope, under a UID never used there before.
    const after = await openData(data);
    try {
      const alice = (await after.getAccount('alice@example.org'))!;
      const left = await after.listMessages(inbox);
      assert.deepEqual(left.map((m) => m.uid), [1, 3, 4, 5, 6]);
      const recovered = (await after.getMailbox(alice.id, 'Recovered'))!;
      const [moved] = await after.listMessages(recovered.id);
      assert.equal(moved?.messageId, lost.messageId);
      assert.equal((moved?.structure['envelope'] as { subject: string }).subject, 'message 2');
      const box = (await after.getMailboxById(inbox))!;
      assert.deepEqual([box.messages, box.uidNext], [5, 7], 'uidNext past every UID used, never reused');
      const actions = (await after.listAudit()).map((a) => a.action);
      for (const a of ['store.repair', 'message.move', 'repair.recovered', 'repair.structure']) assert.ok(actions.includes(a), `${a} audited: ${actions.join()}`);
      // New mail after the repair gets a fresh UID.
      assert.equal((await deliver(after, inbox, rawMessage(7))).uid, 7);
    } finally {
      await after.close();
    }

    // What is left is what no repair can bring back: the missing body, now in Recovered.
    const again = await steadymail(data, ['check', '--json', '--structure', 'full']);
    const rest = JSON.parse(again.stdout) as Report;
    assert.deepEqual(Object.keys(rest.counts), ['blob-missing'], again.stdout);
    assert.equal((await steadymail(data, ['repair', '--json'])).stdout.includes('"actions": []'), true, 'a second repair has nothing to do');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('check --account limits the check to one account; an unknown one is exit 67', async () => {
  const dir = tempDir();
  const data = join(dir, 'data');
  try {
    await seed(data, 2);
    const r = await steadymail(data, ['check', '--account', 'Alice@Example.org']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no problems found/);
    const unknown = await steadymail(data, ['check', '--account', 'bob@example.org']);
    assert.equal(unknown.code, 67);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('check, repair and backup run while serve runs on the same data', async () => {
  const dir = tempDir();
  const data = join(dir, 'data');
  try {
    await seed(data, 3);
    const stop = await serve(data);
    try {
      const check = await steadymail(data, ['check', '--json', '--hash']);
      assert.equal(check.code, 0, check.stderr);
      const repair = await steadymail(data, ['repair']);
      assert.equal(repair.code, 0, repair.stderr);
      const backup = await steadymail(data, ['backup', join(dir, 'backup')]);
      assert.equal(backup.code, 0, backup.stderr);
    } finally {
      assert.equal(await stop(), 0);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a flipped byte and an orphan row are reported as not repairable; repair leaves every message in place', async () => {
  const dir = tempDir();
  const data = join(dir, 'data');
  try {
    const { inbox } = await seed(data, 3);
    const store = await openData(data);
    const [first] = await store.listMessages(inbox);
    await store.close();
    await corruptBlob(data, first!.blobId);
    const db = new BetterSqlite3(join(data, 'steadymail.db'));
    db.pragma('foreign_keys = OFF');
    db.prepare("insert into mailboxes (account_id, name, uid_validity, uid_next, highest_modseq, messages, unseen, bytes, subscribed, special_use) values (999, 'Lost', 1, 1, 1, 0, 0, 0, 0, null)").run();
    db.close();

    const sizeOnly = await steadymail(data, ['check', '--json']);
    assert.ok(!(JSON.parse(sizeOnly.stdout) as Report).counts['blob-corrupt'], 'without --hash only sizes are compared');
    const found = await steadymail(data, ['check', '--json', '--hash']);
    assert.equal(found.code, 1);
    const report = JSON.parse(found.stdout) as Report;
    assert.equal(report.counts['blob-corrupt'], 1, found.stdout);
    assert.equal(report.counts['orphan-mailboxes'], 1, found.stdout);
    assert.ok(report.problems.every((p) => !p.repairable));
    assert.match(found.stderr, /2 not repairable/);

    assert.equal((await steadymail(data, ['repair'])).code, 0);
    const after = await openData(data);
    try {
      assert.deepEqual((await after.listMessages(inbox)).map((m) => m.uid), [1, 2, 3]);
    } finally {
      await after.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
