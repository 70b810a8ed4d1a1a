// One message's life through the real server: submitted with SMTP AUTH over
// STARTTLS, received by the MX, collected over POP3 by an independent client
// (python3 poplib), with the admin CLI working on the same data meanwhile.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { ImapFlow } from 'imapflow';
import { cli, serve, tempDataDir, type Running } from './serve.js';

const run = promisify(execFile);
let dataDir: string;
let server: Running;

before(async () => {
  dataDir = tempDataDir();
  assert.equal((await cli(dataDir, ['domain', 'add', 'e2e.test'])).code, 0);
  assert.equal((await cli(dataDir, ['user', 'add', 'alice@e2e.test', '--password-stdin'], 'alice-secret\n')).code, 0);
  assert.equal((await cli(dataDir, ['user', 'add', 'bob@e2e.test', '--password-stdin'], 'bob-secret\n')).code, 0);
  server = await serve(dataDir, {}, ['smtp', 'submission', 'pop3', 'imap', 'http']);
});

after(async () => {
  const code = await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  assert.equal(code, 0, 'serve exits 0 on SIGTERM');
});

async function pop3Messages(user: string, password: string): Promise<{ count: number; bodies: string[]; uidls: string[] }> {
  const script = `
import json, poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1]), timeout=10)
p.user(sys.argv[2]); p.pass_(sys.argv[3])
count, _ = p.stat()
bodies = [b'\\r\\n'.join(p.retr(i + 1)[1]).decode('utf-8', 'replace') for i in range(count)]
uidls = [line.split()[1].decode() for line in p.uidl()[1]]
p.quit()
print(json.dumps({'count': count, 'bodies': bodies, 'uidls': uidls}))
`;
  const { stdout } = await run('python3', ['-c', script, String(server.ports.get('pop3')), user, password]);
  return JSON.parse(stdout) as { count: number; bodies: string[]; uidls: string[] };
}

test('submitted and inbound mail arrive and are collected over POP3', async () => {
  const submission = nodemailer.createTransport({
    host: '127.0.0.1',
    port: server.ports.get('submission'),
    secure: false,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user: 'alice@e2e.test', pass: 'alice-secret' },
  });
  const sent = await submission.sendMail({ from: 'alice@e2e.test', to: 'bob@e2e.test', subject: 'Hello Bob', text: 'Submitted by Alice.' });
  assert.match(sent.response, /^250 /);

  const mx = nodemailer.createTransport({ host: '127.0.0.1', port: server.ports.get('smtp'), secure: false, ignoreTLS: true });
  const inbound = await mx.sendMail({ from: 'carol@remote.test', to: 'bob@e2e.test', subject: 'From outside', text: 'Inbound mail.' });
  assert.match(inbound.response, /^250 /);

  const got = await pop3Messages('bob@e2e.test', 'bob-secret');
  assert.equal(got.count, 2);
  assert.match(got.bodies[0]!, /Subject: Hello Bob/);
  assert.match(got.bodies[0]!, /Submitted by Alice\./);
  assert.match(got.bodies[1]!, /Subject: From outside/);
  assert.match(got.bodies[1]!, /^Return-Path: <carol@remote\.test>/m);
  assert.match(got.bodies[1]!, /^Received: from /m);
  // Leaving mail on the server: the same UIDLs on the next login.
  const again = await pop3Messages('bob@e2e.test', 'bob-secret');
  assert.deepEqual(again.uidls, got.uidls);
});

test('IMAP sees what SMTP delivered, and POP3 retrieval marked it read', async () => {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: server.ports.get('imap')!,
    secure: false,
    doSTARTTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user: 'bob@e2e.test', pass: 'bob-secret' },
    logger: false,
  });
  await client.connect();
  try {
    const lock = await client.getMailboxLock('INBOX');
    try {
      const subjects: string[] = [];
      const flags: string[][] = [];
      for await (const msg of client.fetch('1:*', { envelope: true, flags: true })) {
        subjects.push(msg.envelope?.subject ?? '');
        flags.push([...(msg.flags ?? [])]);
      }
      assert.deepEqual(subjects, ['Hello Bob', 'From outside']);
      assert.ok(flags.every((f) => f.includes('\\Seen')), 'POP3 RETR marked the messages \\Seen');
      const appended = await client.append('Sent', 'From: bob@e2e.test\r\nSubject: saved\r\n\r\nbody\r\n', ['\\Seen']);
      assert.ok(appended && appended.uid, 'APPEND returns APPENDUID');
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
});

test('the admin CLI works on the same data while serve runs', async () => {
  const add = await cli(dataDir, ['user', 'add', 'dave@e2e.test', '--password-stdin'], 'dave-secret\n');
  assert.equal(add.code, 0, add.stderr);
  const mx = nodemailer.createTransport({ host: '127.0.0.1', port: server.ports.get('smtp'), secure: false, ignoreTLS: true });
  await mx.sendMail({ from: 'x@remote.test', to: 'dave@e2e.test', subject: 'Welcome Dave', text: 'hi' });
  const got = await pop3Messages('dave@e2e.test', 'dave-secret');
  assert.equal(got.count, 1);
  const list = await cli(dataDir, ['user', 'list']);
  assert.match(list.stdout, /dave@e2e\.test/);
});

test('unknown recipients are refused at RCPT time', async () => {
  const mx = nodemailer.createTransport({ host: '127.0.0.1', port: server.ports.get('smtp'), secure: false, ignoreTLS: true });
  await assert.rejects(mx.sendMail({ from: 'x@remote.test', to: 'nobody@e2e.test', subject: 'x', text: 'x' }), /550 5\.1\.1/);
});

test('/healthz answers', async () => {
  const res = await fetch(`http://127.0.0.1:${server.ports.get('http')}/healthz`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { status: string }).status, 'ok');
});
