// ManageSieve conversations (RFC 5804) over real sockets: greeting, STARTTLS,
// SASL PLAIN/LOGIN (with and without an initial response), every script
// command, literals and their limits, errors with line:column.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createManageSieveServer, type ManageSieveServer } from '../../src/managesieve/index.js';
import { LoginThrottle } from '../../src/auth/authenticator.js';
import { PASSWORD, silentLogger, testCert, testStore, type TestEnv } from '../smtp/harness.js';
import { SieveTalk, b64, literal } from './client.js';

let env: TestEnv;
let server: ManageSieveServer;
let port: number;
let strictServer: ManageSieveServer;
let strictPort: number;

const PLAIN = `AUTHENTICATE "PLAIN" "${b64(`\0alice@example.org\0${PASSWORD}`)}"`;

before(async () => {
  env = await testStore();
  const cert = await testCert();
  const base = {
    store: env.store,
    logger: silentLogger,
    hostname: 'sieve.example.org',
    tls: cert,
    maxScriptBytes: 2048,
    maxScripts: 3,
    maxRedirects: 4,
    idleTimeoutMs: 10_000,
    maxLineBytes: 1024,
    maxConnectionsPerIp: 20,
    throttle: new LoginThrottle(env.store, { maxFailuresPerIp: 100, maxFailuresPerAccount: 100, windowMs: 60_000, failuresBeforeDelay: 0, baseDelayMs: 1, maxDelayMs: 5 }),
  };
  server = createManageSieveServer({ ...base, allowPlaintext: () => true });
  port = (await server.listen('127.0.0.1', 0)).port;
  strictServer = createManageSieveServer({ ...base, allowPlaintext: (_ip, secure) => secure });
  strictPort = (await strictServer.listen('127.0.0.1', 0)).port;
});

after(async () => {
  await server.close(500);
  await strictServer.close(500);
  await env.close();
});

async function loggedIn(): Promise<SieveTalk> {
  const c = await SieveTalk.connect(port);
  await c.response();
  assert.match(await c.command(PLAIN), /^OK/);
  return c;
}

test('greeting lists the capabilities; CAPABILITY, NOOP with a tag, LOGOUT', async () => {
  const c = await SieveTalk.connect(port);
  const greeting = await c.response();
  assert.match(greeting, /^"IMPLEMENTATION" "Steadymail"\r\n/);
  assert.match(greeting, /^"SIEVE" "fileinto reject ereject envelope imap4flags copy body variables vacation relational subaddress date index regex mailbox include comparator-i;ascii-numeric"\r$/m);
  assert.match(greeting, /^"SASL" "PLAIN LOGIN"\r$/m);
  assert.match(greeting, /^"STARTTLS"\r$/m);
  assert.match(greeting, /^"VERSION" "1.0"\r$/m);
  assert.match(greeting, /OK "sieve.example.org Steadymail ManageSieve ready"\r\n$/);
  assert.match(await c.command('CAPABILITY'), /"MAXREDIRECTS" "4"\r\n[\s\S]*OK "Capability completed"\r\n$/);
  assert.equal(await c.command('NOOP "abc"'), 'OK (TAG "abc") "Done"\r\n');
  assert.equal(await c.command('LISTSCRIPTS'), 'NO "Authenticate first"\r\n');
  assert.equal(await c.command('LOGOUT'), 'OK "Logout completed"\r\n');
});

test('without TLS: no mechanisms offered, AUTHENTICATE gets ENCRYPT-NEEDED; after STARTTLS the capabilities come again and login works', async () => {
  const c = await SieveTalk.connect(strictPort);
  const greeting = await c.response();
  assert.match(greeting, /^"SASL" ""\r$/m);
  assert.equal(await c.command(PLAIN), 'NO (ENCRYPT-NEEDED) "Use STARTTLS before authenticating"\r\n');
  const caps = await c.startTls();
  assert.match(caps, /^"SASL" "PLAIN LOGIN"\r$/m);
  assert.doesNotMatch(caps, /STARTTLS/);
  assert.match(caps, /OK "TLS negotiation successful"\r\n$/);
  assert.equal(await c.command(PLAIN), 'OK "Authenticated"\r\n');
  assert.match(await c.command('CAPABILITY'), /"OWNER" "alice@example.org"/);
  c.close();
});

