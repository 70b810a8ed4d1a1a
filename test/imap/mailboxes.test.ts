// Mailbox commands: CREATE/DELETE/RENAME/SUBSCRIBE, LIST variants, LSUB, STATUS,
// NAMESPACE, ID, ENABLE, QUOTA.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, append, msg, startServer, type Harness } from './harness.js';

let h: Harness;
let c: RawClient;
before(async () => {
  h = await startServer();
  c = await RawClient.connect(h.port);
  await c.login();
});
after(async () => {
  c.close();
  await h.close();
});

test('CREATE (with special use), LIST with CHILDREN and SPECIAL-USE, RENAME, DELETE', async () => {
  assert.match((await c.cmd('a', 'CREATE Projects/2024/')).at(-1) ?? '', /^a OK \[MAILBOXID \(M\d+-\d+\)\] CREATE completed$/);
  assert.match((await c.cmd('b', 'CREATE Projects/2024')).at(-1) ?? '', /^b NO \[ALREADYEXISTS\]/);
  assert.equal((await c.cmd('c', 'CREATE INBOX')).at(-1), 'c NO [ALREADYEXISTS] Mailbox already exists');
  assert.match((await c.cmd('d', 'CREATE "All Mail" (USE (\\All))')).at(-1) ?? '', /^d OK \[MAILBOXID \(M\d+-\d+\)\] CREATE completed$/);
  assert.equal((await c.cmd('e', 'CREATE Bad (USE (\\Important))')).at(-1), 'e NO [USEATTR] Unsupported special use \\Important');
  const all = await c.cmd('l', 'LIST "" "*"');
  assert.ok(all.includes('* LIST (\\HasNoChildren) "/" INBOX'), all.join('\n'));
  assert.ok(all.includes('* LIST (\\HasNoChildren \\Sent) "/" Sent'));
  assert.ok(all.includes('* LIST (\\HasNoChildren \\All) "/" "All Mail"'));
  // the store creates the parent too
  assert.ok(all.includes('* LIST (\\HasChildren) "/" Projects'), all.join('\n'));
  assert.ok(all.includes('* LIST (\\HasNoChildren) "/" Projects/2024'));
  const top = await c.cmd('l2', 'LIST "" "%"');
  assert.ok(!top.some((l) => l.includes('Projects/2024')));
  assert.deepEqual(await c.cmd('l3', 'LIST "" ""'), ['* LIST (\\Noselect) "/" ""', 'l3 OK LIST completed']);
  assert.deepEqual(await c.cmd('l4', 'LIST "Projects/" "%"'), ['* LIST (\\HasNoChildren) "/" Projects/2024', 'l4 OK LIST completed']);
  const su = await c.cmd('l5', 'LIST (SPECIAL-USE) "" "*"');
  assert.equal(su.length, 7, su.join('\n'));
  assert.deepEqual(await c.cmd('l6', 'LIST "" inbox'), ['* LIST (\\HasNoChildren) "/" INBOX', 'l6 OK LIST completed']);
  assert.equal((await c.cmd('r', 'RENAME Projects/2024 Archive/2024')).at(-1), 'r OK RENAME completed');
  const after = await c.cmd('l7', 'LIST "" "Archive*"');
  assert.ok(after.includes('* LIST (\\HasChildren \\Archive) "/" Archive'), after.join('\n'));
  assert.equal((await c.cmd('x', 'DELETE Archive/2024')).at(-1), 'x OK DELETE completed');
  assert.equal((await c.cmd('y', 'DELETE INBOX')).at(-1), 'y NO [CANNOT] INBOX cannot be deleted');
  assert.match((await c.cmd('z', 'DELETE Nope')).at(-1) ?? '', /^z NO \[NONEXISTENT\]/);
  assert.match((await c.cmd('z2', 'SELECT Nope')).at(-1) ?? '', /^z2 NO \[NONEXISTENT\]/);
});

