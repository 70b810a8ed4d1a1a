// RFC 5465 NOTIFY over real sockets: one session asks for notifications, another
// makes the changes, and the first is told without sending a command.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, append, msg, startServer, type Harness } from './harness.js';

let h: Harness;
before(async () => {
  h = await startServer({ limits: { maxLineBytes: 8192, maxLiteralBytes: 10 * 1024 * 1024, idleTimeoutMs: 60_000, maxConnectionsPerIp: 40, authFailureDelayMs: 10, notifyMaxPending: 3 } });
});
after(async () => {
  await h.close();
});

async function session(select?: string): Promise<RawClient> {
  const c = await RawClient.connect(h.port);
  await c.login();
  if (select) await c.cmd('S', `SELECT ${select}`);
  return c;
}

/** Waits for an unsolicited line matching `re` (no command sent). */
async function heard(c: RawClient, re: RegExp, timeoutMs = 3000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = await c.next(Math.max(1, deadline - Date.now()));
    if (re.test(line)) return line;
  }
}

test('NOTIFY is advertised; SET STATUS reports the covered mailboxes before the OK', async () => {
  const b = await session();
  await b.cmd('c', 'CREATE Lists/Work');
  await append(b, 'Lists/Work', msg('first'));
  const a = await session();
  const caps = await a.cmd('c', 'CAPABILITY');
  assert.match(caps[0] ?? '', / NOTIFY( |$)/);
  const r = await a.cmd('n', 'NOTIFY SET STATUS (subtree Lists (MessageNew MessageExpunge FlagChange))');
  const v = async (name: string) => `UIDVALIDITY ${(await h.store.getMailbox(h.account.id, name))?.uidValidity ?? 0}`;
  assert.deepEqual(r, [`* STATUS Lists (MESSAGES 0 UIDNEXT 1 ${await v('Lists')} UNSEEN 0)`, `* STATUS Lists/Work (MESSAGES 1 UIDNEXT 2 ${await v('Lists/Work')} UNSEEN 1)`, 'n OK NOTIFY completed']);
  a.close();
  b.close();
});

test('changes to other mailboxes arrive as STATUS, LIST and METADATA without a command', async () => {
  const a = await session('INBOX');
  const b = await session();
  await b.cmd('c', 'CREATE Archive');
  assert.equal((await a.cmd('n', 'NOTIFY SET (selected (MessageNew MessageExpunge)) (personal (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange))')).at(-1), 'n OK NOTIFY completed');

  await append(b, 'Archive', msg('archived'));
  assert.equal(await heard(a, /^\* STATUS/), '* STATUS Archive (MESSAGES 1 UIDNEXT 2 UNSEEN 1)');
  await b.cmd('s', 'SELECT Archive');
  await b.cmd('f', 'STORE 1 +FLAGS (\\Seen)');
  assert.equal(await heard(a, /^\* STATUS/), '* STATUS Archive (UNSEEN 0)');
  await b.cmd('f', 'STORE 1 +FLAGS (\\Deleted)');
  await heard(a, /^\* STATUS Archive \(UNSEEN 0\)/);
  await b.cmd('x', 'EXPUNGE');
  assert.equal(await heard(a, /^\* STATUS/), '* STATUS Archive (MESSAGES 0 UIDNEXT 2 UNSEEN 0)');

  await b.cmd('c', 'CREATE Projects');
  assert.equal(await heard(a, /^\* LIST/), '* LIST () "/" Projects');
  await b.cmd('r', 'RENAME Projects Done');
  assert.equal(await heard(a, /^\* LIST/), '* LIST () "/" Done ("OLDNAME" (Projects))');
  await b.cmd('u', 'SUBSCRIBE Done');
  assert.equal(await heard(a, /^\* LIST/), '* LIST (\\Subscribed) "/" Done');
  await b.cmd('u', 'UNSUBSCRIBE Done');
  assert.equal(await heard(a, /^\* LIST/), '* LIST () "/" Done');
  await b.cmd('d', 'DELETE Done');
  assert.equal(await heard(a, /^\* LIST/), '* LIST (\\NonExistent) "/" Done');

  await b.cmd('m', 'SETMETADATA Archive (/private/comment "old mail")');
  assert.equal(await heard(a, /^\* METADATA/), '* METADATA Archive /private/comment');
  await b.cmd('m', 'SETMETADATA "" (/shared/admin "mailto:postmaster@example.com")');
  assert.equal(await heard(a, /^\* METADATA/), '* METADATA "" /shared/admin');

  // The selected mailbox is never reported by STATUS: EXISTS comes instead.
  await append(b, 'INBOX', msg('to the selected one'));
  assert.match(await heard(a, /^\* (STATUS|\d+ EXISTS)/), /^\* \d+ EXISTS$/);

  // NOTIFY NONE: nothing more.
  assert.equal((await a.cmd('n', 'NOTIFY NONE')).at(-1), 'n OK NOTIFY completed');
  await append(b, 'Archive', msg('unheard'));
  await b.cmd('c', 'CREATE Quiet');
  assert.deepEqual(await a.drain(300), []);
  a.close();
  b.close();
});

