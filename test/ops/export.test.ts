// steadymail export mbox / maildir, while mail keeps arriving: the export is one
// snapshot per account and changes nothing in the store. Imported into a fresh store
// (SQLite and PostgreSQL), it gives back the same bytes, flags, keywords, dates and
// folder tree; Python's mailbox module parses the mbox files; Dovecot (Debian's) serves
// the Maildir with the same messages, flags, UIDs and UIDVALIDITY.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';
import type { ExportSummary } from '../../src/ops/export/index.js';
import type { ImportSummary } from '../../src/ops/import/target.js';
import { cliIn } from './cli-inprocess.js';
import { deliver, rawMessage, tempDir } from './helpers.js';
import { startDovecot, type Dovecot } from './dovecot.js';
import { indexMessage, toStoredStructure } from '../../src/mime/index.js';
import type { SystemFlag } from '../../src/store/types.js';

let dir: string;
before(() => {
  dir = tempDir();
  chmodSync(dir, 0o755);
});
after(() => (process.env.KEEP ? undefined : rmSync(dir, { recursive: true, force: true })));

interface Sample {
  mailbox: string;
  raw: string;
  flags: SystemFlag[];
  keywords: string[];
  date: string;
}

const MAILBOXES = ['Archive', 'Archive/2024', 'Entwürfe', 'Work & Play', 'Notes.old'];

const SAMPLES: Sample[] = [
  { mailbox: 'INBOX', raw: 'Return-Path: <bounce@example.net>\r\nFrom: a@example.net\r\nSubject: one\r\n\r\nFrom the start of a line\r\n>From quoted once\r\n>>From quoted twice\r\n', flags: ['\\Seen'], keywords: [], date: '2019-01-02T03:04:05Z' },
  { mailbox: 'INBOX', raw: 'From: b@example.net\r\nSubject: two\r\n\r\nplain body\r\n', flags: [], keywords: [], date: '2019-02-02T03:04:05Z' },
  { mailbox: 'INBOX', raw: 'From: c@example.net\r\nSubject: =?utf-8?q?gr=C3=BC=C3=9Fe?=\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße, 8-bit body\r\n\r\n\r\nafter blank lines\r\n', flags: ['\\Answered', '\\Flagged'], keywords: ['$Label1', 'project-x'], date: '2020-05-06T07:08:09Z' },
  { mailbox: 'INBOX', raw: 'From: d@example.net\r\nSubject: header only\r\n', flags: ['\\Draft'], keywords: [], date: '2020-06-06T06:06:06Z' },
  { mailbox: 'Archive', raw: 'From: e@example.net\r\nSubject: archived\r\n\r\nold\r\n', flags: ['\\Seen', '\\Deleted'], keywords: ['$Forwarded'], date: '2015-12-31T23:59:59Z' },
  { mailbox: 'Archive/2024', raw: 'From: f@example.net\r\nSubject: nested\r\n\r\n' + 'long line '.repeat(2000) + '\r\n', flags: ['\\Seen'], keywords: ['project-x'], date: '2024-02-29T12:00:00Z' },
  { mailbox: 'Entwürfe', raw: 'From: g@example.net\r\nSubject: draft\r\n\r\nEntwurf\r\n', flags: ['\\Draft', '\\Seen'], keywords: [], date: '2021-03-03T03:03:03Z' },
  { mailbox: 'Work & Play', raw: 'From: h@example.net\r\nSubject: ampersand\r\n\r\nbody\r\n', flags: [], keywords: ['$Label2'], date: '2022-04-04T04:04:04Z' },
  { mailbox: 'Notes.old', raw: 'From: i@example.net\r\nSubject: dotted\r\n\r\nbody\r\n', flags: ['\\Seen'], keywords: [], date: '2023-05-05T05:05:05Z' },
];

type Driver = 'sqlite' | 'postgres';

async function openFresh(driver: Driver, data: string): Promise<{ store: Store; env: Record<string, string>; drop: () => Promise<void> }> {
  if (driver === 'sqlite') return { store: await openStore({ driver: 'sqlite', dataDir: data }), env: {}, drop: async () => undefined };
  const db = await createTestDatabase();
  return { store: await openStore({ driver: 'postgres', url: db.url, dataDir: data }), env: { STEADYMAIL_STORE_DRIVER: 'postgres', STEADYMAIL_STORE_URL: db.url }, drop: db.drop };
}