test('RENAME INBOX moves its messages and leaves INBOX empty; wildcard names are refused', async () => {
  const r = await RawClient.connect(h.port);
  await r.login();
  await append(r, 'INBOX', msg('keep me'));
  const before = Number(/MESSAGES (\d+)/.exec((await r.cmd('a', 'STATUS INBOX (MESSAGES)'))[0] ?? '')?.[1]);
  assert.ok(before > 0);
  assert.equal((await r.cmd('b', 'RENAME INBOX "Old Inbox"')).at(-1), 'b OK RENAME completed');
  assert.match((await r.cmd('c', 'STATUS INBOX (MESSAGES)'))[0] ?? '', /MESSAGES 0\)/);
  assert.match((await r.cmd('d', 'STATUS "Old Inbox" (MESSAGES)'))[0] ?? '', new RegExp(`MESSAGES ${before}\\)`));
  assert.equal((await r.cmd('e', 'CREATE "a*b"')).at(-1), 'e NO [CANNOT] Mailbox names may not contain * or %');
  r.close();
});

test('mailbox names travel as modified UTF-7, or UTF-8 after ENABLE UTF8=ACCEPT', async () => {
  assert.match((await c.cmd('a', 'CREATE "Entw&APw-rfe"')).at(-1) ?? '', /^a OK \[MAILBOXID \(M\d+-\d+\)\] CREATE completed$/);
  assert.deepEqual(await c.cmd('b', 'LIST "" "Entw*"'), ['* LIST (\\HasNoChildren) "/" Entw&APw-rfe', 'b OK LIST completed']);
  const u = await RawClient.connect(h.port);
  await u.login();
  assert.deepEqual(await u.cmd('e', 'ENABLE UTF8=ACCEPT'), ['* ENABLED UTF8=ACCEPT', 'e OK ENABLE completed']);
  assert.deepEqual(await u.cmd('b', 'LIST "" "Entw*"'), ['* LIST (\\HasNoChildren) "/" "Entwürfe"', 'b OK LIST completed']);
  // RFC 6855: UTF-8 names in quoted strings, and APPEND with the UTF8 data extension.
  assert.match((await u.cmd('c', 'CREATE "Größe"')).at(-1) ?? '', /^c OK \[MAILBOXID \(M\d+-\d+\)\] CREATE completed$/);
  const raw = 'Subject: Grüße\r\nFrom: ü@example.org\r\n\r\nHallo\r\n';
  u.write(`ap APPEND "Größe" UTF8 (~{${Buffer.byteLength(raw)}+}\r\n${raw})\r\n`);
  assert.match((await u.until('ap')).at(-1) ?? '', /^ap OK \[APPENDUID \d+ 1\]/);
  assert.deepEqual(await c.cmd('d', 'LIST "" "Gr*"'), ['* LIST (\\HasNoChildren) "/" Gr&APYA3w-e', 'd OK LIST completed']);
  u.close();
});

