// Import from Dovecot, a foreign server (Debian's dovecot, run unprivileged-port in a
// temp directory): over IMAP with imapflow, and from the Maildir Dovecot wrote on disk
// (its file names, info flags, dovecot-keywords and mtimes). Folders, flags, keywords,
// internal dates and bytes are compared with what Dovecot serves.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { openData, tempDir } from './helpers.js';
import { cliIn } from './cli-inprocess.js';
import type { ImportSummary } from '../../src/ops/import/target.js';

let dir: string;
let port: number;
let conf: string;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

function client(): ImapFlow {
  return new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user: 'bob', pass: 'secret' }, logger: false });
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
  chmodSync(dir, 0o755);
  port = await freePort();
  for (const d of ['run', 'state', 'home']) mkdirSync(join(dir, d));
  chmodSync(join(dir, 'home'), 0o777);
  conf = join(dir, 'dovecot.conf');
  writeFileSync(
    conf,
    `base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = steadymail-import-test-${port}
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = .
  mailbox Sent {
    special_use = \\Sent
    auto = create
  }
}
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${dir}/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`,
  );
  // dovecot forks into the background: its stdio must not hold ours open.
  execFileSync('/usr/sbin/dovecot', ['-c', conf], { stdio: 'ignore' });
  // Fill it as a mail client would.
  let c: ImapFlow | undefined;
  for (let i = 0; i < 50 && !c; i++) {
    const attempt = client();
    try {
      await attempt.connect();
      c = attempt;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  assert.ok(c, `dovecot did not start: ${readFileSync(join(dir, 'dovecot.log'), 'utf8')}`);
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
    const pid = Number(readFileSync(join(dir, 'run', 'master.pid'), 'utf8').trim());
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
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
  const r = await cliIn(data, ['import', 'imap', '--account', 'bob@example.org', '--host', '127.0.0.1', '--port', String(port), '--security', 'plain', '--user', 'bob', '--password-stdin', '--json'], 'secret\n');
  assert.equal(r.code, 0, r.err);
  assert.equal((JSON.parse(r.out) as ImportSummary).imported, MESSAGES.length);
  const want = await dovecotView();
  assert.deepEqual(Object.keys(want).sort(), ['Entwürfe', 'INBOX', 'Sent', 'Work', 'Work/Projects']);
  assert.deepEqual(await ourView(data), want);
});

test("Maildir import of the tree Dovecot wrote: its info flags, dovecot-keywords and mtimes", async () => {
  const data = await target('from-maildir');
  const r = await cliIn(data, ['import', 'maildir', '--account', 'bob@example.org', '--json', join(dir, 'home', 'bob', 'Maildir')]);
  assert.equal(r.code, 0, r.err);
  assert.equal((JSON.parse(r.out) as ImportSummary).imported, MESSAGES.length);
  assert.deepEqual(await ourView(data), await dovecotView());
});