test('SASL: PLAIN without initial response, LOGIN with challenges, wrong password, cancel, UNAUTHENTICATE', async () => {
  const c = await SieveTalk.connect(port);
  await c.response();
  c.send('AUTHENTICATE "PLAIN"\r\n');
  assert.equal(await c.response({ challenge: true }), '""\r\n');
  assert.equal(await c.command(`"${b64(`\0alice@example.org\0${PASSWORD}`)}"`), 'OK "Authenticated"\r\n');
  assert.equal(await c.command('UNAUTHENTICATE'), 'OK "Unauthenticated"\r\n');
  c.send('AUTHENTICATE "LOGIN"\r\n');
  assert.equal(await c.response({ challenge: true }), `"${b64('Username:')}"\r\n`);
  c.send(`"${b64('alice@example.org')}"\r\n`);
  assert.equal(await c.response({ challenge: true }), `"${b64('Password:')}"\r\n`);
  // A literal is a string too.
  assert.equal(await c.command(literal(b64(PASSWORD))), 'OK "Authenticated"\r\n');
  assert.equal(await c.command('UNAUTHENTICATE'), 'OK "Unauthenticated"\r\n');
  assert.equal(await c.command(`AUTHENTICATE "PLAIN" "${b64('\0alice@example.org\0wrong')}"`), 'NO "Authentication failed"\r\n');
  c.send('AUTHENTICATE "LOGIN"\r\n');
  await c.response({ challenge: true });
  assert.equal(await c.command('"*"'), 'NO "Authentication cancelled"\r\n');
  assert.equal(await c.command('AUTHENTICATE "CRAM-MD5"'), 'NO "Unsupported authentication mechanism"\r\n');
  c.close();
});

test('scripts: PUTSCRIPT, LISTSCRIPTS, SETACTIVE, GETSCRIPT, RENAMESCRIPT, DELETESCRIPT, HAVESPACE, CHECKSCRIPT', async () => {
  const c = await loggedIn();
  const script = 'require "fileinto";\r\nif header :contains "subject" "x" { fileinto "X"; }\r\n';
  assert.equal(await c.command(`PUTSCRIPT "one" ${literal(script)}`), 'OK "Putscript completed"\r\n');
  // A synchronizing-style literal {n} is accepted too (no continuation in ManageSieve).
  c.send(`PUTSCRIPT "two" {5}\r\nkeep;\r\n`);
  assert.equal(await c.response(), 'OK "Putscript completed"\r\n');
  assert.equal(await c.command('LISTSCRIPTS'), '"one"\r\n"two"\r\nOK "Listscripts completed"\r\n');
  assert.equal(await c.command('SETACTIVE "one"'), 'OK "Setactive completed"\r\n');
  assert.equal(await c.command('LISTSCRIPTS'), '"one" ACTIVE\r\n"two"\r\nOK "Listscripts completed"\r\n');
  assert.equal(await c.command('GETSCRIPT "one"'), `{${script.length}}\r\n${script}\r\nOK "Getscript completed"\r\n`);
  assert.equal(await c.command('GETSCRIPT "nope"'), 'NO (NONEXISTENT) "There is no script by that name"\r\n');
  assert.equal(await c.command('DELETESCRIPT "one"'), 'NO (ACTIVE) "The active script cannot be deleted; deactivate it first"\r\n');
  assert.equal(await c.command('RENAMESCRIPT "one" "two"'), 'NO (ALREADYEXISTS) "A script by that name already exists"\r\n');
  assert.equal(await c.command('RENAMESCRIPT "one" "main"'), 'OK "Renamescript completed"\r\n');
  assert.equal(await c.command('LISTSCRIPTS'), '"main" ACTIVE\r\n"two"\r\nOK "Listscripts completed"\r\n');
  assert.equal(await c.command('HAVESPACE "three" 100'), 'OK "Putscript would succeed"\r\n');
  assert.equal(await c.command('HAVESPACE "three" 5000'), 'NO (QUOTA/MAXSIZE) "Scripts are limited to 2048 bytes"\r\n');
  assert.equal(await c.command(`PUTSCRIPT "three" ${literal('discard;')}`), 'OK "Putscript completed"\r\n');
  assert.equal(await c.command('HAVESPACE "four" 10'), 'NO (QUOTA/MAXSCRIPTS) "At most 3 scripts per account"\r\n');
  assert.equal(await c.command('SETACTIVE ""'), 'OK "No script is active now"\r\n');
  assert.equal(await c.command('DELETESCRIPT "main"'), 'OK "Deletescript completed"\r\n');
  assert.equal(await c.command(`CHECKSCRIPT ${literal('keep;')}`), 'OK "Script is valid"\r\n');
  assert.equal(await c.command('DELETESCRIPT "nope"'), 'NO (NONEXISTENT) "There is no script by that name"\r\n');
  for (const s of await env.store.listSieveScripts((await env.store.getAccount('alice@example.org'))!.id)) await c.command(`DELETESCRIPT "${s.name}"`);
  c.close();
});