test('SUBSCRIBE, LSUB with special-use, LIST (SUBSCRIBED), LIST-STATUS', async () => {
  await c.cmd('a', 'CREATE Lists');
  await c.cmd('b', 'UNSUBSCRIBE Lists');
  let ls = await c.cmd('c', 'LSUB "" "*"');
  assert.ok(!ls.some((l) => l.endsWith(' Lists')));
  assert.ok(ls.includes('* LSUB (\\HasNoChildren \\Trash) "/" Trash'), ls.join('\n'));
  await c.cmd('d', 'SUBSCRIBE Lists');
  ls = await c.cmd('e', 'LSUB "" "L*"');
  assert.deepEqual(ls, ['* LSUB (\\HasNoChildren) "/" Lists', 'e OK LSUB completed']);
  const sub = await c.cmd('f', 'LIST (SUBSCRIBED) "" "Lists"');
  assert.deepEqual(sub, ['* LIST (\\HasNoChildren \\Subscribed) "/" Lists', 'f OK LIST completed']);
  await c.cmd('r1', 'CREATE Lists/Sub');
  await c.cmd('r2', 'UNSUBSCRIBE Lists');
  assert.deepEqual(await c.cmd('r3', 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "Lists"'), ['* LIST (\\HasChildren) "/" Lists ("CHILDINFO" ("SUBSCRIBED"))', 'r3 OK LIST completed']);
  assert.deepEqual(await c.cmd('r4', 'LIST (SUBSCRIBED) "" "Lists"'), ['r4 OK LIST completed']);
  await c.cmd('r5', 'DELETE Lists/Sub');
  await c.cmd('r6', 'SUBSCRIBE Lists');
  await append(c, 'Lists', msg('x'), '\\Seen');
  await append(c, 'Lists', msg('y'));
  const st = await c.cmd('g', 'LIST "" "Lists" RETURN (STATUS (MESSAGES UNSEEN UIDNEXT SIZE))');
  assert.equal(st[0], '* LIST (\\HasNoChildren) "/" Lists');
  assert.match(st[1] ?? '', /^\* STATUS Lists \(MESSAGES 2 UNSEEN 1 UIDNEXT 3 SIZE \d+\)$/);
  const s2 = await c.cmd('h', 'STATUS Lists (MESSAGES RECENT UIDVALIDITY HIGHESTMODSEQ APPENDLIMIT DELETED)');
  assert.match(s2[0] ?? '', /^\* STATUS Lists \(MESSAGES 2 RECENT 2 UIDVALIDITY \d+ HIGHESTMODSEQ \d+ APPENDLIMIT 10485760 DELETED 0\)$/);
  assert.match((await c.cmd('i', 'STATUS Nope (MESSAGES)')).at(-1) ?? '', /^i NO \[NONEXISTENT\]/);
});

test('NAMESPACE, ID, ENABLE, QUOTA, APPEND to a missing mailbox', async () => {
  assert.deepEqual(await c.cmd('a', 'NAMESPACE'), ['* NAMESPACE (("" "/")) NIL NIL', 'a OK NAMESPACE completed']);
  const id = await c.cmd('b', 'ID ("name" "test")');
  assert.match(id[0] ?? '', /^\* ID \("name" "Steadymail" "version" "[^"]+"\)$/);
  const fresh = await RawClient.connect(h.port);
  await fresh.login();
  assert.deepEqual(await fresh.cmd('c', 'ENABLE CONDSTORE X-UNKNOWN'), ['* ENABLED CONDSTORE', 'c OK ENABLE completed']);
  assert.deepEqual(await fresh.cmd('c2', 'ENABLE CONDSTORE'), ['* ENABLED', 'c2 OK ENABLE completed']);
  fresh.close();
  assert.deepEqual(await c.cmd('d', 'GETQUOTAROOT INBOX'), ['* QUOTAROOT INBOX', 'd OK GETQUOTAROOT completed']);
  await h.store.updateAccount(h.account.id, { quotaBytes: 2048 * 1024 });
  const q = await c.cmd('e', 'GETQUOTAROOT INBOX');
  assert.equal(q[0], '* QUOTAROOT INBOX ""');
  assert.match(q[1] ?? '', /^\* QUOTA "" \(STORAGE \d+ 2048\)$/);
  assert.match((await c.cmd('f', 'GETQUOTA ""'))[0] ?? '', /^\* QUOTA "" \(STORAGE/);
  assert.equal((await c.cmd('g', 'SETQUOTA "" (STORAGE 1)')).at(-1), 'g NO [NOPERM] Quota is set by the administrator');
  await h.store.updateAccount(h.account.id, { quotaBytes: 1 });
  assert.equal((await append(c, 'INBOX', msg('too big'))).at(-1), 'AP NO [OVERQUOTA] Quota exceeded');
  await h.store.updateAccount(h.account.id, { quotaBytes: 0 });
  assert.equal((await append(c, 'Missing', msg('x'))).at(-1), 'AP NO [TRYCREATE] Mailbox does not exist');
});
