// SPF, DKIM and DMARC verification of inbound mail against a real DNS server on
// loopback (dns2) holding the test records, with a fixture signed by mailauth.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { generateKeyPairSync } from 'node:crypto';
import { SmtpTalk, inboxOf, startListener, testStore, type TestEnv } from './harness.js';
import { startDns, type TestDns } from './dns-server.js';

type DkimSign = (input: Buffer, options: object) => Promise<{ signatures: string }>;
const { dkimSign } = createRequire(import.meta.url)('mailauth/lib/dkim/sign') as { dkimSign: DkimSign };

let env: TestEnv;
let dns: TestDns;
let privateKey: string;

before(async () => {
  env = await testStore();
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicDer = keys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  dns = await startDns({
    'signed.example': 'v=spf1 ip4:127.0.0.1 -all',
    'sel._domainkey.signed.example': `v=DKIM1; k=rsa; p=${publicDer}`,
    '_dmarc.signed.example': 'v=DMARC1; p=reject',
    'bank.example': 'v=spf1 ip4:192.0.2.1 -all',
    '_dmarc.bank.example': 'v=DMARC1; p=reject',
    'trial.example': 'v=spf1 -all',
    '_dmarc.trial.example': 'v=DMARC1; p=reject; pct=0',
  });
});
after(async () => {
  await dns.close();
  await env.close();
});

function message(from: string, subject: string, body = 'Signed body.\r\n'): Buffer {
  return Buffer.from(`From: <${from}>\r\nTo: <alice@example.org>\r\nSubject: ${subject}\r\nDate: Sat, 28 Nov 2026 12:00:00 +0000\r\nMessage-ID: <${subject}@signed.example>\r\n\r\n${body}`);
}

async function signed(subject: string): Promise<Buffer> {
  const raw = message('news@signed.example', subject);
  const { signatures } = await dkimSign(raw, {
    canonicalization: 'relaxed/relaxed',
    algorithm: 'rsa-sha256',
    signatureData: [{ signingDomain: 'signed.example', selector: 'sel', privateKey }],
  });
  return Buffer.concat([Buffer.from(signatures), raw]);
}

async function deliver(port: number, mailFrom: string, raw: Buffer): Promise<string> {
  const c = await SmtpTalk.connect(port);
  await c.reply();
  await c.cmd('EHLO mta.signed.example');
  const r = await c.send(mailFrom, ['alice@example.org'], raw.toString());
  c.close();
  return r;
}

async function lastHeaders(): Promise<string> {
  const m = (await inboxOf(env.store, 'alice@example.org')).at(-1)!;
  const text = (await env.store.blobs.get(m.blobId)).toString();
  return text.slice(0, text.indexOf('\r\n\r\n'));
}

test('a DKIM-signed message from an SPF-authorised IP: spf, dkim and dmarc pass', async () => {
  const mx = await startListener('inbound', env.store, { dnsServers: [dns.server] });
  assert.match(await deliver(mx.port, 'news@signed.example', await signed('good')), /^250/);
  await mx.close();
  const h = await lastHeaders();
  assert.match(h, /Authentication-Results: mx\.example\.org;/);
  assert.match(h, /dkim=pass header\.i=@signed\.example header\.s=sel/);
  assert.match(h, /spf=pass[^;]*smtp\.mailfrom=news@signed\.example/);
  assert.match(h, /dmarc=pass[^;]*header\.from=signed\.example/);
  assert.match(h, /Received-SPF: pass/);
});

test('a forged Authentication-Results claiming our authserv-id is removed before ours is added', async () => {
  const mx = await startListener('inbound', env.store, { dnsServers: [dns.server] });
  const forged = Buffer.concat([Buffer.from('Authentication-Results: mx.example.org; dkim=pass header.d=bank.example\r\n'), message('alerts@bank.example', 'forged-ar')]);
  assert.match(await deliver(mx.port, 'alerts@bank.example', forged), /^250/);
  await mx.close();
  const h = await lastHeaders();
  assert.equal(h.match(/^Authentication-Results:/gm)?.length, 1);
  assert.doesNotMatch(h, /dkim=pass/);
});

test('a tampered body fails DKIM; SPF still passes, so DMARC passes on SPF alignment', async () => {
  const mx = await startListener('inbound', env.store, { dnsServers: [dns.server] });
  const raw = Buffer.from((await signed('tampered')).toString().replace('Signed body.', 'Changed body.'));
  assert.match(await deliver(mx.port, 'news@signed.example', raw), /^250/);
  await mx.close();
  const h = await lastHeaders();
  assert.match(h, /dkim=(?:fail|neutral)/);
  assert.match(h, /dmarc=pass/);
});

test('DMARC p=reject with failing alignment: marked by default, 550 5.7.1 when enforced', async () => {
  const marking = await startListener('inbound', env.store, { dnsServers: [dns.server] });
  assert.match(await deliver(marking.port, 'alerts@bank.example', message('alerts@bank.example', 'phish-1')), /^250/);
  await marking.close();
  const h = await lastHeaders();
  assert.match(h, /spf=fail/);
  assert.match(h, /dmarc=fail[^;]*p=REJECT/);

  const enforcing = await startListener('inbound', env.store, { dnsServers: [dns.server], dmarcRejectEnforced: true });
  const before = (await inboxOf(env.store, 'alice@example.org')).length;
  assert.match(await deliver(enforcing.port, 'alerts@bank.example', message('alerts@bank.example', 'phish-2')), /^550 5\.7\.1 .*bank\.example/);
  // pct=0 (RFC 7489 6.3): the domain is trying the policy out on none of its mail.
  assert.match(await deliver(enforcing.port, 'x@trial.example', message('x@trial.example', 'trial')), /^250/);
  // A passing message still goes through the enforcing listener.
  assert.match(await deliver(enforcing.port, 'news@signed.example', await signed('good-2')), /^250/);
  await enforcing.close();
  assert.equal((await inboxOf(env.store, 'alice@example.org')).length, before + 2);
});
