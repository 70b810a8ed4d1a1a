// steadymail import mbox / maildir: fixtures written by Python's mailbox module (and
// by hand for mboxrd), imported through the command line; folders, flags, keywords,
// dates and bytes compared; a second run imports nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openData, tempDir } from './helpers.js';
import { cliIn } from './cli-inprocess.js';
import type { Store } from '../../src/store/store.js';
import type { ImportSummary } from '../../src/ops/import/target.js';

const MAKE = fileURLToPath(new URL('./fixtures/make-mail.py', import.meta.url));
let dir: string;

before(() => {
  dir = tempDir();
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function newTarget(name: string): Promise<string> {
  const data = join(dir, name);
  const store = await openData(data);
  await store.createDomain('example.org');
  await store.createAccount({ address: 'alice@example.org', passwordHash: 'x', quotaBytes: 0 });
  await store.close();
  return data;
}

async function contents(store: Store, mailbox: string): Promise<Array<{ subject: string; flags: string[]; keywords: string[]; date: number; raw: string }>> {
  const alice = (await store.getAccount('alice@example.org'))!;
  const box = await store.getMailbox(alice.id, mailbox);
  assert.ok(box, `mailbox ${mailbox} exists`);
  const out = [];
  for (const m of await store.listMessages(box.id)) {
    const raw = (await store.blobs.get(m.blobId)).toString('latin1');
    out.push({ subject: /^Subject: (.*)$/m.exec(raw)?.[1]?.trim() ?? '', flags: m.flags, keywords: m.keywords, date: m.internalDate.getTime(), raw });
  }
  return out;
}

test('mbox (Python writer, mboxo quoting): flags from Status/X-Status, From_ dates, CRLF, size limit, no duplicates on re-run', async () => {
  const data = await newTarget('mbox');
  const file = join(dir, 'inbox.mbox');
  execFileSync('python3', [MAKE, 'mbox', file]);
  const env = { STEADYMAIL_LIMITS_MAX_MESSAGE_BYTES: '2500' };
  const r = await cliIn(data, ['import', 'mbox', '--account', 'alice@example.org', '--format', 'mboxo', '--json', file], '', env);
  assert.equal(r.code, 0, r.err);
  const summary = JSON.parse(r.out) as ImportSummary;
  assert.equal(summary.imported, 3);
  assert.equal(summary.tooLarge, 1);
  assert.deepEqual(summary.skipped, ['inbox.mbox message 3']);
  assert.deepEqual(summary.folders.map((f) => f.mailbox), ['INBOX']);

  const store = await openData(data);
  try {
    const got = await contents(store, 'INBOX');
    assert.deepEqual(got.map((m) => m.subject), ['fixture 1', 'fixture 2', 'fixture 4']);
    assert.deepEqual(got.map((m) => m.flags), [['\\Seen'], ['\\Seen', '\\Answered', '\\Flagged'], []]);
    assert.deepEqual(got.map((m) => new Date(m.date).toISOString()), ['2020-03-07T10:00:00.000Z', '2020-03-08T10:00:00.000Z', '2020-03-10T10:00:00.000Z']);
    assert.ok(got.every((m) => !/[^\r]\n/.test(m.raw)), 'line ends are CRLF');
    assert.match(got[0]!.raw, /\r\nFrom here the body goes on\.\r\n/, 'the quoted body line is unquoted');
    assert.ok(got[0]!.raw.endsWith('Body of fixture 1.\r\nFrom here the body goes on.\r\nFrom quoted already.\r\n'), 'the separator line is not part of the message');
    const alice = (await store.getAccount('alice@example.org'))!;
    assert.equal(alice.usedBytes, got.reduce((n, m) => n + Buffer.byteLength(m.raw, 'latin1'), 0), 'quota usage counts the imported mail');
  } finally {
    await store.close();
  }

  const again = await cliIn(data, ['import', 'mbox', '--account', 'alice@example.org', '--format', 'mboxo', file], '', env);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /: 0 message\(s\) imported .*3 already there/);
  const check = await cliIn(data, ['check', '--structure', 'full']);
  assert.equal(check.code, 0, check.out + check.err);
});

test('mboxrd: one ">" removed from every quoted From line; a file named after its mailbox; not an mbox is refused', async () => {
  const data = await newTarget('mboxrd');
  const file = join(dir, 'Archive 2019.mbox');
  writeFileSync(
    file,
    'From a@example.net Thu Jan  3 08:00:00 2019\nSubject: one\nX-Keywords: $Label1 todo\n\nline\n>From a quoted line\n>>From a twice quoted line\n\n' +
      'From b@example.net Fri Jan  4 08:00:00 2019\nSubject: two\nX-Mozilla-Status: 0005\n\nFrom-less body\n',
  );
  const r = await cliIn(data, ['import', 'mbox', '--account', 'alice@example.org', file]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Archive 2019\.mbox → Archive 2019: 2 imported/);
  const store = await openData(data);
  try {
    const got = await contents(store, 'Archive 2019');
    assert.equal(got.length, 2);
    assert.ok(got[0]!.raw.endsWith('\r\nline\r\nFrom a quoted line\r\n>From a twice quoted line\r\n'), got[0]!.raw);
    assert.deepEqual(got[0]!.keywords, ['$Label1', 'todo']);
    assert.deepEqual(got[1]!.flags, ['\\Seen', '\\Flagged']);
    assert.equal(new Date(got[1]!.date).toISOString(), '2019-01-04T08:00:00.000Z');
  } finally {
    await store.close();
  }
  const bad = join(dir, 'not-mbox.txt');
  writeFileSync(bad, 'Subject: hello\n\nno From line\n');
  const refused = await cliIn(data, ['import', 'mbox', '--account', 'alice@example.org', bad]);
  assert.equal(refused.code, 65);
  assert.match(refused.err, /not an mbox file/);
  const missing = await cliIn(data, ['import', 'mbox', '--account', 'alice@example.org', join(dir, 'nope.mbox')]);
  assert.equal(missing.code, 66, missing.err);
  const nouser = await cliIn(data, ['import', 'mbox', '--account', 'bob@example.org', file]);
  assert.equal(nouser.code, 67, nouser.err);
});

test('a 4 MB mbox of 300 messages, read in 1 MiB chunks, is imported exactly, in order', async () => {
  const data = await newTarget('large');
  const file = join(dir, 'large.mbox');
  const parts: string[] = [];
  const filler = 'y'.repeat(70);
  for (let i = 0; i < 300; i++) {
    parts.push(`From x@example.net Sat Mar  7 10:00:00 2020\nSubject: bulk ${i}\nMessage-ID: <bulk-${i}@example.net>\n\n${`${filler} ${i}\n`.repeat(200)}\n`);
  }
  writeFileSync(file, parts.join(''));
  const r = await cliIn(data, ['import', 'mbox', '--account', 'alice@example.org', '--mailbox', 'Bulk', '--json', file]);
  assert.equal(r.code, 0, r.err);
  assert.equal((JSON.parse(r.out) as ImportSummary).imported, 300);
  const store = await openData(data);
  try {
    const got = await contents(store, 'Bulk');
    assert.deepEqual(
      got.map((m) => m.subject),
      Array.from({ length: 300 }, (_, i) => `bulk ${i}`),
    );
  } finally {
    await store.close();
  }
});

test('Maildir++ (Python writer): folders incl. modified UTF-7 names, info flags, dovecot-keywords, mtime dates; re-run imports nothing', async () => {
  const data = await newTarget('maildir');
  const root = join(dir, 'Maildir');
  execFileSync('python3', [MAKE, 'maildir', root]);
  mkdirSync(join(root, 'tmp'), { recursive: true });
  writeFileSync(join(root, 'tmp', '123.in-progress'), 'Subject: not delivered yet\n\n');
  const r = await cliIn(data, ['import', 'maildir', '--account', 'alice@example.org', '--json', root]);
  assert.equal(r.code, 0, r.err);
  const summary = JSON.parse(r.out) as ImportSummary;
  assert.equal(summary.imported, 5);
  assert.deepEqual(summary.folders.map((f) => f.mailbox).sort(), ['Entwürfe', 'INBOX', 'Work', 'Work/Projects']);

  const store = await openData(data);
  try {
    const inbox = await contents(store, 'INBOX');
    assert.deepEqual(inbox.map((m) => [m.subject, m.flags, new Date(m.date).toISOString()]), [
      ['fixture 1', ['\\Seen'], '2020-03-07T10:00:00.000Z'],
      ['fixture 2', [], '2020-03-08T10:00:00.000Z'],
    ]);
    const work = await contents(store, 'Work');
    assert.deepEqual(work.map((m) => [m.flags, m.keywords]), [[['\\Answered', '\\Flagged'], ['$Important', 'project-x']]]);
    const projects = await contents(store, 'Work/Projects');
    assert.deepEqual(projects.map((m) => m.flags), [['\\Seen', '\\Draft']]);
    assert.deepEqual((await contents(store, 'Entwürfe')).map((m) => m.subject), ['fixture 5']);
    assert.ok(inbox.every((m) => m.raw.includes('\r\n') && !/[^\r]\n/.test(m.raw)));
  } finally {
    await store.close();
  }
  const again = await cliIn(data, ['import', 'maildir', '--account', 'alice@example.org', '--json', root]);
  const second = JSON.parse(again.out) as ImportSummary;
  assert.equal(second.imported, 0);
  assert.equal(second.duplicates, 5);
  const notMaildir = await cliIn(data, ['import', 'maildir', '--account', 'alice@example.org', dir]);
  assert.equal(notMaildir.code, 65, notMaildir.err);
});

test('the duplicate check counts copies: a source with one message twice keeps both; after forget() re-read copies are recognised', async () => {
  const data = await newTarget('multiset');
  const { ImportTarget } = await import('../../src/ops/import/target.js');
  const store = await openData(data);
  try {
    const target = await ImportTarget.open(store, 'alice@example.org', 'test', 1_000_000);
    const folder = await target.folder('src', 'Twice');
    const raw = Buffer.from('Subject: twice\r\n\r\nsame bytes\r\n');
    const add = () => target.add(folder, { raw, origin: 'x', flags: ['\\Seen', '\\Recent', 'bad keyword', '$ok'] });
    assert.deepEqual([await add(), await add()], ['imported', 'imported']);
    target.forget();
    assert.deepEqual([await add(), await add(), await add()], ['duplicate', 'duplicate', 'imported']);
    const alice = (await store.getAccount('alice@example.org'))!;
    const msgs = await store.listMessages((await store.getMailbox(alice.id, 'Twice'))!.id);
    assert.equal(msgs.length, 3);
    assert.deepEqual([msgs[0]!.flags, msgs[0]!.keywords], [['\\Seen'], ['$ok']], '\\Recent and invalid keywords are dropped');
  } finally {
    await store.close();
  }
});

test('Courier-IMAP Maildir: keywords from courierimapkeywords/:list and per-message update files (plain name over .<n>., highest n)', async () => {
  const data = await newTarget('courier');
  const root = join(dir, 'CourierMaildir');
  const msg = (n: number) => `From: c${n}@example.net\nSubject: courier ${n}\nMessage-ID: <courier-${n}@example.net>\n\nBody ${n}\n`;
  // Laid out as Courier-IMAP writes it: INBOX at the root, .Lists a subfolder, each
  // with its own courierimapkeywords/.
  const files: Array<{ folder: string; base: string; info: string }> = [
    { folder: '', base: '1700000001.M1P10.courier', info: ':2,S' },
    { folder: '', base: '1700000002.M2P10.courier', info: ':2,FS' },
    { folder: '', base: '1700000003.M3P10.courier', info: ':2,' },
    { folder: '', base: '1700000004.M4P10.courier', info: ':2,R' },
    { folder: '.Lists', base: '1700000005.M5P10.courier', info: ':2,S' },
  ];
  files.forEach((f, i) => {
    mkdirSync(join(root, f.folder, 'cur'), { recursive: true });
    mkdirSync(join(root, f.folder, 'new'), { recursive: true });
    mkdirSync(join(root, f.folder, 'courierimapkeywords'), { recursive: true });
    writeFileSync(join(root, f.folder, 'cur', f.base + f.info), msg(i + 1));
  });
  // :list — keyword names, an empty line, then <base name>:<indices>.
  writeFileSync(
    join(root, 'courierimapkeywords', ':list'),
    '$Label1\nproject-x\nJunk\n\n1700000001.M1P10.courier:0 1\n1700000002.M2P10.courier:2\n1700000004.M4P10.courier:0\n',
  );
  // Message 2's keywords were changed later: the update file replaces its :list entry.
  writeFileSync(join(root, 'courierimapkeywords', '.3.1700000002.M2P10.courier'), 'NonJunk\n');
  writeFileSync(join(root, 'courierimapkeywords', '.7.1700000002.M2P10.courier'), 'NonJunk\n$Label2\n');
  // Message 4: a plain-named update file wins over any counted one, even a higher count.
  writeFileSync(join(root, 'courierimapkeywords', '1700000004.M4P10.courier'), '');
  writeFileSync(join(root, 'courierimapkeywords', '.9.1700000004.M4P10.courier'), 'stale\n');
  writeFileSync(join(root, '.Lists', 'courierimapkeywords', ':list'), 'mailing-list\n\n1700000005.M5P10.courier:0\n');
  // Dovecot's keywords and Courier's may both be there: they are merged.
  writeFileSync(join(root, '.Lists', 'dovecot-keywords'), '0 $Important\n');
  rmSync(join(root, '.Lists', 'cur', '1700000005.M5P10.courier:2,S'));
  writeFileSync(join(root, '.Lists', 'cur', '1700000005.M5P10.courier:2,Sa'), msg(5));

  const r = await cliIn(data, ['import', 'maildir', '--account', 'alice@example.org', '--json', root]);
  assert.equal(r.code, 0, r.err);
  assert.equal((JSON.parse(r.out) as ImportSummary).imported, 5);
  const store = await openData(data);
  try {
    const inbox = await contents(store, 'INBOX');
    const bySubject = new Map(inbox.map((m) => [m.subject, [m.flags, [...m.keywords].sort()]]));
    assert.deepEqual(bySubject.get('courier 1'), [['\\Seen'], ['$Label1', 'project-x']]);
    assert.deepEqual(bySubject.get('courier 2'), [['\\Seen', '\\Flagged'], ['$Label2', 'NonJunk']]);
    assert.deepEqual(bySubject.get('courier 3'), [[], []]);
    assert.deepEqual(bySubject.get('courier 4'), [['\\Answered'], []]);
    const lists = await contents(store, 'Lists');
    assert.deepEqual(lists.map((m) => [m.flags, [...m.keywords].sort()]), [[['\\Seen'], ['$Important', 'mailing-list']]]);
  } finally {
    await store.close();
  }
});
