// ClamAV, real and started here with a one-signature database (engines.ts): a message
// carrying the EICAR test string is refused at DATA with 554 5.7.1 and the signature's
// name, clean mail is delivered; with clamd stopped the sender is told to retry
// (451 4.3.0) by default, or the mail is delivered unscanned with fail_open.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EICAR, startClamd, type Clamd } from './engines.js';
import { smtpError, startFilterServer, type FilterServer } from './server.js';
import { scanWithClamd } from '../../src/filter/clamav.js';

let clamd: Clamd;
let server: FilterServer;

before(async () => {
  clamd = await startClamd();
  server = await startFilterServer({ STEADYMAIL_FILTER_GREYLIST_ENABLED: 'false', STEADYMAIL_FILTER_CLAMAV_SOCKET: clamd.socket });
});

after(async () => {
  await server?.close();
  await clamd?.close();
});

test('the clamd client: INSTREAM in chunks finds the marker anywhere in a large stream', async () => {
  const big = Buffer.concat([Buffer.alloc(300 * 1024, 'a'), Buffer.from(EICAR), Buffer.alloc(10, 'b')]);
  assert.deepEqual(await scanWithClamd({ socket: clamd.socket }, big, 10_000), { clean: false, virus: 'Steadymail-Test-EICAR.UNOFFICIAL' });
  assert.deepEqual(await scanWithClamd({ socket: clamd.socket }, Buffer.from('hello'), 10_000), { clean: true });
});

test('EICAR in an attachment: 554 5.7.1 with the signature name, nothing stored', async () => {
  assert.match(await server.send({ from: 'x@remote.test', subject: 'Invoice', text: 'See attachment.' }), /^250 /);
  const infected = await smtpError(
    server.send({ from: 'x@remote.test', subject: 'Infected', text: 'See attachment.', attachments: [{ filename: 'eicar.com', content: EICAR }] }),
  );
  assert.equal(infected.code, 554);
  assert.match(infected.response, /^554 5\.7\.1 Message contains malware \(Steadymail-Test-EICAR\.UNOFFICIAL\), rejected/);
  const inbox = await server.mailbox('INBOX');
  assert.equal(inbox.some((m) => m.raw.includes('Infected')), false);
  assert.ok(inbox.some((m) => m.raw.includes('Invoice')), 'clean mail is delivered');
});

test('clamd stopped: 451 4.3.0 by default; delivered unscanned with fail_open', async () => {
  await clamd.stop();
  const e = await smtpError(server.send({ from: 'x@remote.test', subject: 'While clamd is down', text: 'x' }));
  assert.equal(e.code, 451);
  assert.match(e.response, /^451 4\.3\.0 Virus scanner unavailable/);
  const status = (await (await fetch(`http://127.0.0.1:${server.port('http')}/status.json`)).json()) as { filter?: { status: string } };
  assert.equal(status.filter?.status, 'degraded');

  const open = await startFilterServer({ STEADYMAIL_FILTER_GREYLIST_ENABLED: 'false', STEADYMAIL_FILTER_CLAMAV_SOCKET: clamd.socket, STEADYMAIL_FILTER_CLAMAV_FAIL_OPEN: 'true' });
  try {
    assert.match(await open.send({ from: 'x@remote.test', subject: 'Unscanned', text: 'x' }), /^250 /);
    const m = (await open.mailbox('INBOX')).find((x) => x.raw.includes('Unscanned'));
    assert.ok(m);
    assert.match(m.raw, /CLAMAV_UNAVAILABLE/);
  } finally {
    await open.close();
  }
});
