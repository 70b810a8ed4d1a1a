// The socket layer: STLS and POP3S, plaintext policy, timeouts, limits,
// shutdown, store failures, large messages and slow clients.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreUnavailable } from '../../src/store/errors.js';
import { encodeMessage } from '../../src/pop3/wire.js';
import { Pop3TestClient } from './client.js';
import { harness, PASSWORD, storeWith, testCertificate, USER, waitFor } from './harness.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const PLAINTEXT_REFUSED =
  '-ERR [AUTH] Plaintext authentication is not allowed on an unencrypted connection: use STLS first, or connect to the POP3S port\r\n';

test('STLS: plaintext refused before TLS, offered after; pipelined input after STLS is discarded (RFC 2595)', async () => {
  const h = await harness({ tls: await testCertificate(), allowPlaintext: () => false });
  try {
    await h.deliver('Subject: s\r\n\r\nsecret\r\n');
    const c = await Pop3TestClient.connect(h.port);
    await c.greeting();
    assert.equal(
      await c.command('CAPA'),
      '+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\nSTLS\r\nIMPLEMENTATION Steadymail\r\n.\r\n',
    );
    assert.equal(await c.command(`USER ${USER}`), PLAINTEXT_REFUSED);
    assert.equal(await c.command(`AUTH PLAIN ${b64(`\0${USER}\0${PASSWORD}`)}`), PLAINTEXT_REFUSED);
    assert.equal(await c.command('AUTH'), '+OK Supported authentication mechanisms\r\n.\r\n');
    // An attacker's injected command after STLS must not run inside the TLS session.
    c.write('STLS\r\nNOOP\r\n');
    assert.equal(await c.readLine(), '+OK Begin TLS negotiation\r\n');
    await c.startTls();
    assert.equal(
      await c.command('CAPA'),
      '+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\nUSER\r\nSASL PLAIN LOGIN\r\nIMPLEMENTATION Steadymail\r\n.\r\n',
    );
    assert.equal(await c.command('STLS'), '-ERR Already using TLS\r\n');
    assert.equal(await c.login(USER, PASSWORD), '+OK Logged in, 1 message\r\n');
    assert.equal(await c.command('RETR 1'), '+OK 22 octets\r\nSubject: s\r\n\r\nsecret\r\n.\r\n');
    assert.equal(await c.command('QUIT'), '+OK Signing off, 0 deleted, 1 left\r\n');
  } finally {
    await h.close();
  }
});

test('POP3S: implicit TLS, plaintext mechanisms allowed inside it', async () => {
  const h = await harness({ tls: await testCertificate(), implicitTls: true, allowPlaintext: () => false });
  try {
    const c = await Pop3TestClient.connect(h.port, { tls: true });
    assert.match(await c.greeting(), /^\+OK /);
    assert.doesNotMatch(await c.command('CAPA'), /STLS/);
    assert.equal(await c.command(`AUTH PLAIN ${b64(`\0${USER}\0${PASSWORD}`)}`), '+OK Logged in, 0 messages\r\n');
    assert.equal(await c.command('QUIT'), '+OK Signing off, 0 deleted, 0 left\r\n');
  } finally {
    await h.close();
  }
});

test('idle timeout: the session ends, marks are dropped, the lock is released', async () => {
  const h = await harness({ idleTimeoutMs: 300 });
  try {
    await h.deliver('Subject: a\r\n\r\na\r\n');
    const c = await Pop3TestClient.connect(h.port);
    await c.greeting();
    await c.login(USER, PASSWORD);
    assert.equal(await c.command('DELE 1'), '+OK Message 1 marked for deletion\r\n');
    assert.equal(await c.readLine(2000), '-ERR Disconnected for inactivity; nothing was deleted\r\n');
    await c.closed();
    await waitFor(() => h.server.connections() === 0);
    assert.equal((await h.store.listMessages(h.inboxId)).length, 1);
    const d = await Pop3TestClient.connect(h.port);
    await d.greeting();
    assert.equal(await d.login(USER, PASSWORD), '+OK Logged in, 1 message\r\n');
    d.destroy();
  } finally {
    await h.close();
  }
});

