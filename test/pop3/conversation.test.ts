// Conversations over real sockets: every command, every error path, the
// replies a client sees byte for byte.

import { describe, test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Pop3TestClient } from './client.js';
import { harness, PASSWORD, USER, type Harness } from './harness.js';

const MSG1 = 'From: bob@example.org\r\nSubject: one\r\n\r\nHello\r\n.dot line\r\nbye\r\n';
const MSG2 = 'Subject: two\nbare LF\nline\0with NUL';
const WIRE1 = 'From: bob@example.org\r\nSubject: one\r\n\r\nHello\r\n..dot line\r\nbye\r\n';
const WIRE2 = 'Subject: two\r\nbare LF\r\nline\x80with NUL\r\n\r\n';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('POP3 conversations', () => {
  let h: Harness;
  let c: Pop3TestClient;
  let ids: string[];

  beforeEach(async () => {
    h = await harness();
    ids = [(await h.deliver(MSG1)).messageId, (await h.deliver(MSG2)).messageId];
    c = await Pop3TestClient.connect(h.port);
    assert.equal(await c.greeting(), '+OK pop.example.org Steadymail POP3 server ready\r\n');
  });
  afterEach(async () => {
    c.destroy();
    await h.close();
    assert.deepEqual(h.logger.entries.filter((e) => e.level === 'error'), []);
  });

  test('CAPA before and after login (RFC 2449 5)', async () => {
    assert.equal(
      await c.command('CAPA'),
      '+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\nUSER\r\nSASL PLAIN LOGIN\r\nIMPLEMENTATION Steadymail\r\n.\r\n',
    );
    await c.login(USER, PASSWORD);
    assert.equal(
      await c.command('capa'),
      '+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\nIMPLEMENTATION Steadymail\r\n.\r\n',
    );
  });

  test('a full session: STAT, LIST, UIDL, RETR, TOP, DELE, RSET, NOOP, QUIT', async () => {
    assert.equal(await c.command(`USER ${USER}`), '+OK Send your password\r\n');
    assert.equal(await c.command(`PASS ${PASSWORD}`), '+OK Logged in, 2 messages\r\n');
    const total = WIRE1.length + WIRE2.length;
    assert.equal(await c.command('STAT'), `+OK 2 ${total}\r\n`);
    assert.equal(await c.command('LIST'), `+OK 2 messages (${total} octets)\r\n1 ${WIRE1.length}\r\n2 ${WIRE2.length}\r\n.\r\n`);
    assert.equal(await c.command('LIST 2'), `+OK 2 ${WIRE2.length}\r\n`);
    assert.equal(await c.command('UIDL'), `+OK Unique-id listing follows\r\n1 ${ids[0]}\r\n2 ${ids[1]}\r\n.\r\n`);
    assert.equal(await c.command('UIDL 1'), `+OK 1 ${ids[0]}\r\n`);
    assert.equal(await c.command('RETR 1'), `+OK ${WIRE1.length} octets\r\n${WIRE1}.\r\n`);
    assert.equal(await c.command('RETR 2'), `+OK ${WIRE2.length} octets\r\n${WIRE2}.\r\n`);
    assert.equal(await c.command('TOP 1 0'), '+OK Top of message follows\r\nFrom: bob@example.org\r\nSubject: one\r\n\r\n.\r\n');
    assert.equal(await c.command('TOP 1 2'), '+OK Top of message follows\r\nFrom: bob@example.org\r\nSubject: one\r\n\r\nHello\r\n..dot line\r\n.\r\n');
    assert.equal(await c.command('DELE 1'), '+OK Message 1 marked for deletion\r\n');
    assert.equal(await c.command('STAT'), `+OK 1 ${WIRE2.length}\r\n`);
    assert.equal(await c.command('LIST'), `+OK 1 messages (${WIRE2.length} octets)\r\n2 ${WIRE2.length}\r\n.\r\n`);
    assert.equal(await c.command('UIDL'), `+OK Unique-id listing follows\r\n2 ${ids[1]}\r\n.\r\n`);
    assert.equal(await c.command('RSET'), '+OK 2 messages\r\n');
    assert.equal(await c.command('STAT'), `+OK 2 ${total}\r\n`);
    assert.equal(await c.command('DELE 2'), '+OK Message 2 marked for deletion\r\n');
    assert.equal(await c.command('NOOP'), '+OK\r\n');
    assert.equal(await c.command('QUIT'), '+OK Signing off, 1 deleted, 1 left\r\n');
    await c.closed();
    const left = await h.store.listMessages(h.inboxId);
    assert.deepEqual(left.map((m) => m.messageId), [ids[0]]);
    assert.deepEqual(left[0]!.flags, ['\\Seen'], 'RETR marked the message \\Seen');
    const [audit] = await h.store.listAudit({ accountId: h.account.id });
    assert.equal(audit?.actor, `pop3:${USER}`);
    assert.equal(audit?.reason, 'deleted by the POP3 client');
    assert.deepEqual(audit?.detail.messageIds, [ids[1]]);
  });

  test('error paths in TRANSACTION', async () => {
    await c.login(USER, PASSWORD);
    assert.equal(await c.command('LIST 0'), '-ERR No such message; there are 2\r\n');
    assert.equal(await c.command('LIST 3'), '-ERR No such message; there are 2\r\n');
    assert.equal(await c.command('LIST x'), '-ERR Invalid message number\r\n');
    assert.equal(await c.command('LIST -1'), '-ERR Invalid message number\r\n');
    assert.equal(await c.command('RETR'), '-ERR Message number required\r\n');
    assert.equal(await c.command('TOP 1'), '-ERR TOP needs a message number and a non-negative line count\r\n');
    assert.equal(await c.command('TOP 1 -1'), '-ERR TOP needs a message number and a non-negative line count\r\n');
    assert.equal(await c.command('DELE 1'), '+OK Message 1 marked for deletion\r\n');
    assert.equal(await c.command('DELE 1'), '-ERR Message 1 is deleted\r\n');
    assert.equal(await c.command('RETR 1'), '-ERR Message 1 is deleted\r\n');
    assert.equal(await c.command('TOP 1 0'), '-ERR Message 1 is deleted\r\n');
    assert.equal(await c.command('UIDL 1'), '-ERR Message 1 is deleted\r\n');
    assert.equal(await c.command('USER x'), '-ERR Not valid after login\r\n');
    assert.equal(await c.command('PASS x'), '-ERR Not valid after login\r\n');
    assert.equal(await c.command('STLS'), '-ERR Not valid after login\r\n');
    assert.equal(await c.command('AUTH PLAIN'), '-ERR Not valid after login\r\n');
    assert.equal(await c.command('XTND XLST'), '-ERR Unknown command\r\n');
    assert.equal(await c.command(''), '-ERR Empty or malformed command\r\n');
    // Dropping the connection now deletes nothing (RFC 1939 6).
    c.destroy();
    await waitFor(async () => h.server.connections() === 0);
    assert.equal((await h.store.listMessages(h.inboxId)).length, 2);
  });

  test('error paths in AUTHORIZATION', async () => {
    assert.equal(await c.command('STAT'), '-ERR Log in first\r\n');
    assert.equal(await c.command('PASS x'), '-ERR Send USER first\r\n');
    assert.equal(await c.command('USER'), '-ERR USER needs a login name\r\n');
    assert.equal(await c.command('APOP alice 0123456789abcdef'), '-ERR APOP is not supported (no plaintext passwords are stored); use USER/PASS or AUTH\r\n');
    assert.equal(await c.command(`USER ${USER}`), '+OK Send your password\r\n');
    assert.equal(await c.command('PASS wrong'), '-ERR [AUTH] Invalid login name or password\r\n');
    assert.equal(await c.command('PASS ' + PASSWORD), '-ERR Send USER first\r\n', 'a failed PASS forgets the USER');
    assert.equal(await c.login('nobody@example.org', PASSWORD), '-ERR [AUTH] Invalid login name or password\r\n');
    assert.equal(await c.command('STLS'), '-ERR TLS is not configured on this server\r\n');
    c.write(`${'X'.repeat(2000)}\r\n`);
    assert.equal(await c.reply('X'), '-ERR Command line too long\r\n');
    assert.equal(await c.command('NOOP'), '+OK\r\n');
    assert.equal(await c.login(USER, PASSWORD), '+OK Logged in, 2 messages\r\n');
  });

  test('a disabled account is refused after the right password', async () => {
    await h.store.updateAccount(h.account.id, { disabled: true });
    assert.equal(await c.login(USER, PASSWORD), '-ERR [AUTH] This account is disabled; contact your provider\r\n');
  });

  test('AUTH: bare listing, PLAIN with and without initial response, LOGIN, cancel, errors (RFC 5034)', async () => {
    assert.equal(await c.command('AUTH'), '+OK Supported authentication mechanisms\r\nPLAIN\r\nLOGIN\r\n.\r\n');
    assert.equal(await c.command('AUTH CRAM-MD5'), '-ERR Unsupported authentication mechanism\r\n');
    assert.equal(await c.command('AUTH PLAIN'), '+ \r\n');
    assert.equal(await c.command('*'), '-ERR Authentication cancelled\r\n');
    assert.equal(await c.command('AUTH PLAIN'), '+ \r\n');
    assert.equal(await c.command('!!!'), '-ERR Malformed authentication response\r\n');
    assert.equal(await c.command(`AUTH PLAIN ${b64(`bob@example.org\0${USER}\0${PASSWORD}`)}`), '-ERR [AUTH] Logging in as another user is not supported\r\n');
    assert.equal(await c.command(`AUTH PLAIN ${b64(`\0${USER}\0wrong`)}`), '-ERR [AUTH] Invalid login name or password\r\n');
    assert.equal(await c.command('AUTH LOGIN'), `+ ${b64('Username:')}\r\n`);
    assert.equal(await c.command(b64(USER)), `+ ${b64('Password:')}\r\n`);
    assert.equal(await c.command(b64('wrong')), '-ERR [AUTH] Invalid login name or password\r\n');
    assert.equal(await c.command('AUTH PLAIN'), '+ \r\n');
    assert.equal(await c.command(b64(`\0${USER}\0${PASSWORD}`)), '+OK Logged in, 2 messages\r\n');
  });

  test('AUTH PLAIN with an initial response and AUTH LOGIN with the username as initial response', async () => {
    const other = await Pop3TestClient.connect(h.port);
    await other.greeting();
    assert.equal(await other.command(`AUTH LOGIN ${b64(USER)}`), `+ ${b64('Password:')}\r\n`);
    assert.equal(await other.command(b64(PASSWORD)), '+OK Logged in, 2 messages\r\n');
    assert.equal(await other.command('QUIT'), '+OK Signing off, 0 deleted, 2 left\r\n');
    assert.equal(await c.command(`AUTH PLAIN ${b64(`${USER}\0${USER}\0${PASSWORD}`)}`), '+OK Logged in, 2 messages\r\n');
  });

  test('one session per maildrop: the second gets [IN-USE] at once, and the lock is released on close', async () => {
    await c.login(USER, PASSWORD);
    const second = await Pop3TestClient.connect(h.port);
    await second.greeting();
    const started = Date.now();
    assert.equal(await second.login(USER, PASSWORD), '-ERR [IN-USE] Another POP3 session is using this mailbox; try again in a minute\r\n');
    assert.ok(Date.now() - started < 2000);
    c.destroy();
    await waitFor(async () => h.server.connections() === 1);
    assert.equal(await second.login(USER, PASSWORD), '+OK Logged in, 2 messages\r\n');
    second.destroy();
  });

  test('the message list is the snapshot taken at login', async () => {
    await c.login(USER, PASSWORD);
    await h.deliver('Subject: late\r\n\r\nlate\r\n');
    assert.equal(await c.command('STAT'), `+OK 2 ${WIRE1.length + WIRE2.length}\r\n`);
    assert.equal(await c.command('RETR 3'), '-ERR No such message; there are 2\r\n');
    assert.equal(await c.command('QUIT'), '+OK Signing off, 0 deleted, 2 left\r\n');
    const again = await Pop3TestClient.connect(h.port);
    await again.greeting();
    assert.equal(await again.login(USER, PASSWORD), '+OK Logged in, 3 messages\r\n');
    again.destroy();
  });

  test('pipelined commands are answered in order (RFC 2449 6.6)', async () => {
    c.write(`USER ${USER}\r\nPASS ${PASSWORD}\r\nSTAT\r\nUIDL 2\r\nRETR 1\r\nNOOP\r\nQUIT\r\n`);
    assert.equal(await c.reply('USER'), '+OK Send your password\r\n');
    assert.equal(await c.reply('PASS'), '+OK Logged in, 2 messages\r\n');
    assert.equal(await c.reply('STAT'), `+OK 2 ${WIRE1.length + WIRE2.length}\r\n`);
    assert.equal(await c.reply('UIDL 2'), `+OK 2 ${ids[1]}\r\n`);
    assert.equal(await c.reply('RETR 1'), `+OK ${WIRE1.length} octets\r\n${WIRE1}.\r\n`);
    assert.equal(await c.reply('NOOP'), '+OK\r\n');
    assert.equal(await c.reply('QUIT'), '+OK Signing off, 0 deleted, 2 left\r\n');
    await c.closed();
  });

  test('TOP does not mark \\Seen; QUIT in AUTHORIZATION just signs off', async () => {
    await c.login(USER, PASSWORD);
    await c.command('TOP 2 10');
    await c.command('QUIT');
    assert.deepEqual((await h.store.listMessages(h.inboxId)).map((m) => m.flags), [[], []]);
    const d = await Pop3TestClient.connect(h.port);
    await d.greeting();
    assert.equal(await d.command('QUIT'), '+OK pop.example.org POP3 server signing off\r\n');
    await d.closed();
  });

  test('too many bad commands close the connection', async () => {
    for (let i = 0; i < 19; i++) assert.equal(await c.command('BOGUS'), '-ERR Unknown command\r\n');
    assert.equal(await c.command('BOGUS'), '-ERR Unknown command\r\n');
    assert.equal(await c.readLine(), '-ERR Too many bad commands; closing the connection\r\n');
    await c.closed();
  });
});

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
