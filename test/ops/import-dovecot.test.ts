// Import from Dovecot, a foreign server (Debian's dovecot, run unprivileged-port in a
// temp directory): over IMAP with imapflow, and from the Maildir Dovecot wrote on disk
// (its file names, info flags, dovecot-keywords and mtimes). Folders, flags, keywords,
// internal dates and bytes are compared with what Dovecot serves.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { openData, tempDir } from './helpers.js';
import { startDovecot, type Dovecot } from './dovecot.js';
import { cliIn } from './cli-inprocess.js';
import type { ImportSummary } from '../../src/ops/import/target.js';

let dir: string;
let dovecot: Dovecot;

function client(): ImapFlow {
  return new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, doSTARTTLS: false, auth: { user: 'bob', pass: 'secret' }, logger: false });
}

const MESSAGES: Array<{ folder: string; n: number; flags: string[]; date: string }> = [
  { folder: 'INBOX', n: 1, flags: ['\\Seen'], date: '2018-03-01T09:00:00Z' },
  { folder: 'INBOX', n: 2, flags: ['\\Flagged', '\\Answered', '$Label1', 'project-x'], date: '2018-03-02T09:00:00Z' },
  { folder: 'Work', n: 3, flags: ['\\Seen', 'project-x'], date: '2017-01-01T00:00:00Z' },
  { folder: 'Work.Projects', n: 4, flags: ['\\Draft'], date: '2016-06-06T06:06:06Z' },
  { folder: 'Sent', n: 5, flags: ['\\Seen'], date: '2019-09-09T09:09:09Z' },
  { folder: 'Entwürfe', n: 6, flags: [], date: '2020-10-10T10:10:10Z' },
];

before(async () => {
  dir = tempDir();
  // Dovecot's users must reach its directory below this one.
  chmodSync(dir, 0o755);
  dovecot = await startDovecot(join(dir, 'dovecot'), { inboxNamespace: '  mailbox Sent {\n    special_use = \\Sent\n    auto = create\n  }' });
  // Fill it as a mail client would.
  const c = client();
  await c.connect();
  try {
    for (const f of ['Work', 'Work.Projects', 'Entwürfe']) await c.mailboxCreate(f);
    for (const m of MESSAGES) {
      const raw = `From: d${m.n}@example.net\r\nTo: bob@example.org\r\nSubject: from dovecot ${m.n}\r\nMessage-ID: <dv-${m.n}@example.net>\r\n\r\nBody ${m.n}\r\nFrom the start of a line\r\n`;
      await c.append(m.folder, raw, m.flags, new Date(m.date));
    }
  } finally {
    await c.logout();
  }
});

after(async () => {
  try {
    await dovecot?.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

type Seen = Record<string, Array<{ body: string; flags: string[]; date: number }>>;

/** What Dovecot serves, in our mailbox names. */
async function dovecotView(): Promise<Seen> {
  const c = client();
  await c.connect();
  const out: Seen = {};
  try {
    for (const box of await c.list()) {
      const lock = await c.getMailboxLock(box.path, { readOnly: true });
      try {
        const msgs = [];
        if (c.mailbox && c.mailbox.exists > 0) {
          for await (const m of c.fetch('1:*', { source: true, flags: true, internalDate: true, uid: true }, { uid: false })) {
            msgs.push({ body: m.source!.toString('latin1'), flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(), date: new Date(m.internalDate!).getTime() });
          }
        }
        if (msgs.length > 0) out[box.path === 'INBOX' ? 'INBOX' : box.path.split('.').join('/')] = msgs;
      } finally {
        lock.release();
      }
    }
  } finally {
    await c.logout();
  }
  return out;
}

async function ourView(data: string): Promise<Seen> {
  const store = await openData(data);
  const out: Seen = {};
  try {
    const account = (await store.getAccount('bob@example.org'))!;
    for (const box of await store.listMailboxes(account.id)) {
      const msgs = [];
      for (const m of await store.listMessages(box.id)) {
        msgs.push({ body: (await store.blobs.get(m.blobId)).toString('latin1'), flags: [...m.flags, ...m.keywords].sort(), date: m.internalDate.getTime() });
      }
      if (msgs.length > 0) out[box.name] = msgs;
    }
  } finally {
    await store.close();
  }
  return out;
}

async function target(name: string): Promise<string> {
  const data = join(dir, name);
  const store = await openData(data);
  await store.createDomain('example.org');
  await store.createAccount({ address: 'bob@example.org', passwordHash: 'x' });
  await store.close();
  return data;
}

test('IMAP import from Dovecot: folders (separator "."), special use, flags, keywords, internal dates, bytes', async () => {
  const data = await target('from-imap');
  const r = await cliIn(data, ['import', 'imap', '--account', 'bob@example.org', '--host', '127.0.0.1', '--port', String(dovecot.port), '--security', 'plain', '--user', 'bob', '--password-stdin', '--json'], 'secret\n');
  assert.equal(r.code, 0, r.err);
  assert.equal((JSON.parse(r.out) as ImportSummary).imported, MESSAGES.length);
  const want = await dovecotView();
  assert.deepEqual(Object.keys(want).sort(), ['Entwürfe', 'INBOX', 'Sent', 'Work', 'Work/Projects']);
  assert.deepEqual(await ourView(data), want);
});

test("Maildir import of the tree Dovecot wrote: its info flags, dovecot-keywords and mtimes", async () => {
  const data = await target('from-maildir');
  const r = await cliIn(data, ['import', 'maildir', '--account', 'bob@example.org', '--json', join(dovecot.home('bob'), 'Maildir')]);
  assert.equal(r.code, 0, r.err);
  assert.equal((JSON.parse(r.out) as ImportSummary).imported, MESSAGES.length);
  assert.deepEqual(await ourView(data), await dovecotView());
});
