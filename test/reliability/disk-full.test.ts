// Disk full and write errors under the real server: the data directory (SQLite) and the
// blob store (bodies as files: inline_blob_max 0) each live on their own small tmpfs created by the test, so each can be filled
// up or remounted read-only on its own. While a file system is full or read-only, SMTP
// inbound and submission answer 451/452, IMAP APPEND answers NO [UNAVAILABLE], POP3 QUIT
// answers -ERR [SYS/TEMP] and deletes nothing, webmail send answers 503 "unavailable";
// nothing is half-stored (`steadymail check` clean, no temp files left behind) and
// everything works again, without a restart, once space returns.
//
// Mounting needs root; CI runs the suite as root, so anywhere else this test fails.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { cli, serve, tempDataDir, type Running } from '../e2e/serve.js';
import { Client } from '../webmail/api-harness.js';
import type { SendResponse } from '../../src/http/api/types.js';
import { ImapClient, Pop3Client, pop3Count, smtpSend } from './clients.js';

const root = process.getuid?.() === 0;
let dataDir = '';
let blobDir = '';
const mounted: string[] = [];
let server: Running | undefined;
/** Logged in while there is space: a webmail login itself writes a session row. */
let web: Client;
const port = (name: string) => server!.ports.get(name)!;

function mountTmpfs(dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  mounted.unshift(dir);
}

/** Writes a filler file until the file system says ENOSPC. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'a');
  const chunk = Buffer.alloc(64 * 1024, 0x55);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  // The last partial page: fill byte by byte what a 64 KiB write could not.
  const fd2 = openSync(path, 'a');
  try {
    for (;;) writeSync(fd2, Buffer.alloc(512));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd2);
  }
  return path;
}

before(async () => {
  if (!root) return;
  dataDir = tempDataDir();
  mountTmpfs(dataDir, '48m');
  blobDir = join(dataDir, 'blobs');
  mountTmpfs(blobDir, '8m');
  assert.equal((await cli(dataDir, ['domain', 'add', 'full.test'])).code, 0);
  for (const u of ['alice', 'bob']) assert.equal((await cli(dataDir, ['user', 'add', `${u}@full.test`, '--password-stdin'], `${u}-secret\n`)).code, 0);
  // Bodies as files, whatever their size: the blob store's own file system is what fills up.
  server = await serve(dataDir, { STEADYMAIL_OUTBOUND_ENABLED: 'false', STEADYMAIL_STORE_INLINE_BLOB_MAX: '0' }, ['smtp', 'submission', 'pop3', 'imap', 'http']);
  web = await Client.login(`http://127.0.0.1:${port('http')}`, 'bob@full.test', 'bob-secret');
});

after(async () => {
  await server?.stop();
  // Always unmount, innermost first, even when a test failed half-way.
  for (const dir of mounted) {
    try {
      execFileSync('umount', ['-l', dir]);
    } catch (err) {
      process.stderr.write(`could not unmount ${dir}: ${String(err)}\n`);
    }
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function requireRoot(): void {
  assert.ok(root, 'the disk-full tests mount tmpfs file systems and must run as root (CI does); run them with sudo');
}

interface Outcome {
  smtp: string;
  submission: string;
  append: string;
  webmail: { status: number; body: string };
}

let round = 0;
/** One attempt on each path that stores a message; subjects are unique per round. */
async function storeEverywhere(tag: string): Promise<Outcome & { subjects: { smtp: string; submission: string; append: string; webmail: string } }> {
  round++;
  const subjects = { smtp: `${tag}-smtp-${round}`, submission: `${tag}-sub-${round}`, append: `${tag}-append-${round}`, webmail: `${tag}-web-${round}` };
  const smtp = await smtpSend(port('smtp'), { from: 'x@remote.test', to: 'alice@full.test', subject: subjects.smtp });
  const submission = await smtpSend(port('submission'), { from: 'alice@full.test', to: 'bob@full.test', subject: subjects.submission, auth: { user: 'alice@full.test', pass: 'alice-secret' } });
  const imap = await ImapClient.login(port('imap'), 'bob@full.test', 'bob-secret');
  let append: string;
  try {
    append = ImapClient.status(await imap.cmd('APPEND INBOX', `From: bob@full.test\r\nSubject: ${subjects.append}\r\n\r\nbody\r\n`));
  } finally {
    imap.close();
  }
  const res = await web.request('POST', '/api/send', { to: ['alice@full.test'], subject: subjects.webmail, text: 'from the webmail' });
  return { smtp, submission, append, webmail: { status: res.status, body: await res.text() }, subjects };
}

async function mailboxes(): Promise<{ alice: string[]; bob: string[]; bobSent: string[] }> {
  const a = await ImapClient.login(port('imap'), 'alice@full.test', 'alice-secret');
  const b = await ImapClient.login(port('imap'), 'bob@full.test', 'bob-secret');
  try {
    return { alice: await a.subjects('INBOX'), bob: await b.subjects('INBOX'), bobSent: await b.subjects('Sent') };
  } finally {
    a.close();
    b.close();
  }
}

function assertRefused(o: Outcome, why: string): void {
  assert.match(o.smtp, /^45[12] 4\.3\.[01] /, `SMTP inbound, ${why}: ${o.smtp}`);
  assert.match(o.submission, /^45[12] 4\.3\.[01] /, `submission, ${why}: ${o.submission}`);
  assert.match(o.append, /^t\d+ NO \[UNAVAILABLE\] /, `IMAP APPEND, ${why}: ${o.append}`);
  assert.equal(o.webmail.status, 503, `webmail send, ${why}: ${o.webmail.body}`);
  assert.match(o.webmail.body, /"unavailable"/, `webmail send, ${why}: ${o.webmail.body}`);
}

