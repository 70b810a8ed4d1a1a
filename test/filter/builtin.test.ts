// The built-in layer over real SMTP (nodemailer) against a real DNS server on loopback
// holding block list zones: DNS lists and header checks make a score, the score and
// the account's lists decide INBOX or Junk, a high score is refused at DATA, forged
// X-Spam-* fields are dropped, and moving mail into Junk over IMAP teaches the sender.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { startZones, type TestZones } from './engines.js';
import { PASSWORD, USER, smtpError, startFilterServer, type FilterServer } from './server.js';
import { Client } from '../webmail/api-harness.js';
import type { FolderListResponse, MessagePage } from '../../src/http/api/types.js';

let zones: TestZones;
let server: FilterServer;

before(async () => {
  zones = await startZones({
    // DNSBL: the test client, 127.0.0.1, is listed (RFC 5782 2.1: reversed octets).
    '1.0.0.127.bl.filter.test': '127.0.0.2',
    // A "you may not query" answer is not a listing.
    '1.0.0.127.refused.filter.test': '127.255.255.254',
    // RHSBL: sender domains.
    'spammer.test.dbl.filter.test': '127.0.1.2',
    'hard.test.dbl.filter.test': '127.0.1.3',
    'hard.test.hard.filter.test': '127.0.0.2',
  });
  server = await startFilterServer({
    STEADYMAIL_DNS_SERVERS: zones.server,
    STEADYMAIL_FILTER_GREYLIST_ENABLED: 'false',
    STEADYMAIL_FILTER_DNSBL_LISTS: 'bl.filter.test*2,refused.filter.test*10',
    STEADYMAIL_FILTER_DNSBL_DOMAIN_LISTS: 'dbl.filter.test*4,hard.filter.test*20',
    STEADYMAIL_FILTER_REJECT_SCORE: '15',
  });
});

after(async () => {
  await server?.close();
  await zones?.close();
});

function spamStatus(raw: string): string {
  return /^X-Spam-Status: (.*(?:\r\n\t.*)*)/m.exec(raw)?.[1]?.replace(/\r\n\t/g, '') ?? '';
}

test('a listed client IP adds its weight, below the junk score: INBOX, annotated', async () => {
  const reply = await server.send({ from: 'news@good.test', subject: 'Weekly news', text: 'Hello Alice.' });
  assert.match(reply, /^250 /);
  const inbox = await server.mailbox('INBOX');
  const m = inbox.find((x) => x.raw.includes('Weekly news'));
  assert.ok(m, 'delivered to INBOX');
  const status = spamStatus(m.raw);
  assert.match(status, /^No, score=2\.00 required=5\.00 tests=.*DNSBL_bl\.filter\.test=127\.0\.0\.2/);
  assert.doesNotMatch(status, /refused\.filter\.test/, '127.255.255.x is an error code, not a listing');
  assert.match(m.raw, /^X-Spam-Score: 2\.00\r$/m);
  assert.ok(zones.queries.includes('1.0.0.127.bl.filter.test'), 'the list was asked through the [dns] server');
  assert.ok(zones.queries.includes('good.test.dbl.filter.test'), 'the sender domain was looked up in the RHSBL');
});

test('a listed sender domain on top reaches the junk score: the copy goes to Junk', async () => {
  const reply = await server.send({ from: 'offers@spammer.test', subject: 'Cheap offers', text: 'Buy now.' });
  assert.match(reply, /^250 /);
  const junk = await server.mailbox('Junk');
  const m = junk.find((x) => x.raw.includes('Cheap offers'));
  assert.ok(m, 'delivered to Junk');
  assert.match(spamStatus(m.raw), /^Yes, score=6\.00 .*RHSBL_dbl\.filter\.test=127\.0\.1\.2/);
  assert.match(m.raw, /^X-Spam-Flag: YES\r$/m);
  assert.equal((await server.mailbox('INBOX')).some((x) => x.raw.includes('Cheap offers')), false);
});

test('a score at the reject score is refused at DATA with 550 5.7.1; nothing is stored', async () => {
  const before = (await server.mailbox('INBOX')).length + (await server.mailbox('Junk')).length;
  const e = await smtpError(server.send({ from: 'x@hard.test', subject: 'Hard spam', text: 'Spam.' }));
  assert.equal(e.code, 550);
  assert.match(e.response, /^550 5\.7\.1 Message rejected as spam \(score 26\)/);
  assert.equal((await server.mailbox('INBOX')).length + (await server.mailbox('Junk')).length, before);
});

test('X-Spam-* fields written by the sender are removed; only ours remain', async () => {
  await server.send({ from: 'news@good.test', subject: 'Forged status', text: 'Trust me.', headers: { 'X-Spam-Status': 'No, score=-100', 'X-Spam-Flag': 'NO' } });
  const m = (await server.mailbox('INBOX')).find((x) => x.raw.includes('Forged status'));
  assert.ok(m);
  assert.equal(m.raw.match(/^X-Spam-Status:/gm)?.length, 1);
  assert.doesNotMatch(m.raw, /score=-100|X-Spam-Flag: NO/);
});