async function fill(store: Store): Promise<void> {
  await store.createDomain('example.org');
  const alice = await store.createAccount({ address: 'alice@example.org', passwordHash: 'x' });
  const bob = await store.createAccount({ address: 'bob@example.org', passwordHash: 'y' });
  for (const name of MAILBOXES) if (!(await store.getMailbox(alice.id, name))) await store.createMailbox(alice.id, name);
  for (const s of SAMPLES) {
    const box = (await store.getMailbox(alice.id, s.mailbox))!;
    const raw = Buffer.from(s.raw, 'utf8');
    const blob = await store.blobs.put(raw);
    await store.appendMessage(box.id, { blobId: blob.id, size: blob.size, internalDate: new Date(s.date), flags: s.flags, keywords: s.keywords, structure: toStoredStructure(indexMessage(raw)) });
  }
  const bobInbox = (await store.getMailbox(bob.id, 'INBOX'))!;
  for (let i = 1; i <= 3; i++) await deliver(store, bobInbox.id, rawMessage(i));
}

type View = Record<string, Array<{ raw: string; flags: string[]; date: number }>>;

/** Every non-empty mailbox of an account: messages by bytes, flags and keywords together, dates to the second. */
async function view(store: Store, address: string): Promise<View> {
  const account = (await store.getAccount(address))!;
  const out: View = {};
  for (const box of await store.listMailboxes(account.id)) {
    const msgs = [];
    for (const m of await store.listMessages(box.id, { withoutStructure: true })) {
      msgs.push({ raw: (await store.blobs.get(m.blobId)).toString('latin1'), flags: [...m.flags, ...m.keywords].sort(), date: Math.floor(m.internalDate.getTime() / 1000) });
    }
    if (msgs.length > 0) out[box.name] = msgs.sort((a, b) => (a.raw < b.raw ? -1 : a.raw > b.raw ? 1 : 0));
  }
  return out;
}

/** UIDs, UIDVALIDITY and modseqs of every mailbox: what an export must not change. */
async function state(store: Store, address: string): Promise<unknown> {
  const account = (await store.getAccount(address))!;
  const boxes = [];
  for (const box of await store.listMailboxes(account.id)) {
    const msgs = (await store.listMessages(box.id, { withoutStructure: true })).map((m) => [m.uid, m.modseq, m.flags, m.keywords]);
    boxes.push({ ...box, msgs });
  }
  return { account, boxes };
}

async function roundTrip(driver: Driver, format: 'mbox' | 'maildir'): Promise<void> {
  const data = join(dir, `${driver}-${format}-source`);
  const source = await openFresh(driver, data);
  const out = join(dir, `${driver}-${format}-out`);
  try {
    await fill(source.store);
    const want = await view(source.store, 'alice@example.org');
    const before = await state(source.store, 'alice@example.org');
    // Mail keeps arriving for bob while alice and bob are exported.
    const bobInbox = (await source.store.getMailbox((await source.store.getAccount('bob@example.org'))!.id, 'INBOX'))!;
    let stop = false;
    let n = 100;
    const delivering = (async () => {
      while (!stop) await deliver(source.store, bobInbox.id, rawMessage(n++));
    })();
    let r;
    try {
      r = await cliIn(data, ['export', format, '--all', '--json', out], '', source.env);
    } finally {
      stop = true;
      await delivering;
    }
    assert.equal(r.code, 0, r.err);
    const summary = JSON.parse(r.out) as ExportSummary;
    assert.deepEqual(summary.accounts.map((a) => a.account), ['alice@example.org', 'bob@example.org']);
    const bobExported = summary.accounts[1]!.folders.find((f) => f.mailbox === 'INBOX')!.messages;
    assert.ok(bobExported >= 3 && bobExported <= n - 100 + 3, `bob's INBOX is one snapshot (${bobExported})`);
    assert.deepEqual(await state(source.store, 'alice@example.org'), before, 'the export changed nothing in the store');

    // Into a fresh store of the same backend, through the importer.
    const fresh = await openFresh(driver, join(dir, `${driver}-${format}-target`));
    try {
      await fresh.store.createDomain('example.org');
      await fresh.store.createAccount({ address: 'alice@example.org', passwordHash: 'x' });
      const imported = await cliIn(join(dir, `${driver}-${format}-target`), ['import', format, '--account', 'alice@example.org', '--json', join(out, 'alice@example.org')], '', fresh.env);
      assert.equal(imported.code, 0, imported.err);
      assert.equal((JSON.parse(imported.out) as ImportSummary).imported, SAMPLES.length);
      assert.deepEqual(await view(fresh.store, 'alice@example.org'), want);
      const names = (await fresh.store.listMailboxes((await fresh.store.getAccount('alice@example.org'))!.id)).map((b) => b.name).sort();
      for (const name of MAILBOXES) assert.ok(names.includes(name), `folder ${name} came back (${names.join(', ')})`);
    } finally {
      await fresh.store.close();
      await fresh.drop();
    }
  } finally {
    await source.store.close();
    await source.drop();
  }
}