test('per-address connection limit', async () => {
  const h = await harness({ maxConnectionsPerIp: 2 });
  try {
    const a = await Pop3TestClient.connect(h.port);
    const b = await Pop3TestClient.connect(h.port);
    await a.greeting();
    await b.greeting();
    const c = await Pop3TestClient.connect(h.port);
    assert.equal(await c.readLine(), '-ERR [SYS/TEMP] Too many connections from your address\r\n');
    await c.closed();
    a.destroy();
    await waitFor(() => h.server.connections() === 1);
    const d = await Pop3TestClient.connect(h.port);
    assert.match(await d.greeting(), /^\+OK/);
    b.destroy();
    d.destroy();
  } finally {
    await h.close();
  }
});

test('graceful close: idle sessions are told and closed, nothing deleted', async () => {
  const h = await harness();
  try {
    await h.deliver('Subject: a\r\n\r\na\r\n');
    const c = await Pop3TestClient.connect(h.port);
    await c.greeting();
    await c.login(USER, PASSWORD);
    await c.command('DELE 1');
    const closing = h.server.close(2000);
    assert.equal(await c.readLine(), '-ERR [SYS/TEMP] Server shutting down; nothing was deleted, please reconnect later\r\n');
    await c.closed();
    await closing;
    assert.equal(h.server.connections(), 0);
    assert.equal((await h.store.listMessages(h.inboxId)).length, 1);
    assert.equal(await h.store.acquireLease(`pop3:${h.account.id}`, 'probe', 1000), true, 'the maildrop lock was released');
  } finally {
    await h.close();
  }
});

test('store failures: [SYS/TEMP] at login and at QUIT, nothing deleted, session survives', async () => {
  const h = await harness({}, { noServer: true });
  try {
    await h.deliver('Subject: a\r\n\r\na\r\n');
    let failList = true;
    const store = storeWith(h.store, {
      listMessages: async (...args: Parameters<typeof h.store.listMessages>) => {
        if (failList) throw new StoreUnavailable('database is locked');
        return h.store.listMessages(...args);
      },
      expungeMessages: async () => {
        throw new StoreUnavailable('disk full');
      },
    });
    const { port } = await h.startServer({ store });
    const c = await Pop3TestClient.connect(port);
    await c.greeting();
    assert.equal(await c.login(USER, PASSWORD), '-ERR [SYS/TEMP] The mail store is temporarily unavailable; try again later\r\n');
    failList = false;
    assert.equal(await c.login(USER, PASSWORD), '+OK Logged in, 1 message\r\n', 'the failed login released its lock');
    await c.command('DELE 1');
    assert.equal(await c.command('QUIT'), '-ERR [SYS/TEMP] Could not delete the marked messages; nothing was deleted, please try again\r\n');
    await c.closed();
    assert.equal((await h.store.listMessages(h.inboxId)).length, 1);
  } finally {
    await h.close();
  }
});

test('an unexpected exception ends that session only, with a logged error', async () => {
  const h = await harness({}, { noServer: true });
  try {
    const store = storeWith(h.store, {
      getMailbox: async () => {
        throw new TypeError('a bug');
      },
    });
    const { port } = await h.startServer({ store });
    const c = await Pop3TestClient.connect(port);
    await c.greeting();
    assert.equal(await c.login(USER, PASSWORD), '-ERR [SYS/TEMP] Internal server error; closing the connection (nothing was deleted)\r\n');
    await c.closed();
    assert.equal(h.logger.entries.filter((e) => e.level === 'error').length, 1);
    const d = await Pop3TestClient.connect(port);
    assert.match(await d.greeting(), /^\+OK/);
    assert.equal(await d.command('NOOP'), '+OK\r\n');
    d.destroy();
    assert.equal(await h.store.acquireLease(`pop3:${h.account.id}`, 'probe', 1000), true, 'the lock was released');
  } finally {
    await h.close();
  }
});

