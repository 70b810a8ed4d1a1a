// Farm mode: two `steadymail serve` nodes on one PostgreSQL database behave as
// one server — mail delivered through node A is read through node B over IMAP
// and POP3, IMAP IDLE on B hears a delivery made on A, and the POP3 maildrop
// lock holds across nodes; a NOTIFY session on B is told of a delivery made on A.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { rmSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { ImapFlow } from 'imapflow';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';
import { cli, serve, tempDataDir, type Running } from './serve.js';
import { RawClient } from '../imap/harness.js';

let db: { url: string; drop: () => Promise<void> };
let dirA: string;
let dirB: string;
let nodeA: Running;
let nodeB: Running;

before(async () => {
  db = await createTestDatabase();
  dirA = tempDataDir();
  dirB = tempDataDir();
  const farm = { STEADYMAIL_STORE_DRIVER: 'postgres', STEADYMAIL_STORE_URL: db.url };
  assert.equal((await cli(dirA, ['domain', 'add', 'farm.test'], undefined, farm)).code, 0);
  assert.equal((await cli(dirA, ['user', 'add', 'erin@farm.test', '--password-stdin'], 'erin-secret\n', farm)).code, 0);
  const expect = ['smtp', 'pop3', 'imap', 'http'];
  [nodeA, nodeB] = await Promise.all([serve(dirA, farm, expect), serve(dirB, farm, expect)]);
});

after(async () => {
  const codes = await Promise.all([nodeA?.stop(), nodeB?.stop()]);
  rmSync(dirA, { recursive: true, force: true });
  rmSync(dirB, { recursive: true, force: true });
  await db.drop();
  assert.deepEqual(codes, [0, 0]);
});

function imap(node: Running): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: node.ports.get('imap')!,
    secure: false,
    doSTARTTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user: 'erin@farm.test', pass: 'erin-secret' },
    logger: false,
  });
}

function deliverThrough(node: Running, subject: string) {
  const mx = nodemailer.createTransport({ host: '127.0.0.1', port: node.ports.get('smtp'), secure: false, ignoreTLS: true });
  return mx.sendMail({ from: 'someone@remote.test', to: 'erin@farm.test', subject, text: subject });
}

/** A minimal POP3 conversation; returns every reply line. */
function pop3(port: number, commands: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const replies: string[] = [];
    let buffer = '';
    let next = 0;
    socket.on('data', (d: Buffer) => {
      buffer += d.toString('latin1');
      let nl: number;
      while ((nl = buffer.indexOf('\r\n')) >= 0) {
        replies.push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 2);
        if (next < commands.length) socket.write(`${commands[next++]}\r\n`);
        else socket.end();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(replies));
  });
}

test('IDLE on node B hears a delivery made through node A within a second', async () => {
  const client = imap(nodeB);
  await client.connect();
  try {
    const lock = await client.getMailboxLock('INBOX');
    try {
      const before = client.mailbox === false ? 0 : client.mailbox.exists;
      const heard = new Promise<number>((resolve) => client.on('exists', (e: { count: number }) => resolve(e.count)));
      const idling = client.idle();
      await new Promise((r) => setTimeout(r, 200));
      const sent = Date.now();
      await deliverThrough(nodeA, 'Across the farm');
      const count = await Promise.race([heard, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no EXISTS within 1 s')), 1000))]);
      assert.equal(count, before + 1);
      assert.ok(Date.now() - sent < 1000);
      // A command ends IDLE; node B serves the message node A stored.
      const subjects: string[] = [];
      for await (const m of client.fetch('1:*', { envelope: true })) subjects.push(m.envelope?.subject ?? '');
      assert.ok(subjects.includes('Across the farm'));
      await idling;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
});

test('NOTIFY on node B (no mailbox selected, no command sent) hears an SMTP delivery made through node A', async () => {
  const c = await RawClient.connect(nodeB.ports.get('imap')!);
  try {
    assert.equal((await c.cmd('t', 'STARTTLS')).at(-1), 't OK Begin TLS negotiation now');
    await c.startTls();
    assert.match((await c.cmd('l', 'LOGIN erin@farm.test erin-secret')).at(-1) ?? '', /^l OK/);
    const set = await c.cmd('n', 'NOTIFY SET STATUS (inboxes (MessageNew MessageExpunge FlagChange)) (personal (MailboxName))');
    const before = /MESSAGES (\d+)/.exec(set.find((l) => l.startsWith('* STATUS INBOX')) ?? '');
    assert.ok(before, set.join('\n'));
    const n = Number(before[1]);
    await deliverThrough(nodeA, 'Notified across the farm');
    let line = '';
    const deadline = Date.now() + 3000;
    while (!line.startsWith('* STATUS INBOX')) line = await c.next(Math.max(1, deadline - Date.now()));
    assert.match(line, new RegExp(`^\\* STATUS INBOX \\(MESSAGES ${n + 1} UIDNEXT \\d+ UNSEEN \\d+\\)$`));
    // A mailbox created through node A's IMAP reaches B as LIST.
    const a = imap(nodeA);
    await a.connect();
    await a.mailboxCreate('FromNodeA');
    await a.logout();
    line = '';
    while (!line.startsWith('* LIST')) line = await c.next(3000);
    assert.equal(line, '* LIST () "/" FromNodeA');
  } finally {
    c.close();
  }
});

test('the POP3 maildrop lock holds across nodes and is released on QUIT', async () => {
  await deliverThrough(nodeA, 'For POP3');
  const portA = nodeA.ports.get('pop3')!;
  const portB = nodeB.ports.get('pop3')!;
  // Session on A holds the maildrop while B tries to log in.
  const socket = net.connect(portA, '127.0.0.1');
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    const script = ['USER erin@farm.test', 'PASS erin-secret'];
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\r\n')) >= 0) {
        lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 2);
        const cmd = script.shift();
        if (cmd) socket.write(`${cmd}\r\n`);
        else resolve();
      }
    });
    socket.on('error', reject);
  });
  assert.match(lines.at(-1)!, /^\+OK/, 'node A logged in');
  const refused = await pop3(portB, ['USER erin@farm.test', 'PASS erin-secret', 'QUIT']);
  assert.match(refused[2]!, /^-ERR \[IN-USE\]/, `node B refused: ${refused.join(' | ')}`);
  socket.write('QUIT\r\n');
  await new Promise((r) => socket.on('close', r));
  const ok = await pop3(portB, ['USER erin@farm.test', 'PASS erin-secret', 'STAT', 'QUIT']);
  assert.match(ok[2]!, /^\+OK/, 'node B logs in once A quit');
  assert.match(ok[3]!, /^\+OK [1-9]\d* \d+/, 'and sees the mail delivered through A');
});
