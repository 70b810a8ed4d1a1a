// Debian's sieve-connect, an independent ManageSieve client, against our listener over
// a real socket: it must STARTTLS (the listener refuses authentication in the clear),
// authenticate, and list, upload, activate, download, deactivate and delete a script.
// A delivery over SMTP in between proves that the script it uploaded runs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManageSieveServer, type ManageSieveServer } from '../../src/managesieve/index.js';
import { PASSWORD, SmtpTalk, sampleMessage, silentLogger, startListener, testCert, testStore, type TestEnv } from '../smtp/harness.js';

let env: TestEnv;
let sieve: ManageSieveServer;
let sievePort: number;
let mx: { port: number; close(): Promise<void> };
let dir: string;

const SCRIPT = `require ["fileinto", "mailbox", "imap4flags"];
# Uploaded by sieve-connect.
if header :contains "subject" "[sorted]" {
  fileinto :create :flags "\\\\Flagged" "Sorted";
  stop;
}
`;

before(async () => {
  env = await testStore();
  dir = await mkdtemp(join(tmpdir(), 'steadymail-sieve-connect-'));
  sieve = createManageSieveServer({
    store: env.store,
    logger: silentLogger,
    hostname: 'sieve.example.org',
    tls: await testCert(),
    // As in production from a non-loopback address: credentials only inside TLS.
    allowPlaintext: (_ip, secure) => secure,
    maxScriptBytes: 64 * 1024,
    maxScripts: 10,
    maxRedirects: 2,
    idleTimeoutMs: 10_000,
    maxLineBytes: 4096,
    maxConnectionsPerIp: 20,
  });
  sievePort = (await sieve.listen('127.0.0.1', 0)).port;
  mx = await startListener('inbound', env.store);
});

after(async () => {
  await mx.close();
  await sieve.close(500);
  await env.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs sieve-connect with the password on file descriptor 3, as a script would. */
function sieveConnect(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      '/usr/bin/sieve-connect',
      ['--server', '127.0.0.1', '--port', String(sievePort), '--user', 'alice@example.org', '--passwordfd', '3', '--notlsverify', '--noclearauth', '--authmech', 'PLAIN', ...args],
      { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    const fd3 = child.stdio[3] as NodeJS.WritableStream;
    fd3.end(PASSWORD + '\n');
  });
}

async function send(subject: string): Promise<void> {
  const c = await SmtpTalk.connect(mx.port);
  try {
    assert.match(await c.reply(), /^220/);
    assert.match(await c.cmd('EHLO client.remote.test'), /^250/);
    assert.match(await c.send('sender@remote.test', ['alice@example.org'], sampleMessage(subject)), /^250/);
    await c.cmd('QUIT');
  } finally {
    c.close();
  }
}

async function mailboxSubjects(name: string): Promise<string[]> {
  const account = await env.store.getAccount('alice@example.org');
  const box = account && (await env.store.getMailbox(account.id, name));
  if (!box) return [];
  const messages = await env.store.listMessages(box.id, { withoutStructure: true });
  const raw = await Promise.all(messages.map((m) => env.store.blobs.get(m.blobId)));
  return raw.map((b) => /^Subject: (.*)\r$/m.exec(b.toString('utf8'))?.[1] ?? '');
}

test('sieve-connect lists, uploads, activates, downloads, deactivates and deletes; the uploaded script sorts mail delivered over SMTP', async () => {
  const empty = await sieveConnect(['--list']);
  assert.equal(empty.code, 0, empty.err);
  assert.equal(empty.out.trim(), '');

  const local = join(dir, 'sorting.sieve');
  await writeFile(local, SCRIPT);
  const up = await sieveConnect(['--upload', '--localsieve', local, '--remotesieve', 'sorting']);
  assert.equal(up.code, 0, up.err);
  const listed = await sieveConnect(['--list']);
  assert.equal(listed.code, 0, listed.err);
  // sieve-connect prints the names as LISTSCRIPTS sent them.
  assert.equal(listed.out.trim(), '"sorting"');

  // An invalid script is refused with the line and column of the problem.
  const broken = join(dir, 'broken.sieve');
  await writeFile(broken, 'require "fileinto";\nif header :contains "subject" {\n  fileinto "x";\n}\n');
  const refused = await sieveConnect(['--upload', '--localsieve', broken, '--remotesieve', 'broken']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.err + refused.out, /line 2/);

  const activated = await sieveConnect(['--activate', '--remotesieve', 'sorting']);
  assert.equal(activated.code, 0, activated.err);
  const active = await sieveConnect(['--list']);
  assert.equal(active.out.trim(), '"sorting" ACTIVE');

  const downloaded = join(dir, 'downloaded.sieve');
  const down = await sieveConnect(['--download', '--remotesieve', 'sorting', '--localsieve', downloaded]);
  assert.equal(down.code, 0, down.err);
  assert.equal(await readFile(downloaded, 'utf8'), SCRIPT);

  // The script runs at delivery.
  await send('[sorted] quarterly report');
  await send('plain hello');
  assert.deepEqual(await mailboxSubjects('Sorted'), ['[sorted] quarterly report']);
  const account = await env.store.getAccount('alice@example.org');
  const sorted = await env.store.getMailbox(account!.id, 'Sorted');
  const [copy] = await env.store.listMessages(sorted!.id, { withoutStructure: true });
  assert.deepEqual(copy?.flags, ['\\Flagged']);
  assert.deepEqual(await mailboxSubjects('INBOX'), ['plain hello']);

  // RFC 5804 2.10: the active script cannot be deleted; deactivate first.
  const busy = await sieveConnect(['--delete', '--remotesieve', 'sorting']);
  assert.notEqual(busy.code, 0);
  assert.equal((await sieveConnect(['--deactivate'])).code, 0);
  const deleted = await sieveConnect(['--delete', '--remotesieve', 'sorting']);
  assert.equal(deleted.code, 0, deleted.err);
  assert.equal((await sieveConnect(['--list'])).out.trim(), '');

  // No script: mail stays in INBOX.
  await send('[sorted] after deletion');
  assert.deepEqual(await mailboxSubjects('Sorted'), ['[sorted] quarterly report']);
  assert.deepEqual(await mailboxSubjects('INBOX'), ['plain hello', '[sorted] after deletion']);
});

test('sieve-connect with a wrong password is refused after STARTTLS, and nothing is listed', async () => {
  const child = spawn(
    '/usr/bin/sieve-connect',
    ['--server', '127.0.0.1', '--port', String(sievePort), '--user', 'alice@example.org', '--passwordfd', '3', '--notlsverify', '--noclearauth', '--list'],
    { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  (child.stdio[3] as NodeJS.WritableStream).end('not the password\n');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.notEqual(code, 0);
  assert.equal(out.trim(), '');
  assert.match(err, /auth/i);
});
