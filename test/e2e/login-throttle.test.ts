// Failed logins count across protocols and worker processes: the real server with two
// workers; failures over POP3 (landing on both workers), IMAP and SMTP AUTH add up, and
// then the right password is refused on every protocol from that address.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { ImapFlow } from 'imapflow';
import { cli, serve, tempDataDir, type Running } from './serve.js';

const run = promisify(execFile);
let dataDir: string;
let server: Running;
const failurePids = new Set<number>();

before(async () => {
  dataDir = tempDataDir();
  assert.equal((await cli(dataDir, ['domain', 'add', 'e2e.test'])).code, 0);
  assert.equal((await cli(dataDir, ['user', 'add', 'alice@e2e.test', '--password-stdin'], 'alice-secret\n')).code, 0);
  server = await serve(
    dataDir,
    {
      STEADYMAIL_SERVER_WORKERS: '2',
      STEADYMAIL_AUTH_MAX_FAILURES_PER_IP: '5',
      STEADYMAIL_LIMITS_AUTH_FAILURES_BEFORE_DELAY: '100',
      STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '3',
    },
    ['smtp', 'submission', 'pop3', 'imap'],
  );
  createInterface({ input: server.child.stdout! }).on('line', (line) => {
    if (!line.includes('POP3 login failed')) return;
    const entry = JSON.parse(line) as { pid?: number };
    if (typeof entry.pid === 'number') failurePids.add(entry.pid);
  });
});

after(async () => {
  const code = await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  assert.equal(code, 0);
});

async function pop3Login(password: string): Promise<string> {
  const script = `
import poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1]), timeout=10)
p.user('alice@e2e.test')
try:
    print(p.pass_(sys.argv[2]).decode())
    p.quit()
except poplib.error_proto as e:
    print(e.args[0].decode())
`;
  const { stdout } = await run('python3', ['-c', script, String(server.ports.get('pop3')), password]);
  return stdout.trim();
}

async function imapLogin(password: string): Promise<string> {
  const client = new ImapFlow({ host: '127.0.0.1', port: server.ports.get('imap')!, secure: false, auth: { user: 'alice@e2e.test', pass: password }, logger: false, doSTARTTLS: false });
  try {
    await client.connect();
    await client.logout();
    return 'OK';
  } catch (err) {
    const e = err as { responseText?: string; serverResponseCode?: string; message: string };
    return `${e.serverResponseCode ?? ''} ${e.responseText ?? e.message}`;
  } finally {
    client.close();
  }
}

async function smtpAuth(password: string): Promise<string> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: server.ports.get('submission'),
    secure: false,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user: 'alice@e2e.test', pass: password },
  });
  try {
    await transport.verify();
    return 'OK';
  } catch (err) {
    return String((err as { response?: string }).response);
  } finally {
    transport.close();
  }
}

test('failures on POP3, IMAP and SMTP, in either worker, add up to one limit', async () => {
  assert.match(await pop3Login('alice-secret'), /^\+OK/, 'the right password works before any failure');
  for (let i = 0; i < 3; i++) assert.match(await pop3Login('wrong'), /^-ERR \[AUTH\] Invalid/);
  for (let i = 0; i < 50 && failurePids.size < 2; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(failurePids.size, 2, 'the POP3 failures were answered by both worker processes');
  assert.match(await imapLogin('wrong'), /AUTHENTICATIONFAILED/);
  assert.match(await smtpAuth('wrong'), /^535 5\.7\.8/);

  // Five failures from this address: the right password is refused everywhere now.
  assert.match(await pop3Login('alice-secret'), /^-ERR \[AUTH\] Too many failed logins/);
  assert.match(await imapLogin('alice-secret'), /UNAVAILABLE/);
  assert.match(await smtpAuth('alice-secret'), /^454 4\.7\.0/);
});
