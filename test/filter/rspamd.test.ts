// rspamd, real and started here (engines.ts): its /checkv2 action decides — reject is
// 550 5.7.1 at DATA, "add header" and "rewrite subject" go to Junk (with rspamd's
// Subject), clean mail to INBOX; a move into Junk over IMAP is learnt by rspamd's
// controller; with rspamd stopped mail still arrives (fail open) and the monitoring
// shows the filter degraded, or the sender is told to retry when fail_open is off.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { GTUBE_ADD_HEADER, GTUBE_REJECT, startRspamd, type Rspamd } from './engines.js';
import { PASSWORD, USER, smtpError, startFilterServer, type FilterServer } from './server.js';

const GTUBE_REWRITE_SUBJECT = 'ZJS*C4JDBQADN1.NSBN3*2IDNEN*' + 'GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

let rspamd: Rspamd;
let server: FilterServer;

before(async () => {
  rspamd = await startRspamd();
  server = await startFilterServer({
    STEADYMAIL_FILTER_GREYLIST_ENABLED: 'false',
    STEADYMAIL_FILTER_RSPAMD_URL: rspamd.url,
    STEADYMAIL_FILTER_RSPAMD_CONTROLLER_URL: rspamd.controllerUrl,
    STEADYMAIL_FILTER_RSPAMD_PASSWORD: rspamd.password,
  });
});

after(async () => {
  await server?.close();
  await rspamd?.close();
});

const LETTER = 'Dear Alice,\n\nthe minutes of the garden committee meeting are attached below. We agreed on new tomatoes, a compost bin and a rota for watering in August.\n\nRegards,\nBob';

async function statusJson(): Promise<{ filter?: { status: string; engines: Record<string, { ok: boolean; since: string }> } }> {
  const r = await fetch(`http://127.0.0.1:${server.port('http')}/status.json`);
  return (await r.json()) as { filter?: { status: string; engines: Record<string, { ok: boolean; since: string }> } };
}

test('clean mail is checked by rspamd and delivered to INBOX with its score', async () => {
  assert.match(await server.send({ from: 'bob@neighbours.test', subject: 'Garden committee', text: LETTER }), /^250 /);
  const m = (await server.mailbox('INBOX')).find((x) => x.raw.includes('Garden committee'));
  assert.ok(m);
  assert.match(m.raw, /^X-Spam-Status: No, score=-?\d+\.\d\d required=5\.00/m);
  assert.doesNotMatch(m.raw, /RSPAMD_UNAVAILABLE/);
  assert.equal((await statusJson()).filter?.status, 'ok');
});

test('GTUBE: rspamd says reject, the sender gets 550 5.7.1 at DATA', async () => {
  const e = await smtpError(server.send({ from: 'spam@spammer.test', subject: 'GTUBE', text: `Test.\n${GTUBE_REJECT}\n` }));
  assert.equal(e.code, 550);
  assert.match(e.response, /^550 5\.7\.1 Gtube pattern/);
  assert.equal((await server.mailbox('Junk')).length, 0);
});

test('GTUBE with on_reject = "junk": delivered to Junk instead of refused', async () => {
  const lenient = await startFilterServer({
    STEADYMAIL_FILTER_GREYLIST_ENABLED: 'false',
    STEADYMAIL_FILTER_RSPAMD_URL: rspamd.url,
    STEADYMAIL_FILTER_RSPAMD_ON_REJECT: 'junk',
  });
  try {
    assert.match(await lenient.send({ from: 'spam@spammer.test', subject: 'GTUBE kept', text: `Test.\n${GTUBE_REJECT}\n` }), /^250 /);
    const m = (await lenient.mailbox('Junk')).find((x) => x.raw.includes('GTUBE kept'));
    assert.ok(m);
    assert.match(m.raw, /^X-Spam-Flag: YES\r$/m);
  } finally {
    await lenient.close();
  }
});

test('"add header" goes to Junk; "rewrite subject" to Junk with the Subject rspamd wrote', async () => {
  assert.match(await server.send({ from: 'spam@spammer.test', subject: 'Add header', text: `Test.\n${GTUBE_ADD_HEADER}\n` }), /^250 /);
  assert.match(await server.send({ from: 'spam@spammer.test', subject: 'Rewrite me', text: `Test.\n${GTUBE_REWRITE_SUBJECT}\n` }), /^250 /);
  const junk = await server.mailbox('Junk');
  const added = junk.find((x) => x.raw.includes('Subject: Add header'));
  assert.ok(added, 'add header → Junk');
  assert.match(added.raw, /^X-Spam-Status: Yes, .*GTUBE/m);
  const rewritten = junk.find((x) => /^Subject: .*Rewrite me/m.test(x.raw));
  assert.ok(rewritten, 'rewrite subject → Junk');
  assert.match(rewritten.raw, /^Subject: \*\*\* SPAM \*\*\* Rewrite me\r$/m);
  assert.equal(rewritten.raw.match(/^Subject:/gm)?.length, 1);
  assert.equal((await server.mailbox('INBOX')).some((x) => /Add header|Rewrite me/.test(x.raw)), false);
});

test('moving a message into Junk over IMAP trains rspamd (learn_spam seen by its controller)', async () => {
  const before = await rspamd.learned();
  const client = new ImapFlow({ host: '127.0.0.1', port: server.port('imap'), secure: false, auth: { user: USER, pass: PASSWORD }, tls: { rejectUnauthorized: false }, logger: false });
  await client.connect();
  try {
    const lock = await client.getMailboxLock('INBOX');
    try {
      const found = await client.search({ subject: 'Garden committee' }, { uid: true });
      assert.ok(found && found.length === 1);
      assert.ok(await client.messageMove(found, 'Junk', { uid: true }));
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
  const deadline = Date.now() + 10_000;
  while ((await rspamd.learned()) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await rspamd.learned(), before + 1);
});

test('rspamd stopped: mail is still delivered (fail open), marked, and the status shows the filter degraded', async () => {
  await rspamd.stop();
  assert.match(await server.send({ from: 'bob@neighbours.test', subject: 'While rspamd is down', text: LETTER }), /^250 /);
  const m = (await server.mailbox('INBOX')).find((x) => x.raw.includes('While rspamd is down'));
  assert.ok(m);
  assert.match(m.raw, /RSPAMD_UNAVAILABLE/);
  const status = await statusJson();
  assert.equal(status.filter?.status, 'degraded');
  assert.equal(status.filter?.engines['rspamd']?.ok, false);
  assert.doesNotMatch(JSON.stringify(status), /127\.0\.0\.1|ECONNREFUSED/, 'the public page names no internal address');
  const metrics = await (await fetch(`http://127.0.0.1:${server.port('http')}/metrics`)).text();
  assert.match(metrics, /^steadymail_filter_engine_up\{engine="rspamd"\} 0$/m);
});

test('rspamd stopped with fail_open = false: 451 4.3.0, the sender retries later', async () => {
  const strict = await startFilterServer({
    STEADYMAIL_FILTER_GREYLIST_ENABLED: 'false',
    STEADYMAIL_FILTER_RSPAMD_URL: rspamd.url,
    STEADYMAIL_FILTER_RSPAMD_FAIL_OPEN: 'false',
  });
  try {
    const e = await smtpError(strict.send({ from: 'bob@neighbours.test', subject: 'Strict', text: LETTER }));
    assert.equal(e.code, 451);
    assert.match(e.response, /^451 4\.3\.0 Spam filter unavailable/);
    assert.equal((await strict.mailbox('INBOX')).length, 0);
  } finally {
    await strict.close();
  }
});
