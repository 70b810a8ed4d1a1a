// steadymail import imap / pop3 against a real source: a second Steadymail server
// (its own data directory) on 127.0.0.1. Folders, flags, keywords, internal dates and
// bytes are compared; re-runs import only new mail; a connection cut in the middle of
// the transfer is reconnected and nothing is lost or duplicated.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openData, tempDir } from './helpers.js';
import { cliIn } from './cli-inprocess.js';
import { PASSWORD as IMAP_PASSWORD, startServer, type Harness as ImapHarness } from '../imap/harness.js';
import { harness as pop3Harness, PASSWORD as POP3_PASSWORD, testCertificate, USER as POP3_USER, type Harness as Pop3Harness } from '../pop3/harness.js';
import type { Store } from '../../src/store/store.js';
import type { ImportSummary } from '../../src/ops/import/target.js';
import type { SystemFlag } from '../../src/store/types.js';

let dir: string;
before(() => {
  dir = tempDir();
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function newTarget(name: string): Promise<string> {
  const data = join(dir, name);
  const store = await openData(data);
  await store.createDomain('example.org');
  await store.createAccount({ address: 'alice@example.org', passwordHash: 'x' });
  await store.close();
  return data;
}

function raw(n: number, pad = 0): Buffer {
  return Buffer.from(`From: s${n}@example.net\r\nTo: alice@example.com\r\nSubject: source ${n}\r\nMessage-ID: <src-${n}@example.net>\r\n\r\nBody ${n}\r\n${randomBytes(pad).toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`);
}

async function put(store: Store, mailboxId: number, n: number, flags: SystemFlag[], keywords: string[], date: Date, pad = 0): Promise<void> {
  const blob = await store.blobs.put(raw(n, pad));
  await store.appendMessage(mailboxId, { blobId: blob.id, size: blob.size, internalDate: date, flags, keywords, structure: {} });
}

type Snapshot = Record<string, Array<{ body: string; flags: string[]; keywords: string[]; date: number }>>;

/** Every mailbox with messages, as (bytes, flags, keywords, date). */
async function snapshot(store: Store, address: string): Promise<Snapshot> {
  const account = (await store.getAccount(address))!;
  const out: Snapshot = {};
  for (const box of await store.listMailboxes(account.id)) {
    const msgs = await store.listMessages(box.id);
    if (msgs.length === 0) continue;
    out[box.name] = [];
    for (const m of msgs) out[box.name]!.push({ body: (await store.blobs.get(m.blobId)).toString('latin1'), flags: m.flags, keywords: m.keywords, date: m.internalDate.getTime() });
  }
  return out;
}

/** A TCP relay to `port` that cuts its first connection after `cutAfter` bytes from the server. */
async function cuttingProxy(port: number, cutAfter: number): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const first = connections++ === 0;
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    let relayed = 0;
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      relayed += d.length;
      if (first && relayed > cutAfter) {
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function imapArgs(port: number, extra: string[] = []): string[] {
  return ['import', 'imap', '--account', 'alice@example.org', '--host', '127.0.0.1', '--port', String(port), '--security', 'plain', '--user', 'alice@example.com', '--password-stdin', '--json', ...extra];
}

let source: ImapHarness;
before(async () => {
  source = await startServer();
  const s = source.store;
  const id = source.account.id;
  const inbox = (await s.getMailbox(id, 'INBOX'))!.id;
  const work = await s.createMailbox(id, 'Work');
  const projects = await s.createMailbox(id, 'Work/Projects');
  const sent = (await s.getMailbox(id, 'Sent'))!.id;
  await put(s, inbox, 1, ['\\Seen'], [], new Date('2019-05-01T08:00:00Z'));
  await put(s, inbox, 2, ['\\Flagged', '\\Answered'], ['$Forwarded', 'todo'], new Date('2019-05-02T08:00:00Z'));
  await put(s, inbox, 3, [], [], new Date('2019-05-03T08:00:00Z'));
  await put(s, work.id, 4, ['\\Seen', '\\Draft'], ['$Label1'], new Date('2018-01-01T00:00:00Z'));
  await put(s, projects.id, 5, ['\\Deleted'], [], new Date('2017-07-07T07:07:07Z'));
  await put(s, sent, 6, ['\\Seen'], [], new Date('2020-02-02T02:02:02Z'));
  // A big one so that the transfer takes more than one read.
  await put(s, inbox, 7, [], [], new Date('2019-05-04T08:00:00Z'), 200_000);
});
after(async () => {
  await source.close();
});

test('IMAP: every folder with flags, keywords and internal dates; a re-run picks up only new mail; no journal, still no duplicates', async () => {
  const data = await newTarget('imap');
  const r = await cliIn(data, imapArgs(source.port), `${IMAP_PASSWORD}\n`);
  assert.equal(r.code, 0, r.err + r.out);
  const summary = JSON.parse(r.out) as ImportSummary;
  assert.equal(summary.imported, 7);
  const expected = await snapshot(source.store, 'alice@example.com');
  let store = await openData(data);
  try {
    assert.deepEqual(await snapshot(store, 'alice@example.org'), expected);
  } finally {
    await store.close();
  }

  // New mail on the source: only it is fetched and imported.
  const inbox = (await source.store.getMailbox(source.account.id, 'INBOX'))!.id;
  await put(source.store, inbox, 8, ['\\Seen'], [], new Date('2021-01-01T00:00:00Z'));
  const second = await cliIn(data, imapArgs(source.port), `${IMAP_PASSWORD}\n`);
  assert.equal(second.code, 0, second.err);
  const s2 = JSON.parse(second.out) as ImportSummary;
  assert.equal(s2.imported, 1);
  assert.equal(s2.duplicates, 0, 'what the journal records is not fetched again');

  // The journal lost: everything is fetched again, nothing is imported twice.
  await rm(join(data, 'import'), { recursive: true });
  const third = await cliIn(data, imapArgs(source.port), `${IMAP_PASSWORD}\n`);
  const s3 = JSON.parse(third.out) as ImportSummary;
  assert.equal(s3.imported, 0);
  assert.equal(s3.duplicates, 8);
  store = await openData(data);
  try {
    assert.deepEqual(await snapshot(store, 'alice@example.org'), await snapshot(source.store, 'alice@example.com'));
  } finally {
    await store.close();
  }
  const wrong = await cliIn(data, imapArgs(source.port), 'not the password\n');
  assert.equal(wrong.code, 65, wrong.err);
  assert.match(wrong.err, /refused the login/);
  const check = await cliIn(data, ['check', '--structure', 'full']);
  assert.equal(check.code, 0, check.out + check.err);
});

test('IMAP: a connection cut in the middle of a body transfer is reconnected; every message arrives once', async () => {
  const data = await newTarget('imap-cut');
  const proxy = await cuttingProxy(source.port, 60_000);
  try {
    const r = await cliIn(data, imapArgs(proxy.port, ['--folder', 'INBOX']), `${IMAP_PASSWORD}\n`);
    assert.equal(r.code, 0, r.err + r.out);
    const summary = JSON.parse(r.out) as ImportSummary;
    assert.ok(summary.reconnects >= 1, 'the import reconnected');
    assert.ok(proxy.connections() >= 2);
    const store = await openData(data);
    try {
      const got = await snapshot(store, 'alice@example.org');
      const want = await snapshot(source.store, 'alice@example.com');
      assert.deepEqual(Object.keys(got), ['INBOX']);
      assert.deepEqual(got['INBOX'], want['INBOX']);
    } finally {
      await store.close();
    }
  } finally {
    await proxy.close();
  }
  // A source that stays unreachable: the import gives up with exit 75.
  const dead = net.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const port = (dead.address() as net.AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  const down = await cliIn(data, imapArgs(port, ['--retries', '1']), `${IMAP_PASSWORD}\n`);
  assert.equal(down.code, 75, down.err);
});

let pop: Pop3Harness;
before(async () => {
  pop = await pop3Harness();
  await pop.deliver(Buffer.from('Received: from mx by pop.example.org; Tue, 3 Mar 2020 10:00:00 +0000\r\nSubject: pop one\r\n\r\nfirst\r\n.leading dot line\r\n'));
  await pop.deliver(Buffer.from(`Subject: pop two\r\nDate: Wed, 4 Mar 2020 11:00:00 +0100\r\n\r\n${'second line\r\n'.repeat(5000)}`));
});
after(async () => {
  await pop.close();
});

function popArgs(port: number, extra: string[] = []): string[] {
  return ['import', 'pop3', '--account', 'alice@example.org', '--host', '127.0.0.1', '--port', String(port), '--security', 'plain', '--user', POP3_USER, '--password-stdin', '--json', ...extra];
}

test('POP3: messages copied byte for byte, mail left on the source, dates from Received/Date, re-run and a cut connection never duplicate', async () => {
  const data = await newTarget('pop3');
  const proxy = await cuttingProxy(pop.port, 30_000);
  try {
    const r = await cliIn(data, popArgs(proxy.port, ['--mailbox', 'From POP']), `${POP3_PASSWORD}\n`);
    assert.equal(r.code, 0, r.err + r.out);
    const summary = JSON.parse(r.out) as ImportSummary;
    assert.equal(summary.imported, 2);
    assert.ok(summary.reconnects >= 1, 'the cut connection was reconnected');
  } finally {
    await proxy.close();
  }
  assert.equal((await pop.store.listMessages(pop.inboxId)).length, 2, 'the source keeps its mail');
  const sourceBodies = await Promise.all((await pop.store.listMessages(pop.inboxId)).map(async (m) => (await pop.store.blobs.get(m.blobId)).toString('latin1')));
  const store = await openData(data);
  try {
    const got = (await snapshot(store, 'alice@example.org'))['From POP']!;
    assert.deepEqual(got.map((m) => m.body), sourceBodies);
    assert.deepEqual(got.map((m) => new Date(m.date).toISOString()), ['2020-03-03T10:00:00.000Z', '2020-03-04T10:00:00.000Z']);
  } finally {
    await store.close();
  }
  await pop.deliver(Buffer.from('Subject: pop three\r\n\r\nthird\r\n'));
  const again = await cliIn(data, popArgs(pop.port, ['--mailbox', 'From POP']), `${POP3_PASSWORD}\n`);
  assert.equal(again.code, 0, again.err);
  const s2 = JSON.parse(again.out) as ImportSummary;
  assert.equal(s2.imported, 1);
  assert.equal(s2.duplicates, 2, 'another port is another journal: the two already imported are fetched and recognised');
  const third = JSON.parse((await cliIn(data, popArgs(pop.port, ['--mailbox', 'From POP']), `${POP3_PASSWORD}\n`)).out) as ImportSummary;
  assert.deepEqual([third.imported, third.duplicates], [0, 0], 'the journal spares fetching what was imported');
  const wrong = await cliIn(data, popArgs(pop.port), 'wrong\n');
  assert.equal(wrong.code, 65, wrong.err);
});

test('POP3 over STLS and over implicit TLS (the server allows no login without TLS); an unverifiable certificate is refused without --insecure', async () => {
  const tls = await testCertificate();
  const tlsOnly = { tls, allowPlaintext: (_a: string, secure: boolean) => secure };
  const stls = await pop.startServer(tlsOnly);
  const implicit = await pop.startServer({ ...tlsOnly, implicitTls: true });
  const data = await newTarget('pop3-tls');
  const plain = await cliIn(data, popArgs(stls.port, ['--retries', '0']), `${POP3_PASSWORD}\n`);
  assert.equal(plain.code, 65, 'a login without TLS is refused by this server');
  const viaStls = await cliIn(data, [...popArgs(stls.port), '--security', 'starttls', '--insecure', '--mailbox', 'TLS'], `${POP3_PASSWORD}\n`);
  assert.equal(viaStls.code, 0, viaStls.err);
  const n = (await pop.store.listMessages(pop.inboxId)).length;
  assert.equal((JSON.parse(viaStls.out) as ImportSummary).imported, n, viaStls.out);
  const unverified = await cliIn(data, [...popArgs(implicit.port), '--security', 'tls', '--retries', '0', '--mailbox', 'TLS2'], `${POP3_PASSWORD}\n`);
  assert.equal(unverified.code, 75, unverified.err);
  assert.match(unverified.err, /certificate/);
  const viaTls = await cliIn(data, [...popArgs(implicit.port), '--security', 'tls', '--insecure', '--mailbox', 'TLS2'], `${POP3_PASSWORD}\n`);
  assert.equal(viaTls.code, 0, viaTls.err);
  assert.equal((JSON.parse(viaTls.out) as ImportSummary).imported, n);
});

test('IMAP over STARTTLS and implicit TLS (no login without TLS on that server)', async () => {
  const tls = await testCertificate();
  const data = await newTarget('imap-tls');
  for (const [mode, overrides] of [
    ['starttls', { tls, allowPlaintext: (_ip: string, secure: boolean) => secure }],
    ['tls', { tls, implicitTls: true }],
  ] as const) {
    const h = await startServer(overrides);
    try {
      const inbox = (await h.store.getMailbox(h.account.id, 'INBOX'))!.id;
      await put(h.store, inbox, mode === 'tls' ? 91 : 92, ['\\Seen'], [], new Date('2022-02-22T22:22:22Z'));
      const r = await cliIn(data, [...imapArgs(h.port), '--security', mode, '--insecure'], `${IMAP_PASSWORD}\n`);
      assert.equal(r.code, 0, r.err);
      assert.equal((JSON.parse(r.out) as ImportSummary).imported, 1, mode);
    } finally {
      await h.close();
    }
  }
});
