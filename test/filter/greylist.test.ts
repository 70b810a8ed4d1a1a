// Greylisting and the per-IP message rate over real SMTP (nodemailer): an unknown
// (client network, sender, recipient) triplet gets 451 4.7.1, an early retry too, a
// retry after the delay is delivered and the triplet then passes at once; a sender
// passing SPF is never greylisted; too many messages from one IP get 451 4.7.1.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startZones, type TestZones } from './engines.js';
import { smtpError, startFilterServer, type FilterServer } from './server.js';

let zones: TestZones;
let server: FilterServer;

before(async () => {
  // SPF for the sender that authenticates (RFC 7208): the test client may send for it.
  zones = await startZones({}, { 'spf.test': 'v=spf1 ip4:127.0.0.1 -all' });
  server = await startFilterServer({
    STEADYMAIL_DNS_SERVERS: zones.server,
    STEADYMAIL_FILTER_GREYLIST_DELAY_SECONDS: '1',
    STEADYMAIL_FILTER_MAX_MESSAGES_PER_IP_PER_MINUTE: '8',
  });
});

after(async () => {
  await server?.close();
  await zones?.close();
});

test('an unknown triplet is greylisted until the delay has passed, then passes at once', async () => {
  const first = await smtpError(server.send({ from: 'list@unknown.test', subject: 'Greylisted', text: 'x' }));
  assert.equal(first.code, 451);
  assert.match(first.response, /^451 4\.7\.1 Greylisted, please try again in 1 seconds/);
  const early = await smtpError(server.send({ from: 'list@unknown.test', subject: 'Greylisted', text: 'x' }));
  assert.equal(early.code, 451, 'a retry before the delay is still greylisted');
  assert.equal((await server.mailbox('INBOX')).length, 0);

  await new Promise((r) => setTimeout(r, 1100));
  assert.match(await server.send({ from: 'list@unknown.test', subject: 'Greylisted', text: 'x' }), /^250 /);
  assert.match(await server.send({ from: 'list@unknown.test', subject: 'Known now', text: 'x' }), /^250 /, 'a passed triplet is not delayed again');
  const subjects = (await server.mailbox('INBOX')).map((m) => /^Subject: (.*)\r$/m.exec(m.raw)?.[1]);
  assert.deepEqual(subjects, ['Greylisted', 'Known now']);

  // Another recipient makes another triplet.
  const other = await smtpError(server.send({ from: 'list@unknown.test', to: 'bob@filter.test', subject: 'To Bob', text: 'x' }));
  assert.equal(other.code, 451);
});

test('a sender passing SPF is not greylisted', async () => {
  assert.match(await server.send({ from: 'billing@spf.test', subject: 'SPF pass', text: 'x' }), /^250 /);
  const m = (await server.mailbox('INBOX')).find((x) => x.raw.includes('SPF pass'));
  assert.ok(m);
  assert.match(m.raw, /spf=pass/);
});

test('more messages per minute from one IP than allowed get 451 4.7.1', async () => {
  // Five messages were counted above (greylisted ones too); the limit is 8.
  const replies: number[] = [];
  for (let i = 0; i < 5; i++) {
    replies.push(await server.send({ from: 'billing@spf.test', subject: `Burst ${i}`, text: 'x' }).then(() => 250, async (err: unknown) => (err as { responseCode?: number }).responseCode ?? 0));
  }
  assert.deepEqual(replies, [250, 250, 451, 451, 451]);
  const e = await smtpError(server.send({ from: 'billing@spf.test', subject: 'Burst again', text: 'x' }));
  assert.match(e.response, /^451 4\.7\.1 Too many messages from your address/);
});

test('mail from a trusted network is neither greylisted nor annotated', async () => {
  const trusted = await startFilterServer({ STEADYMAIL_DNS_SERVERS: zones.server, STEADYMAIL_FILTER_TRUSTED_NETWORKS: '127.0.0.0/8,::1' });
  try {
    assert.match(await trusted.send({ from: 'script@unknown.test', subject: 'From the web server', text: 'x' }), /^250 /);
    const m = (await trusted.mailbox('INBOX')).find((x) => x.raw.includes('From the web server'));
    assert.ok(m);
    assert.doesNotMatch(m.raw, /^X-Spam-/m);
  } finally {
    await trusted.close();
  }
});
