// Alias forwarding to other domains, end to end over real sockets: mail arrives at our
// MX over SMTP, the outbound queue delivers the forwarded copy to a loopback
// smtp-server peer found through a dns2 server, with an SRS envelope sender in the
// alias's domain (SPF checked at the "destination" with mailauth); bounces, ours and the
// destination's, reach the original sender; mail failing DMARC p=reject is not forwarded.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Resolver } from 'node:dns/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash } from '@node-rs/argon2';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';
import { createOutboundQueue, type OutboundQueue } from '../../src/smtp/queue/index.js';
import { Srs } from '../../src/sieve/srs.js';
import { PASSWORD, SmtpTalk, inboxOf, silentLogger, startListener } from '../smtp/harness.js';
import { startDns, startMx, type TestMx } from './peers.js';

type SpfCheck = (o: { sender: string; ip: string; helo: string; mta: string; resolver: (name: string, type: string) => Promise<unknown> }) => Promise<{ status: { result: string } }>;
const { spf } = createRequire(import.meta.url)('mailauth/lib/spf') as { spf: SpfCheck };

const srs = new Srs('forwarding-test-secret-0123456789');
let dns: { server: string; close(): Promise<void> };
let peer: TestMx;
let mx: { port: number; close(): Promise<void> };
let queue: OutboundQueue;