function assertAccepted(o: Outcome, why: string): void {
  assert.match(o.smtp, /^250 /, `SMTP inbound, ${why}: ${o.smtp}`);
  assert.match(o.submission, /^250 /, `submission, ${why}: ${o.submission}`);
  assert.match(o.append, /^t\d+ OK /, `IMAP APPEND, ${why}: ${o.append}`);
  assert.equal(o.webmail.status, 200, `webmail send, ${why}: ${o.webmail.body}`);
  assert.ok((JSON.parse(o.webmail.body) as SendResponse).sentId, 'the webmail copy is in Sent');
}

/** Every subject of an accepted round is stored exactly once where it belongs; a refused round left nothing. */
async function assertStored(rounds: Array<{ subjects: Record<string, string>; accepted: boolean }>): Promise<void> {
  const m = await mailboxes();
  const count = (list: string[], s: string) => list.filter((x) => x === s).length;
  for (const r of rounds) {
    const n = r.accepted ? 1 : 0;
    const s = r.subjects as { smtp: string; submission: string; append: string; webmail: string };
    assert.equal(count(m.alice, s.smtp), n, `${s.smtp} in alice's INBOX ${n} time(s)`);
    assert.equal(count(m.bob, s.submission), n, `${s.submission} in bob's INBOX ${n} time(s)`);
    assert.equal(count(m.bob, s.append), n, `${s.append} in bob's INBOX ${n} time(s)`);
    assert.equal(count(m.alice, s.webmail), n, `${s.webmail} in alice's INBOX ${n} time(s)`);
    assert.equal(count(m.bobSent, s.webmail), n, `${s.webmail} in bob's Sent ${n} time(s)`);
  }
}

async function inboxCount(user: string): Promise<number> {
  const imap = await ImapClient.login(port('imap'), `${user}@full.test`, `${user}-secret`);
  try {
    return (await imap.subjects('INBOX')).length;
  } finally {
    imap.close();
  }
}

async function assertCheckClean(): Promise<void> {
  const check = await cli(dataDir, ['check', '--json']);
  assert.equal(check.code, 0, `steadymail check: ${check.stdout}${check.stderr}`);
  assert.deepEqual(readdirSync(join(blobDir, 'tmp')), [], 'no partial blob left in the temp directory');
}

test('blob store full: every protocol answers a temporary failure, nothing is half-stored, recovery without restart', async () => {
  requireRoot();
  const before = await storeEverywhere('pre');
  assertAccepted(before, 'with space');
  const filler = fill(blobDir);
  let full;
  try {
    full = await storeEverywhere('blobfull');
    assertRefused(full, 'blob store full');
  } finally {
    rmSync(filler);
  }
  const again = await storeEverywhere('blobfree');
  assertAccepted(again, 'space freed');
  await assertStored([
    { subjects: before.subjects, accepted: true },
    { subjects: full.subjects, accepted: false },
    { subjects: again.subjects, accepted: true },
  ]);
  await assertCheckClean();
});

test('database file system full: temporary failures, POP3 QUIT deletes nothing, recovery without restart', async () => {
  requireRoot();
  const aliceBefore = await inboxCount('alice');
  assert.ok(aliceBefore >= 2, `alice has mail to delete: ${aliceBefore}`);
  // Logged in (which takes the maildrop lease, a database write) while there is space.
  const pop = await Pop3Client.login(port('pop3'), 'alice@full.test', 'alice-secret');
  const filler = fill(dataDir);
  let full;
  try {
    full = await storeEverywhere('dbfull');
    assertRefused(full, 'database full');
    assert.match(await pop.cmd('DELE 1'), /^\+OK/, 'DELE only marks');
    assert.match(await pop.cmd('DELE 2'), /^\+OK/, 'DELE only marks');
    const quit = await pop.cmd('QUIT');
    assert.match(quit, /^-ERR \[SYS\/TEMP\] /, `QUIT on a full disk: ${quit}`);
  } finally {
    pop.close();
    rmSync(filler);
  }
  assert.equal(await inboxCount('alice'), aliceBefore, 'the failed QUIT deleted nothing');
  const again = await storeEverywhere('dbfree');
  assertAccepted(again, 'space freed');
  // Alice's maildrop lease could not be released on the full disk: it expires by itself
  // (a minute); Bob's maildrop shows POP3 deleting again.
  const bobBefore = await pop3Count(port('pop3'), 'bob@full.test', 'bob-secret');
  const pop2 = await Pop3Client.login(port('pop3'), 'bob@full.test', 'bob-secret');
  try {
    assert.match(await pop2.cmd('DELE 1'), /^\+OK/);
    assert.match(await pop2.cmd('QUIT'), /^\+OK/, 'QUIT with space');
  } finally {
    pop2.close();
  }
  assert.equal(await pop3Count(port('pop3'), 'bob@full.test', 'bob-secret'), bobBefore - 1);
  assert.equal(await inboxCount('alice'), aliceBefore + 2, 'alice got the SMTP and webmail messages of this round');
  await assertStored([
    { subjects: full.subjects, accepted: false },
    { subjects: again.subjects, accepted: true },
  ]);
  await assertCheckClean();
});

test('blob store remounted read-only: temporary failures, recovery when it is writable again', async () => {
  requireRoot();
  execFileSync('mount', ['-o', 'remount,ro', blobDir]);
  let ro;
  try {
    ro = await storeEverywhere('ro');
    assertRefused(ro, 'read-only blob store');
  } finally {
    execFileSync('mount', ['-o', 'remount,rw', blobDir]);
  }
  const again = await storeEverywhere('rw');
  assertAccepted(again, 'writable again');
  await assertStored([
    { subjects: ro.subjects, accepted: false },
    { subjects: again.subjects, accepted: true },
  ]);
  await assertCheckClean();
});