for (const driver of ['sqlite', 'postgres'] as const) {
  for (const format of ['mbox', 'maildir'] as const) {
    test(`${driver}: export ${format} during delivery, import into a fresh store: same bytes, flags, keywords, dates, folders`, () => roundTrip(driver, format));
  }
}

test('mbox: Python reads the files (From_ lines with envelope sender and date, Status/X-Status flags, mboxrd quoting)', async () => {
  const data = join(dir, 'python');
  const source = await openFresh('sqlite', data);
  try {
    await fill(source.store);
  } finally {
    await source.store.close();
  }
  const out = join(dir, 'python-out');
  const r = await cliIn(data, ['export', 'mbox', '--account', 'alice@example.org', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /exported 9 message\(s\)/);
  assert.ok(existsSync(join(out, 'INBOX.mbox')) && existsSync(join(out, 'Archive', '2024.mbox')) && existsSync(join(out, 'Entwürfe.mbox')));
  const script = `
import json, mailbox, sys
m = mailbox.mbox(sys.argv[1], create=False)
print(json.dumps([{'from': x.get_from(), 'flags': x.get_flags(), 'xstatus': x.get('X-Status'), 'keywords': x.get('X-Keywords'), 'subject': x['Subject'], 'body': x.get_payload(decode=True).decode('utf-8') if not x.is_multipart() else ''} for x in m]))
`;
  const inbox = JSON.parse(execFileSync('python3', ['-c', script, join(out, 'INBOX.mbox')], { encoding: 'utf8' })) as Array<{ from: string; flags: string; xstatus: string | null; keywords: string | null; subject: string; body: string }>;
  assert.deepEqual(
    inbox.map((m) => m.from),
    ['bounce@example.net Wed Jan  2 03:04:05 2019', 'MAILER-DAEMON Sat Feb  2 03:04:05 2019', 'MAILER-DAEMON Wed May  6 07:08:09 2020', 'MAILER-DAEMON Sat Jun  6 06:06:06 2020'],
  );
  assert.deepEqual(
    inbox.map((m) => [m.flags.split('').sort().join(''), m.xstatus, m.keywords]),
    [
      ['OR', null, null],
      ['O', null, null],
      ['AFO', 'AF', '$Label1 project-x'],
      ['OT', 'T', null],
    ],
  );
  // Python reads mboxo: the quoting ">" stays visible to it, one more than in the message.
  assert.equal(inbox[0]!.body, '>From the start of a line\n>>From quoted once\n>>>From quoted twice\n');
  assert.equal(inbox[2]!.body, 'Grüße, 8-bit body\n\n\nafter blank lines\n');
  assert.equal(inbox[3]!.subject, 'header only');

  const refused = await cliIn(data, ['export', 'mbox', '--account', 'alice@example.org', out]);
  assert.equal(refused.code, 73, 'a non-empty destination is refused');
  assert.match(refused.err, /not empty/);
  const usage = await cliIn(data, ['export', 'mbox', join(dir, 'x')]);
  assert.equal(usage.code, 64);
  const unknown = await cliIn(data, ['export', 'mbox', '--account', 'nobody@example.org', join(dir, 'y')]);
  assert.equal(unknown.code, 67);
  const one = await cliIn(data, ['export', 'mbox', '--account', 'alice@example.org', '--folder', 'Archive/2024', join(dir, 'one')]);
  assert.equal(one.code, 0, one.err);
  assert.deepEqual(readdirSync(join(dir, 'one'), { recursive: true }).map(String).sort(), ['Archive', join('Archive', '2024.mbox')]);
});

test('Maildir: Dovecot serves the exported tree with the same messages, flags, keywords, UIDs and UIDVALIDITY', async () => {
  const data = join(dir, 'dovecot-source');
  const source = await openFresh('sqlite', data);
  let dovecot: Dovecot | undefined;
  try {
    await fill(source.store);
    const alice = (await source.store.getAccount('alice@example.org'))!;
    // UIDs that do not start at 1 and a gap: Dovecot must keep ours, not renumber.
    const inbox = (await source.store.getMailbox(alice.id, 'INBOX'))!;
    await source.store.expungeMessages(inbox.id, [2]);
    await source.store.updateFlags(inbox.id, { uids: [3], operation: 'add', flags: ['\\Seen'], keywords: [] });
    // A fresh delivery (recent, no flags) is written to new/.
    await deliver(source.store, (await source.store.getMailbox(alice.id, 'Archive/2024'))!.id, rawMessage(50));
    const ours: Record<string, { uidValidity: number; messages: Array<{ uid: number; flags: string[]; raw: string; date: number }> }> = {};
    for (const box of await source.store.listMailboxes(alice.id)) {
      const messages = [];
      for (const m of await source.store.listMessages(box.id, { withoutStructure: true })) {
        messages.push({ uid: m.uid, flags: [...m.flags, ...m.keywords].sort(), raw: (await source.store.blobs.get(m.blobId)).toString('latin1'), date: Math.floor(m.internalDate.getTime() / 1000) * 1000 });
      }
      ours[box.name] = { uidValidity: box.uidValidity, messages };
    }
    dovecot = await startDovecot(join(dir, 'dovecot'));
    const maildir = join(dovecot.home('alice'), 'Maildir');
    const r = await cliIn(data, ['export', 'maildir', '--account', 'alice@example.org', '--json', maildir]);
    assert.equal(r.code, 0, r.err);
    const summary = JSON.parse(r.out) as ExportSummary;
    const newFiles = readdirSync(join(maildir, 'new'));
    assert.equal(newFiles.length, 0, 'no INBOX message is both recent and unflagged after the flag changes');
    assert.equal(readdirSync(join(maildir, '.Archive.2024', 'new')).length, 1, 'the fresh delivery is in new/');
    assert.equal(readdirSync(join(maildir, '.Work &- Play', 'new')).length, 0, 'a message with a keyword is written to cur/');
    assert.ok(existsSync(join(maildir, '.Archive.2024', 'cur')) && existsSync(join(maildir, '.Entw&APw-rfe', 'cur')));
    assert.match(readFileSync(join(maildir, 'dovecot-uidlist'), 'utf8'), new RegExp(`^3 V${ours['INBOX']!.uidValidity} N5 G[0-9a-f]{32}\\n1 :`));
    dovecot.giveToMailUser();

    // Maildir++ cannot hold a "." in a name: it is written as "&AC4-", which our
    // importer reads back (the round trips above) but Dovecot lists and cannot open.
    assert.ok(existsSync(join(maildir, '.Notes&AC4-old', 'cur')));
    assert.deepEqual(summary.accounts[0]!.folders.find((f) => f.mailbox === 'Notes.old')!.warnings.length, 1);
    const served = await dovecot.view('alice', (path) => path.includes('AC4'));
    const expected: typeof served = {};
    for (const [name, box] of Object.entries(ours)) if (name !== 'Notes.old') expected[name] = box;
    assert.deepEqual(served, expected);
  } finally {
    await dovecot?.stop();
    await source.store.close();
  }
});
