// The Sieve delivery step against a real store: where copies go, the junk
// verdict, fallbacks that keep the message, and the vacation rules.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import type { Account } from '../store/types.js';
import { DEFAULT_SIEVE_DELIVERY, planLocalDelivery, type LocalRecipient, type SieveHookDeps } from './deliver-hook.js';
import { MessageView } from './message.js';
import { vacationRefusal, buildVacationReply, addressKey } from './replies.js';

let dir: string;
let store: Store;
let alice: Account;
let rcpt: LocalRecipient;
const warnings: string[] = [];
let deps: SieveHookDeps;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steadymail-sieve-hook-'));
  store = await openStore({ driver: 'sqlite', dataDir: dir });
  await store.createDomain('example.org');
  alice = await store.createAccount({ address: 'alice@example.org', passwordHash: 'x' });
  rcpt = { accountId: alice.id, address: alice.address, inboxId: (await store.getMailbox(alice.id, 'INBOX'))!.id, rcpt: 'alice@example.org' };
  deps = { store, hostname: 'mx.example.org', sieve: DEFAULT_SIEVE_DELIVERY, logger: { info() {}, debug() {}, warn: (_o, msg) => warnings.push(msg ?? '') } };
});

after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const MSG = Buffer.from('From: <friend@remote.test>\r\nTo: <alice@example.org>\r\nSubject: hi\r\nX-Spam-Flag: YES\r\nMessage-ID: <m1@remote.test>\r\n\r\nHello\r\n');

async function placeWith(script: string | null, junk = false): Promise<string[]> {
  await store.activateSieveScript(alice.id, null);
  if (script !== null) {
    await store.putSieveScript(alice.id, 'test', script);
    await store.activateSieveScript(alice.id, 'test');
  }
  const plan = await planLocalDelivery(deps, { mailFrom: 'friend@remote.test', envelopeRecipients: 1, local: [rcpt], message: MSG, junk });
  const names = await Promise.all(plan.copies.map(async (c) => (await store.getMailboxById(c.mailboxId))!.name + (c.flags.length + c.keywords.length > 0 ? ` ${[...c.flags, ...c.keywords].join(' ')}` : '')));
  return names;
}

test('no script: INBOX; a junk verdict sends the implicit keep to Junk, explicit filing wins', async () => {
  assert.deepEqual(await placeWith(null), ['INBOX']);
  assert.deepEqual(await placeWith(null, true), ['Junk']);
  assert.deepEqual(await placeWith('require "imap4flags"; addflag "$Junk";', true), ['Junk $Junk']);
  assert.deepEqual(await placeWith('require "fileinto"; fileinto "Archive";', true), ['Archive']);
  assert.deepEqual(await placeWith('keep;', true), ['INBOX']);
});

test('scripts can test spam headers; duplicates make one copy with merged flags', async () => {
  assert.deepEqual(await placeWith('require "fileinto"; if header :is "X-Spam-Flag" "YES" { fileinto "Junk"; }'), ['Junk']);
  assert.deepEqual(await placeWith('require ["fileinto", "imap4flags"]; fileinto :flags "\\\\Seen" "Archive"; fileinto :flags "\\\\Flagged" "Archive"; keep; fileinto "INBOX";'), ['Archive \\Seen \\Flagged', 'INBOX']);
});

test('fallbacks keep the message in INBOX: missing mailbox, runtime error, a stored script that no longer compiles, reject with keep', async () => {
  warnings.length = 0;
  assert.deepEqual(await placeWith('require "fileinto"; fileinto "Missing";'), ['INBOX']);
  assert.deepEqual(await placeWith('redirect "a@remote.test"; redirect "b@remote.test"; redirect "c@remote.test"; redirect "d@remote.test"; redirect "e@remote.test";'), ['INBOX']);
  assert.deepEqual(await placeWith('require "nonsense"; discard;'), ['INBOX']);
  assert.deepEqual(await placeWith('require "reject"; keep; reject "no";'), ['INBOX']);
  assert.deepEqual(warnings, [
    'sieve fileinto a mailbox that does not exist; message kept in INBOX',
    'sieve script failed; message kept in INBOX',
    'sieve script failed; message kept in INBOX',
    'sieve script both rejects and keeps a message; message kept in INBOX',
  ]);
  assert.equal(await store.getMailbox(alice.id, 'Missing'), undefined, 'fileinto without :create creates nothing');
  assert.deepEqual(await placeWith('require ["fileinto", "mailbox"]; fileinto :create "Lists/New";'), ['Lists/New']);
});

test('vacation rules (RFC 5230 4.5, RFC 3834)', () => {
  const view = (headers: string) => new MessageView(Buffer.from(`From: <friend@remote.test>\r\nTo: Alice <alice+work@example.org>\r\n${headers}Subject: hi\r\n\r\nbody\r\n`));
  const own = ['alice@example.org'];
  assert.equal(vacationRefusal(view(''), 'friend@remote.test', own), null);
  assert.equal(vacationRefusal(view(''), '', own), 'null sender');
  assert.equal(vacationRefusal(view(''), 'MAILER-DAEMON@remote.test', own), 'automated sender MAILER-DAEMON@remote.test');
  assert.equal(vacationRefusal(view(''), 'owner-talk@remote.test', own), 'automated sender owner-talk@remote.test');
  assert.equal(vacationRefusal(view(''), 'talk-request@remote.test', own), 'automated sender talk-request@remote.test');
  assert.equal(vacationRefusal(view(''), 'Alice+x@Example.org', own), 'sender is the recipient');
  assert.equal(vacationRefusal(view('List-Unsubscribe: <mailto:u@remote.test>\r\n'), 'friend@remote.test', own), 'mailing list (list-unsubscribe)');
  assert.equal(vacationRefusal(view('Precedence: junk\r\n'), 'friend@remote.test', own), 'Precedence: junk');
  assert.equal(vacationRefusal(view('Auto-Submitted: auto-replied\r\n'), 'friend@remote.test', own), 'Auto-Submitted: auto-replied');
  assert.equal(vacationRefusal(view('Auto-Submitted: no\r\n'), 'friend@remote.test', own), null);
  assert.equal(vacationRefusal(view(''), 'friend@remote.test', ['bob@example.org']), 'recipient not named in To/Cc');
  assert.equal(addressKey('<Bob+Tag@Example.ORG>'), 'bob@example.org');
  const reply = buildVacationReply({
    action: { kind: 'vacation', reason: 'Zurück am Montag.', mime: false, subject: null, from: null, addresses: [], days: null, handle: 'h' },
    hostname: 'mx.example.org',
    recipient: 'alice@example.org',
    sender: 'friend@remote.test',
    original: view('Message-ID: <x1@remote.test>\r\nReferences: <x0@remote.test>\r\n'),
  }).toString('utf8');
  assert.match(reply, /^Subject: Auto: hi\r$/m);
  assert.match(reply, /^References: <x0@remote.test> <x1@remote.test>\r$/m);
  assert.match(reply, /^Content-Transfer-Encoding: base64\r$/m);
  assert.ok(reply.includes(Buffer.from('Zurück am Montag.', 'utf8').toString('base64')));
});