test('a broken script is refused with line:column and is not stored', async () => {
  const c = await loggedIn();
  const broken = 'require "fileinto";\r\nif header :is "a" "b" {\r\n  fileinto "X"\r\n}\r\n';
  assert.equal(await c.command(`PUTSCRIPT "bad" ${literal(broken)}`), 'NO "line 4, column 1: expected \\";\\" or \\"{\\" after \\"fileinto\\", found \\"}\\""\r\n');
  assert.equal(await c.command(`CHECKSCRIPT ${literal('fileinto "x";')}`), 'NO "line 1, column 1: \\"fileinto\\" needs require \\"fileinto\\""\r\n');
  assert.equal(await c.command('LISTSCRIPTS'), 'OK "Listscripts completed"\r\n');
  c.close();
});

test('limits: an oversized literal is skipped and refused, a long line is refused, the session goes on', async () => {
  const c = await loggedIn();
  const huge = '#'.repeat(50_000);
  c.send(`PUTSCRIPT "huge" {${huge.length}+}\r\n${huge}\r\n`);
  assert.equal(await c.response(), 'NO (QUOTA/MAXSIZE) "A literal of 50000 bytes is over the limit of 2048 bytes"\r\n');
  assert.equal(await c.command('NOOP'), 'OK "Done"\r\n');
  assert.equal(await c.command('NOOP "' + 'x'.repeat(2000) + '"'), 'NO "Line too long"\r\n');
  assert.equal(await c.command('PUTSCRIPT "unterminated'), 'NO "Unterminated quoted string"\r\n');
  assert.equal(await c.command('FROB'), 'NO "Unknown command FROB"\r\n');
  assert.equal(await c.command('NOOP'), 'OK "Done"\r\n');
  c.close();
});

test('an independent client (python3 socket) uploads and activates a script', async () => {
  const py = `
import socket, base64, sys
s = socket.create_connection(("127.0.0.1", ${port}))
f = s.makefile("rb")
def resp():
    out = []
    while True:
        line = f.readline().decode()
        out.append(line)
        if line.startswith(("OK", "NO", "BYE")):
            return "".join(out)
resp()
auth = base64.b64encode(b"\\0bob@example.org\\0${PASSWORD}").decode()
s.sendall(('AUTHENTICATE "PLAIN" "%s"\\r\\n' % auth).encode())
print(resp().strip())
script = b'require ["fileinto"];\\r\\nfileinto "Py";\\r\\n'
s.sendall(b'PUTSCRIPT "py" {%d+}\\r\\n' % len(script) + script + b'\\r\\n')
print(resp().strip())
s.sendall(b'SETACTIVE "py"\\r\\n')
print(resp().strip())
s.sendall(b'LISTSCRIPTS\\r\\n')
print(resp().strip().replace("\\r\\n", "|"))
s.sendall(b'LOGOUT\\r\\n')
print(resp().strip())
`;
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn('python3', ['-c', py]);
    let o = '';
    p.stdout.on('data', (d: Buffer) => (o += d.toString()));
    p.stderr.on('data', (d: Buffer) => (o += d.toString()));
    p.on('error', reject);
    p.on('close', () => resolve(o));
  });
  assert.equal(out.replace(/\r/g, ''), ['OK "Authenticated"', 'OK "Putscript completed"', 'OK "Setactive completed"', '"py" ACTIVE|OK "Listscripts completed"', 'OK "Logout completed"', ''].join('\n'));
  const bob = (await env.store.getAccount('bob@example.org'))!;
  assert.equal((await env.store.getActiveSieveScript(bob.id))?.name, 'py');
});