test('selected: EXISTS with the MessageNew fetch attributes and EXPUNGE are pushed at once; selected-delayed holds EXPUNGE', async () => {
  const b = await session();
  await b.cmd('c', 'CREATE Live');
  await append(b, 'Live', msg('one'));
  await append(b, 'Live', msg('two'));
  const a = await session('Live');
  assert.deepEqual(await a.cmd('n', 'NOTIFY SET (selected (MessageNew (UID FLAGS BODY[HEADER.FIELDS (SUBJECT)]) MessageExpunge FlagChange))'), ['n OK NOTIFY completed']);
  await append(b, 'Live', msg('three'));
  assert.equal(await heard(a, /EXISTS/), '* 3 EXISTS');
  assert.equal(await heard(a, /FETCH/), '* 3 FETCH (UID 3 FLAGS (\\Recent) BODY[HEADER.FIELDS (SUBJECT)] {18}');
  assert.equal(await a.next(), 'Subject: three');
  await b.cmd('s', 'SELECT Live');
  await b.cmd('f', 'STORE 1 +FLAGS (\\Flagged)');
  assert.equal(await heard(a, /FETCH/), '* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))');
  await b.cmd('x', 'UID EXPUNGE 2'); // not \Deleted: nothing happens
  await b.cmd('f', 'STORE 2 +FLAGS.SILENT (\\Deleted)');
  await heard(a, /^\* 2 FETCH/);
  await b.cmd('x', 'EXPUNGE');
  assert.equal(await heard(a, /EXPUNGE/), '* 2 EXPUNGE');
  // The fetch attributes did not set \Seen.
  assert.deepEqual((await a.cmd('f', 'FETCH 2 FLAGS'))[0], '* 2 FETCH (FLAGS (\\Recent))');

  assert.deepEqual(await a.cmd('n', 'NOTIFY SET (selected-delayed (MessageNew MessageExpunge))'), ['n OK NOTIFY completed']);
  await b.cmd('f', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
  await b.cmd('x', 'EXPUNGE');
  await append(b, 'Live', msg('four'));
  // The EXISTS comes without a command; the EXPUNGE waits for one that allows it.
  await heard(a, /^\* 3 EXISTS$/);
  assert.deepEqual((await a.drain(200)).filter((l) => l.includes('EXPUNGE')), []);
  const f = await a.cmd('f', 'FETCH 1 UID');
  assert.deepEqual(f, ['f OK [EXPUNGEISSUED] Some messages were expunged meanwhile'], 'no EXPUNGE during FETCH');
  assert.deepEqual((await a.cmd('o', 'NOOP')).filter((l) => l.includes('EXPUNGE')), ['* 1 EXPUNGE']);
  a.close();
  b.close();
});

test('NOTIFY during IDLE: other mailboxes are reported too, DONE ends it as usual', async () => {
  const b = await session();
  await b.cmd('c', 'CREATE Idle1');
  const a = await session('INBOX');
  await a.cmd('n', 'NOTIFY SET (mailboxes Idle1 (MessageNew MessageExpunge))');
  a.write('i IDLE\r\n');
  assert.equal(await a.next(), '+ idling');
  await append(b, 'Idle1', msg('while idling'));
  assert.equal(await heard(a, /^\* STATUS/), '* STATUS Idle1 (MESSAGES 1 UIDNEXT 2 UNSEEN 1)');
  a.write('DONE\r\n');
  assert.deepEqual(await a.until('i'), ['i OK IDLE terminated']);
  a.close();
  b.close();
});

test('errors: BADEVENT, rule breaks and bad syntax; a failed NOTIFY keeps the previous one', async () => {
  const a = await session();
  const b = await session();
  await b.cmd('c', 'CREATE Kept');
  await a.cmd('n', 'NOTIFY SET (mailboxes Kept (MessageNew MessageExpunge))');
  assert.deepEqual(await a.cmd('e1', 'NOTIFY SET (personal (AnnotationChange))'), [
    'e1 NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange)] Event ANNOTATIONCHANGE is not supported',
  ]);
  assert.match((await a.cmd('e2', 'NOTIFY SET (personal (MessageNew))'))[0] ?? '', /^e2 BAD MessageNew and MessageExpunge must be requested together/);
  assert.match((await a.cmd('e3', 'NOTIFY SET (personal (FlagChange))'))[0] ?? '', /^e3 BAD FlagChange needs MessageNew and MessageExpunge/);
  assert.match((await a.cmd('e4', 'NOTIFY SET (personal (MessageNew (UID) MessageExpunge))'))[0] ?? '', /^e4 BAD MessageNew fetch attributes are only for the selected mailbox/);
  assert.match((await a.cmd('e5', 'NOTIFY SET (selected (MessageNew MessageExpunge)) (selected-delayed (MessageNew MessageExpunge))'))[0] ?? '', /^e5 BAD /);
  assert.match((await a.cmd('e6', 'NOTIFY SET (everything (MessageNew MessageExpunge))'))[0] ?? '', /^e6 BAD .*Unknown mailbox filter/);
  assert.match((await a.cmd('e7', 'NOTIFY MAYBE'))[0] ?? '', /^e7 BAD /);
  assert.match((await a.cmd('e8', 'NOTIFY SET (personal (MessageNew MessageExpunge)'))[0] ?? '', /^e8 BAD /);
  assert.match((await a.cmd('e9', 'NOTIFY SET (selected (MessageNew (RFC822) MessageExpunge))'))[0] ?? '', /^e9 BAD .*\\Seen/);
  // Still the first NOTIFY:
  await append(b, 'Kept', msg('still heard'));
  assert.equal(await heard(a, /^\* STATUS/), '* STATUS Kept (MESSAGES 1 UIDNEXT 2 UNSEEN 1)');
  const pre = await RawClient.connect(h.port);
  assert.match((await pre.cmd('p', 'NOTIFY NONE'))[0] ?? '', /^p BAD NOTIFY not allowed before authentication/);
  pre.close();
  a.close();
  b.close();
});

test('more queued notifications than imap_notify_max_pending: NOTIFICATIONOVERFLOW, then NOTIFY is off', async () => {
  const a = await session();
  const b = await session();
  await a.cmd('n', 'NOTIFY SET (personal (MessageNew MessageExpunge MailboxName))');
  // One CREATE makes its parents too: five events in one commit, over the limit of 3.
  await b.cmd('c', 'CREATE Deep/A/B/C/D');
  assert.equal(await heard(a, /NOTIFICATIONOVERFLOW/), '* OK [NOTIFICATIONOVERFLOW] Too many notifications, NOTIFY is now off');
  await b.cmd('c', 'CREATE Deep2');
  assert.deepEqual(await a.drain(300), []);
  a.close();
  b.close();
});