test("the account's block list sends a sender to Junk, its allow list keeps one out of it", async () => {
  const account = await server.handle.store.getAccount(USER);
  assert.ok(account);
  await server.handle.store.setFilterListEntry(account.id, 'block', 'good.test', true);
  await server.handle.store.setFilterListEntry(account.id, 'allow', 'offers@spammer.test', true);
  await server.send({ from: 'news@good.test', subject: 'Blocked sender', text: 'x' });
  await server.send({ from: 'offers@spammer.test', subject: 'Allowed sender', text: 'x' });
  assert.ok((await server.mailbox('Junk')).some((x) => x.raw.includes('Blocked sender')));
  assert.ok((await server.mailbox('INBOX')).some((x) => x.raw.includes('Allowed sender')));
  await server.handle.store.setFilterListEntry(account.id, 'block', 'good.test', false);
  await server.handle.store.setFilterListEntry(account.id, 'allow', 'offers@spammer.test', false);
});

test('an account junk score of its own applies to its copies', async () => {
  const account = await server.handle.store.getAccount(USER);
  assert.ok(account);
  await server.handle.store.setJunkScore(account.id, 1.5);
  await server.send({ from: 'news@good.test', subject: 'Strict account', text: 'x' });
  assert.ok((await server.mailbox('Junk')).some((x) => x.raw.includes('Strict account')), 'score 2 ≥ 1.5');
  await server.handle.store.setJunkScore(account.id, null);
});

test('moving a message into Junk over IMAP teaches the sender: its next message goes to Junk', async () => {
  await server.send({ from: 'Shop <promo@good.test>', subject: 'First promo', text: 'x' });
  const client = new ImapFlow({ host: '127.0.0.1', port: server.port('imap'), secure: false, auth: { user: USER, pass: PASSWORD }, tls: { rejectUnauthorized: false }, logger: false });
  await client.connect();
  try {
    const lock = await client.getMailboxLock('INBOX');
    try {
      const found = await client.search({ subject: 'First promo' }, { uid: true });
      assert.ok(found && found.length === 1);
      assert.ok(await client.messageMove(found, 'Junk', { uid: true }));
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
  const account = await server.handle.store.getAccount(USER);
  assert.ok(account);
  const deadline = Date.now() + 5000;
  while ((await server.handle.store.senderReputation(account.id, 'promo@good.test')).spam === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await server.handle.store.senderReputation(account.id, 'promo@good.test'), { spam: 1, ham: 0 });
  await server.send({ from: 'Shop <promo@good.test>', subject: 'Second promo', text: 'x' });
  assert.ok((await server.mailbox('Junk')).some((x) => x.raw.includes('Second promo')), 'score 2 + 3 for a sender taught as spam');
  // Another sender of the same domain is not affected.
  await server.send({ from: 'news@good.test', subject: 'Unrelated', text: 'x' });
  assert.ok((await server.mailbox('INBOX')).some((x) => x.raw.includes('Unrelated')));
});

test('moving mail out of Junk teaches ham; moving it to Trash teaches nothing', async () => {
  const client = new ImapFlow({ host: '127.0.0.1', port: server.port('imap'), secure: false, auth: { user: USER, pass: PASSWORD }, tls: { rejectUnauthorized: false }, logger: false });
  await client.connect();
  try {
    const lock = await client.getMailboxLock('Junk');
    try {
      const promos = await client.search({ subject: 'promo' }, { uid: true });
      assert.ok(promos && promos.length === 2, 'First promo (moved) and Second promo (filtered)');
      assert.ok(await client.messageMove(promos, 'INBOX', { uid: true }));
      const spam = await client.search({ subject: 'Cheap offers' }, { uid: true });
      assert.ok(spam && spam.length === 1);
      assert.ok(await client.messageMove(spam, 'Trash', { uid: true }));
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
  const account = await server.handle.store.getAccount(USER);
  assert.ok(account);
  const deadline = Date.now() + 5000;
  while ((await server.handle.store.senderReputation(account.id, 'promo@good.test')).ham < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await server.handle.store.senderReputation(account.id, 'promo@good.test'), { spam: 1, ham: 2 });
  assert.deepEqual(await server.handle.store.senderReputation(account.id, 'offers@spammer.test'), { spam: 0, ham: 0 });
  // Ham on balance now: with a junk score of 0 another sender's message (score 2) is junk,
  // this sender's (2 − 3) is not.
  await server.handle.store.setJunkScore(account.id, 0);
  await server.send({ from: 'Shop <promo@good.test>', subject: 'Third promo', text: 'x' });
  await server.send({ from: 'news@good.test', subject: 'Other sender', text: 'x' });
  await server.handle.store.setJunkScore(account.id, null);
  assert.ok((await server.mailbox('INBOX')).some((x) => x.raw.includes('Third promo')));
  assert.ok((await server.mailbox('Junk')).some((x) => x.raw.includes('Other sender')));
});

test('marking a message as junk in the webmail teaches the sender, as an IMAP move does', async () => {
  await server.send({ from: 'Deals <deals@good.test>', subject: 'Webmail promo', text: 'x' });
  const web = await Client.login(`http://127.0.0.1:${server.port('http')}`, USER, PASSWORD);
  const { folders } = await web.json<FolderListResponse>('GET', '/api/folders');
  const inbox = folders.find((f) => f.specialUse === 'inbox');
  assert.ok(inbox);
  const page = await web.json<MessagePage>('GET', `/api/folders/${inbox.id}/messages?limit=200`);
  const message = page.items.find((m) => m.subject === 'Webmail promo');
  assert.ok(message);
  await web.json('POST', '/api/messages/junk', { ids: [message.id], junk: true });
  const account = await server.handle.store.getAccount(USER);
  assert.ok(account);
  const deadline = Date.now() + 5000;
  while ((await server.handle.store.senderReputation(account.id, 'deals@good.test')).spam === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await server.handle.store.senderReputation(account.id, 'deals@good.test'), { spam: 1, ham: 0 });
});
