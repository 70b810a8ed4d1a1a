// Authentication, TLS and connection limits over real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'selfsigned';
import { PASSWORD, RawClient, startServer } from './harness.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

async function certs(): Promise<{ key: string; cert: string }> {
  const pems = await generate([{ name: 'commonName', value: 'imap.test' }], { keySize: 2048 });
  return { key: pems.private, cert: pems.cert };
}

test('LOGIN failures, AUTHENTICATE PLAIN (SASL-IR and continuation), AUTHENTICATE LOGIN', async () => {
  const h = await startServer();
  try {
    const c = await RawClient.connect(h.port);
    assert.equal((await c.cmd('a', 'LOGIN alice@example.com wrong')).at(-1), 'a NO [AUTHENTICATIONFAILED] Authentication failed');
    assert.equal((await c.cmd('b', 'SELECT INBOX')).at(-1), 'b BAD SELECT not allowed before authentication');
    // A literal for a command that cannot run now is refused before upload (RFC 9051 7.5).
    c.write('c APPEND INBOX {10}\r\n');
    assert.equal(await c.next(), 'c BAD APPEND not allowed now');
    const ok = await c.cmd('d', `AUTHENTICATE PLAIN ${b64(`\0alice@example.com\0${PASSWORD}`)}`);
    assert.match(ok.at(-1) ?? '', /^d OK \[CAPABILITY IMAP4rev1 .*UIDPLUS.*\] Logged in$/);
    assert.equal((await c.cmd('e', 'LOGIN a b')).at(-1), 'e BAD LOGIN not allowed in this state');
    c.close();

    const p = await RawClient.connect(h.port);
    p.write('a AUTHENTICATE PLAIN\r\n');
    assert.equal(await p.next(), '+ ');
    p.write(`${b64(`alice@example.com\0alice@example.com\0${PASSWORD}`)}\r\n`);
    assert.match(await p.next(), /^a OK /);
    p.close();

    const l = await RawClient.connect(h.port);
    l.write('a AUTHENTICATE LOGIN\r\n');
    assert.equal(await l.next(), `+ ${b64('Username:')}`);
    l.write(`${b64('alice@example.com')}\r\n`);
    assert.equal(await l.next(), `+ ${b64('Password:')}`);
    l.write(`${b64(PASSWORD)}\r\n`);
    assert.match(await l.next(), /^a OK /);
    l.close();

    const x = await RawClient.connect(h.port);
    x.write('a AUTHENTICATE PLAIN\r\n');
    await x.next();
    x.write('*\r\n');
    assert.equal(await x.next(), 'a BAD Authentication cancelled');
    // Three failures end the connection (with text on the BYE).
    await x.cmd('b', 'LOGIN alice@example.com x');
    await x.cmd('c', 'LOGIN alice@example.com x');
    assert.deepEqual(await x.cmd('d', 'LOGIN alice@example.com x').catch(() => x.lines.slice(-1)), ['* BYE Too many failed logins']);
    x.close();
  } finally {
    await h.close();
  }
});

test('STARTTLS: LOGINDISABLED before, plaintext login refused, login after; pipelined bytes dropped', async () => {
  const tls = await certs();
  const h = await startServer({ tls, allowPlaintext: (_ip, secure) => secure });
  try {
    const c = await RawClient.connect(h.port);
    const caps = (await c.cmd('a', 'CAPABILITY'))[0] ?? '';
    assert.match(caps, /STARTTLS/);
    assert.match(caps, /LOGINDISABLED/);
    assert.doesNotMatch(caps, /AUTH=PLAIN/);
    assert.equal((await c.cmd('b', `LOGIN alice@example.com "${PASSWORD}"`)).at(-1), 'b NO [PRIVACYREQUIRED] Plaintext authentication is not allowed without TLS');
    // The injected NOOP must never run: it was sent in plaintext with STARTTLS.
    c.write('c STARTTLS\r\nx NOOP\r\n');
    assert.equal(await c.next(), 'c OK Begin TLS negotiation now');
    await c.startTls();
    const caps2 = (await c.cmd('d', 'CAPABILITY'))[0] ?? '';
    assert.doesNotMatch(caps2, /STARTTLS|LOGINDISABLED/);
    assert.match(caps2, /AUTH=PLAIN/);
    assert.ok(!c.lines.some((l) => l.startsWith('x ')));
    await c.login();
    assert.equal((await c.cmd('e', 'STARTTLS')).at(-1), 'e BAD STARTTLS not allowed in this state');
    c.close();
  } finally {
    await h.close();
  }
});

test('implicit TLS (IMAPS)', async () => {
  const h = await startServer({ tls: await certs(), implicitTls: true });
  try {
    const c = await RawClient.connect(h.port, true);
    assert.match(c.lines[0] ?? '', /^\* OK \[CAPABILITY IMAP4rev1 .*AUTH=PLAIN.*\] imap.test Steadymail IMAP ready$/);
    assert.doesNotMatch(c.lines[0] ?? '', /STARTTLS/);
    await c.login();
    c.close();
  } finally {
    await h.close();
  }
});

test('limits: connections per IP, line length, autologout, graceful close', async () => {
  const h = await startServer({ limits: { maxLineBytes: 200, maxLiteralBytes: 1000, idleTimeoutMs: 600, maxConnectionsPerIp: 2, authFailureDelayMs: 0 } });
  try {
    const a = await RawClient.connect(h.port);
    const b = await RawClient.connect(h.port);
    await assert.rejects(RawClient.connect(h.port).then((c) => c.next()), /closed/);
    assert.equal(h.server.connections(), 2);
    a.write(`t NOOP ${'x'.repeat(300)}\r\n`);
    assert.equal(await a.next(), 't BAD [TOOBIG] Line too long');
    await a.login();
    a.write('ap APPEND INBOX {5000}\r\n');
    assert.equal(await a.next(), 'ap NO [TOOBIG] Message too large');
    // IDLE allows far more silence than idleTimeoutMs (RFC 9051 5.4)
    a.write('i IDLE\r\n');
    assert.equal(await a.next(), '+ idling');
    // inactivity: autologout with a BYE that has text
    assert.equal(await b.next(2000), '* BYE Autologout; idle for too long');
    await new Promise((r) => setTimeout(r, 700));
    await h.server.close(1000);
    assert.equal(await a.next(), '* BYE Server shutting down');
  } finally {
    await h.close();
  }
});