test('a large message streams to a slow reader longer than the idle timeout; a stalled one is dropped', async () => {
  // Above loopback's zero-window probe backoff (200 ms, doubling), which can
  // delay a paused reader's window update; the transfer still takes longer.
  const h = await harness({ idleTimeoutMs: 1200 });
  try {
    const line = 'abcdefghijklmnopqrstuvwxyz0123456789.,;ABCDEFGHIJKLMNOPQRSTUVWXYZ\n';
    const raw = Buffer.from('Subject: big\n\n' + line.repeat(100_000) + '.starts with a dot\n');
    await h.deliver(raw);
    const expected = encodeMessage(raw);
    const c = await Pop3TestClient.connect(h.port);
    await c.greeting();
    await c.login(USER, PASSWORD);
    assert.equal(await c.command('LIST 1'), `+OK 1 ${expected.length}\r\n`);
    // A raw reader that takes a break after every chunk: far slower than the server.
    const sock = c.socket;
    sock.removeAllListeners('data');
    const status = `+OK ${expected.length} octets\r\n`;
    const want = status.length + expected.length + 3;
    const started = Date.now();
    const all = await new Promise<Buffer>((resolve, reject) => {
      sock.once('close', () => reject(new Error(`the server closed the connection during the transfer: ${JSON.stringify(h.logger.entries.filter((e) => e.level === 'debug').slice(-3).map((e) => e.msg))}`)));
      const got: Buffer[] = [];
      let size = 0;
      sock.on('data', (d: Buffer) => {
        got.push(d);
        size += d.length;
        if (size >= want) return resolve(Buffer.concat(got));
        sock.pause();
        setTimeout(() => sock.resume(), 30);
      });
      sock.write('RETR 1\r\n');
    });
    assert.ok(Date.now() - started > 1200, `the transfer took longer than the idle timeout (${Date.now() - started} ms)`);
    assert.equal(all.subarray(0, status.length).toString('latin1'), status);
    assert.ok(all.subarray(status.length, status.length + expected.length).equals(expected), 'the message arrived intact');
    assert.equal(all.subarray(want - 3, want).toString(), '.\r\n');
    // Now stop reading entirely: the server gives up after the idle period.
    sock.removeAllListeners('data');
    sock.pause();
    sock.write('RETR 1\r\n');
    await waitFor(() => h.server.connections() === 0, 5000);
    c.destroy();
  } finally {
    await h.close();
  }
});

test('LOGIN-DELAY is advertised and enforced; authFailureDelayMs delays failures; mark-seen can be off', async () => {
  const h = await harness({ loginDelaySeconds: 60, authFailureDelayMs: 200, markSeenOnRetr: false });
  try {
    await h.deliver('Subject: a\r\n\r\na\r\n');
    const c = await Pop3TestClient.connect(h.port);
    await c.greeting();
    assert.match(await c.command('CAPA'), /\r\nLOGIN-DELAY 60\r\n/);
    await c.command(`USER ${USER}`);
    const t0 = Date.now();
    assert.equal(await c.command('PASS wrong'), '-ERR [AUTH] Invalid login name or password\r\n');
    assert.ok(Date.now() - t0 >= 190, 'the failure was delayed');
    assert.equal(await c.login(USER, PASSWORD), '+OK Logged in, 1 message\r\n');
    await c.command('RETR 1');
    await c.command('QUIT');
    assert.deepEqual((await h.store.listMessages(h.inboxId))[0]!.flags, []);
    const d = await Pop3TestClient.connect(h.port);
    await d.greeting();
    assert.match(await d.login(USER, PASSWORD), /^-ERR \[LOGIN-DELAY\] Please wait \d+ more seconds between logins\r\n$/);
    d.destroy();
  } finally {
    await h.close();
  }
});