/** The same store contents on either backend. */
async function seededStore(driver: 'sqlite' | 'postgres'): Promise<{ store: Store; close(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'steadymail-forwarding-'));
  const db = driver === 'postgres' ? await createTestDatabase() : null;
  const store = db ? await openStore({ driver: 'postgres', url: db.url, dataDir }) : await openStore({ driver: 'sqlite', dataDir });
  const passwordHash = await hash(PASSWORD, { memoryCost: 1024, timeCost: 1, parallelism: 1 });
  await store.createDomain('example.org');
  await store.createDomain('fwd.example');
  await store.createAccount({ address: 'alice@example.org', passwordHash });
  await store.createAccount({ address: 'bob@example.org', passwordHash });
  await store.addAlias('fwd@example.org', ['bob@example.org', 'someone@remote.test']);
  await store.addAlias('out@example.org', ['carol@far.test']);
  await store.addAlias('@fwd.example', ['dest@far.test']);
  return {
    store,
    async close() {
      await store.close();
      await db?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

for (const driver of ['sqlite', 'postgres'] as const) {
  describe(`alias forwarding (${driver})`, () => {
    let env: { store: Store; close(): Promise<void> };
    before(async () => {
      env = await seededStore(driver);
      dns = await startDns({
        mx: { 'far.test': [{ exchange: 'mx.far.test', priority: 10 }], 'origin.test': [{ exchange: 'mx.far.test', priority: 10 }] },
        a: { 'mx.far.test': ['127.0.0.1'] },
        txt: {
          // Our forwarding domains publish SPF for the host the queue sends from.
          'example.org': ['v=spf1 ip4:127.0.0.1 -all'],
          'fwd.example': ['v=spf1 ip4:127.0.0.1 -all'],
          // The original sender's domain authorises only its own server.
          'origin.test': ['v=spf1 ip4:192.0.2.7 -all'],
          'bank.test': ['v=spf1 ip4:192.0.2.1 -all'],
          '_dmarc.bank.test': ['v=DMARC1; p=reject'],
        },
      });
      peer = await startMx();
      mx = await startListener('inbound', env.store, { dnsServers: [dns.server], srs });
      queue = createOutboundQueue({ store: env.store, logger: silentLogger, hostname: 'mx.example.org', dnsServers: [dns.server], port: peer.port, timeoutMs: 5000, srs });
    });

    after(async () => {
      await mx.close();
      await peer.close();
      await dns.close();
      await env.close();
    });

    beforeEach(() => {
      peer.received.length = 0;
      peer.policy = () => undefined;
    });

    function message(from: string, subject: string): string {
      return `From: <${from}>\r\nTo: <someone@example.org>\r\nSubject: ${subject}\r\nDate: Sat, 28 Nov 2026 12:00:00 +0000\r\nMessage-ID: <${subject}@origin.test>\r\n\r\nHello.\r\n`;
    }

    async function smtp(mailFrom: string, rcpts: string[], raw: string): Promise<string> {
      const c = await SmtpTalk.connect(mx.port);
      try {
        await c.reply();
        await c.cmd('EHLO mta.origin.test');
        return await c.send(mailFrom, rcpts, raw);
      } finally {
        c.close();
      }
    }

    /** Runs the queue until it has nothing due. */
    async function drain(): Promise<void> {
      while ((await queue.runOnce()) > 0);
    }

    async function spfAtDestination(sender: string): Promise<string> {
      const resolver = new Resolver();
      resolver.setServers([dns.server]);
      const r = await spf({ sender, ip: '127.0.0.1', helo: 'mx.example.org', mta: 'mx.far.test', resolver: (name, type) => resolver.resolve(name, type) });
      return r.status.result;
    }

    test('an alias to another domain is forwarded with an SRS sender in the alias domain, and SPF passes at the destination', async () => {
      assert.match(await smtp('sender@origin.test', ['out@example.org'], message('sender@origin.test', 'forwarded-1')), /^250/);
      await drain();
      assert.equal(peer.received.length, 1);
      const [copy] = peer.received;
      assert.match(copy!.from, /^SRS0=[A-Z2-7]{4}=[A-Z2-7]{2}=origin\.test=sender@example\.org$/);
      assert.deepEqual(copy!.to, ['carol@far.test']);
      assert.equal(srs.reverse(copy!.from), 'sender@origin.test');
      assert.match(copy!.data, /Subject: forwarded-1/);
      // What the destination's SPF check sees: our domain, our address — pass; the original
      // sender from our address would have failed.
      assert.equal(await spfAtDestination(copy!.from), 'pass');
      assert.equal(await spfAtDestination('sender@origin.test'), 'fail');
    });

    test('a catch-all forwards in its own domain; an alias with local and remote targets delivers locally and forwards the rest', async () => {
      assert.match(await smtp('sender@origin.test', ['anyone@fwd.example', 'fwd@example.org'], message('sender@origin.test', 'forwarded-2')), /^250/);
      await drain();
      const byTo = new Map(peer.received.map((r) => [r.to.join(','), r.from]));
      assert.match(byTo.get('dest@far.test') ?? '', /^SRS0=[A-Z2-7]{4}=[A-Z2-7]{2}=origin\.test=sender@fwd\.example$/);
      // fwd@example.org → bob (local) + someone@remote.test, a domain that does not exist:
      // that copy fails at once and its bounce, too, goes to the original sender.
      const bob = await inboxOf(env.store, 'bob@example.org');
      assert.match((await env.store.blobs.get(bob.at(-1)!.blobId)).toString(), /Subject: forwarded-2/);
      const [failed] = (await env.store.listQueue()).filter((q) => q.recipients.includes('someone@remote.test'));
      assert.match(failed?.mailFrom ?? '', /^SRS0=.*=origin\.test=sender@example\.org$/);
      assert.equal(failed?.state, 'failed');
      const dsn = peer.received.find((r) => r.to.includes('sender@origin.test'));
      assert.equal(dsn?.from, '');
      assert.match(dsn?.data ?? '', /Final-Recipient: rfc822; ?someone@remote\.test/i);
      assert.equal(peer.received.length, 2);
    });

    test('the destination refuses: our bounce goes to the original sender, from the null sender', async () => {
      peer.policy = (rcpt) => (rcpt === 'carol@far.test' ? { code: 550, message: '5.1.1 no such user carol' } : undefined);
      assert.match(await smtp('sender@origin.test', ['out@example.org'], message('sender@origin.test', 'forwarded-3')), /^250/);
      await drain();
      assert.equal(peer.received.length, 1, 'only the bounce arrived');
      const [dsn] = peer.received;
      assert.equal(dsn!.from, '');
      assert.deepEqual(dsn!.to, ['sender@origin.test']);
      assert.match(dsn!.data, /Content-Type: multipart\/report; report-type=delivery-status/i);
      assert.match(dsn!.data, /Final-Recipient: rfc822; ?carol@far\.test/i);
      assert.match(dsn!.data, /Subject: forwarded-3/);
    });

    test('a bounce the destination sends later to the SRS address is passed on to the original sender; a forged SRS address is refused', async () => {
      const rewritten = srs.forward('sender@origin.test', 'example.org');
      const bounce = `From: MAILER-DAEMON@mx.far.test\r\nTo: <${rewritten}>\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: Sat, 28 Nov 2026 12:00:00 +0000\r\n\r\nThe mail to carol@far.test could not be delivered.\r\n`;
      assert.match(await smtp('', [rewritten], bounce), /^250/);
      await drain();
      assert.equal(peer.received.length, 1);
      assert.equal(peer.received[0]!.from, '');
      assert.deepEqual(peer.received[0]!.to, ['sender@origin.test']);
      const forged = rewritten.replace(/^SRS0=[A-Z2-7]{4}/, 'SRS0=AAAA');
      assert.match(await smtp('', [forged], bounce), /^550 5\.1\.1/);
      // A bounce to an SRS address standing for a local account lands in its INBOX.
      const before = (await inboxOf(env.store, 'alice@example.org')).length;
      assert.match(await smtp('', [srs.forward('alice@example.org', 'fwd.example')], bounce), /^250/);
      assert.equal((await inboxOf(env.store, 'alice@example.org')).length, before + 1);
    });

    test('mail failing DMARC p=reject is not forwarded (550 5.7.1), but still delivered where it is not forwarded', async () => {
      const queued = (await env.store.listQueue()).length;
      assert.match(await smtp('alerts@bank.test', ['out@example.org'], message('alerts@bank.test', 'phish-1')), /^550 5\.7\.1 .*bank\.test.*cannot be forwarded/);
      assert.equal((await env.store.listQueue()).length, queued);
      // Local delivery keeps its own rule (smtp.dmarc_reject off: marked, delivered).
      assert.match(await smtp('alerts@bank.test', ['alice@example.org'], message('alerts@bank.test', 'phish-2')), /^250/);
      await drain();
      assert.equal(peer.received.length, 0);
    });

    test('the null sender stays null when forwarded, and our own SRS sender is not wrapped again', async () => {
      assert.match(await smtp('', ['out@example.org'], message('MAILER-DAEMON@origin.test', 'forwarded-bounce')), /^250/);
      const mine = srs.forward('sender@origin.test', 'example.org');
      // A copy we forwarded coming back (a loop through another forwarder) keeps its sender:
      // SRS at the same domain is not applied twice, and the Received count ends a real loop.
      assert.match(await smtp(mine, ['out@example.org'], message('sender@origin.test', 'forwarded-again')), /^250/);
      await drain();
      const from = new Map(peer.received.map((r) => [/Subject: (\S+)/.exec(r.data)?.[1], r.from]));
      assert.equal(from.get('forwarded-bounce'), '');
      assert.equal(from.get('forwarded-again'), mine);
      const looped = 'Received: from x by y; Sat, 28 Nov 2026 12:00:00 +0000\r\n'.repeat(50) + message('sender@origin.test', 'looping');
      assert.match(await smtp('sender@origin.test', ['out@example.org'], looped), /^554 5\.4\.6/);
    });
  });
}
