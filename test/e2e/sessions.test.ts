// Session history, protocol traces, the live list and kill, and the per-protocol counters:
// the real server with two workers, real clients (nodemailer, python3 poplib, imapflow,
// raw sockets, HTTP), and the CLI as the operator uses it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { ImapFlow } from 'imapflow';
import { cli, serve, tempDataDir, type Running } from './serve.js';

const run = promisify(execFile);
const PASSWORD = 'alice-Secret-42';
let dataDir: string;
let server: Running;

interface TraceJson {
  active: boolean;
  lines: Array<{ sessionId: string; protocol: string; direction: string; line: string }>;
}
interface HistoryJson {
  sessionId: string;
  protocol: string;
  login: string;
  endReason: string;
  clientId: string | null;
  commands: number;
  bytesIn: number;
  bytesOut: number;
  traced: boolean;
}

before(async () => {
  dataDir = tempDataDir();
  assert.equal((await cli(dataDir, ['domain', 'add', 'e2e.test'])).code, 0);
  assert.equal((await cli(dataDir, ['user', 'add', 'alice@e2e.test', '--password-stdin'], `${PASSWORD}\n`)).code, 0);
  assert.equal((await cli(dataDir, ['user', 'add', 'bob@e2e.test', '--password-stdin'], 'bob-secret-1\n')).code, 0);
  server = await serve(
    dataDir,
    {
      STEADYMAIL_SERVER_WORKERS: '2',
      STEADYMAIL_LIMITS_COMMAND_TIMEOUT_SECONDS: '2',
      STEADYMAIL_LIMITS_AUTH_FAILURES_BEFORE_DELAY: '100',
      STEADYMAIL_LISTEN_MANAGESIEVE: 'off',
      STEADYMAIL_LISTEN_SUBMISSIONS: 'off',
      STEADYMAIL_LISTEN_POP3S: 'off',
      STEADYMAIL_LISTEN_IMAPS: 'off',
      STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '3',
    },
    ['smtp', 'submission', 'pop3', 'imap', 'http'],
  );
});

after(async () => {
  const code = await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  assert.equal(code, 0);
});

const port = (name: string): number => server.ports.get(name)!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ok(args: string[]): Promise<string> {
  const r = await cli(dataDir, args);
  assert.equal(r.code, 0, `steadymail ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function trace(account: string): Promise<TraceJson> {
  return JSON.parse(await ok(['trace', 'show', account, '--json'])) as TraceJson;
}

async function history(account: string): Promise<HistoryJson[]> {
  return JSON.parse(await ok(['sessions', 'history', account, '--json'])) as HistoryJson[];
}

/** Waits until `check` passes (rows are written when a session ends, asynchronously). */
async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean, what: string): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 60; i++) {
    last = await read();
    if (check(last)) return last;
    await sleep(250);
  }
  assert.fail(`${what}: ${JSON.stringify(last)}`);
}

async function pop3(user: string, password: string, commands: string[] = ['STAT']): Promise<string> {
  const script = `
import poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1]), timeout=10)
p.user(sys.argv[2])
try:
    print(p.pass_(sys.argv[3]).decode())
    for c in sys.argv[4:]:
        print(p._shortcmd(c).decode())
except poplib.error_proto as e:
    print(e.args[0].decode())
p.quit()
`;
  const { stdout } = await run('python3', ['-c', script, String(port('pop3')), user, password, ...commands]);
  return stdout.trim();
}

/** A raw POP3 connection: sends lines, returns everything read until the server closes or `closeAfterMs`. */
function rawPop3(lines: string[], options: { partial?: string; closeAfterMs?: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port('pop3'), '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    socket.once('data', () => {
      socket.write(lines.map((l) => `${l}\r\n`).join(''));
      if (options.partial) setTimeout(() => socket.write(options.partial!), 300);
      if (options.closeAfterMs !== undefined) setTimeout(() => socket.destroy(), options.closeAfterMs);
    });
  });
}

test('a trace holds each protocol’s commands and replies in order, passwords masked, bodies summarised; history rows say how sessions ended', async () => {
  assert.match(await ok(['trace', 'on', 'alice@e2e.test']), /tracing alice@e2e\.test until/);
  assert.match(await ok(['trace', 'on', 'bob@e2e.test', '--for', '8s']), /tracing bob@e2e\.test until/);
  await sleep(5600); // every worker re-reads the switches within 5 s

  // bob: recorded while his short trace is on.
  assert.match(await pop3('bob@e2e.test', 'bob-secret-1'), /^\+OK Logged in/);

  // SMTP submission (nodemailer): AUTH PLAIN's payload masked, the body as size + hash.
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: port('submission'), secure: false, tls: { rejectUnauthorized: false }, auth: { user: 'alice@e2e.test', pass: PASSWORD }, name: 'outlook.client.test' });
  await transport.sendMail({ from: 'alice@e2e.test', to: 'bob@e2e.test', subject: 'traced', text: 'hello bob, this body is summarised' });
  transport.close();

  // POP3: USER/PASS, STAT, QUIT.
  assert.match(await pop3('alice@e2e.test', PASSWORD, ['STAT', 'NOOP']), /^\+OK Logged in/);

  // IMAP: ID, LOGIN, APPEND (a literal: summarised), LOGOUT.
  const imap = new ImapFlow({ host: '127.0.0.1', port: port('imap'), secure: false, doSTARTTLS: false, auth: { user: 'alice@e2e.test', pass: PASSWORD }, logger: false, clientInfo: { name: 'TraceTest Mail', version: '9.1' } });
  await imap.connect();
  await imap.append('INBOX', 'Subject: appended\r\n\r\nsecret appended body\r\n');
  await imap.logout();

  // Webmail sign-in and one API request.
  const base = `http://127.0.0.1:${port('http')}`;
  const signIn = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'TraceBrowser/1.0' }, body: JSON.stringify({ username: 'alice@e2e.test', password: PASSWORD }) });
  assert.equal(signIn.status, 200);
  const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
  assert.equal((await fetch(`${base}/api/folders`, { headers: { cookie } })).status, 200);

  const t = await eventually(
    () => trace('alice@e2e.test'),
    (v) => ['submission', 'pop3', 'imap', 'webmail'].every((p) => v.lines.some((l) => l.protocol === p && /ended|^\d{3}/.test(l.line))) && v.lines.some((l) => l.line.startsWith('GET /api/folders')),
    'every protocol in the trace',
  );
  assert.equal(t.active, true);
  const all = t.lines.map((l) => l.line).join('\n');
  assert.ok(!all.includes(PASSWORD), 'the password never shows');
  assert.ok(!all.includes(Buffer.from(`\0alice@e2e.test\0${PASSWORD}`).toString('base64')), 'nor the AUTH PLAIN payload');
  assert.ok(!all.includes('hello bob'), 'the submitted body is summarised');
  assert.ok(!all.includes('secret appended body'), 'the appended body is summarised');

  const of = (protocol: string) => {
    const lines = t.lines.filter((l) => l.protocol === protocol);
    return lines.filter((l) => l.sessionId === lines[0]!.sessionId).map((l) => `${l.direction} ${l.line}`);
  };
  const smtp = of('submission');
  const smtpWanted = [/^S 220 /, /^C EHLO outlook\.client\.test$/, /^S 250-/, /^C AUTH PLAIN \*\*\*$/, /^S 235 /, /^C MAIL FROM:<alice@e2e\.test>/i, /^S 250 /, /^C RCPT TO:<bob@e2e\.test>/i, /^S 250 /, /^C DATA$/, /^S 354 /, /^C <message body \[\d+ bytes sha256 [0-9a-f]{64}\]>$/, /^S 250 /, /^\* session ended: /];
  assertInOrder(smtp, smtpWanted, 'SMTP submission');

  const pop = of('pop3');
  assertInOrder(pop, [/^C USER alice@e2e\.test$/, /^S \+OK/, /^C PASS \*\*\*$/, /^S \+OK Logged in/, /^C STAT$/, /^S \+OK \d+ \d+$/, /^C NOOP$/, /^S \+OK$/, /^C QUIT$/, /^S \+OK/, /^\* session ended: quit$/], 'POP3');

  const im = of('imap');
  assertInOrder(
    im,
    [/^S \* OK \[CAPABILITY/, /^C \S+ ID \(/, /^S \* ID /, /^C \S+ AUTHENTICATE PLAIN$/, /^S \+ $/, /^C \*\*\*$/, /^S \S+ OK \[CAPABILITY .*\] Logged in$/, /^C \S+ APPEND INBOX .*\[\d+ bytes sha256 [0-9a-f]{64}\]/, /^S \S+ OK /, /^C \S+ LOGOUT$/, /^S \* BYE/, /^\* session ended: quit$/],
    'IMAP',
  );
  assertInOrder(of('webmail'), [/^C POST \/api\/session \{"username":"alice@e2e\.test","password":"\*\*\*"\}$/, /^S 200 signed in$/, /^\* session ended: quit$/], 'webmail sign-in');

  // History: one row per session, with the client's identity and how it ended.
  const rows = await eventually(() => history('alice@e2e.test'), (r) => r.length >= 4, 'history rows');
  const row = (protocol: string) => rows.find((r) => r.protocol === protocol)!;
  // nodemailer closes right after its QUIT, without waiting for 221: either ending is honest.
  assert.deepEqual([row('submission').login, row('submission').clientId, row('submission').traced], ['ok', 'outlook.client.test', true]);
  assert.match(row('submission').endReason, /^(quit|dropped)$/);
  assert.deepEqual([row('imap').login, row('imap').endReason, row('imap').clientId], ['ok', 'quit', 'TraceTest Mail 9.1']);
  assert.deepEqual([row('pop3').login, row('pop3').endReason, row('pop3').commands], ['ok', 'quit', 5]);
  assert.ok(row('pop3').bytesIn > 40 && row('pop3').bytesOut > 40, 'bytes counted');
  assert.deepEqual([row('webmail').login, row('webmail').clientId], ['ok', 'TraceBrowser/1.0']);

  // bob's trace ended by itself: a new session is not recorded, and show says so.
  await sleep(Math.max(0, 8000 - 5600));
  const before = (await trace('bob@e2e.test')).lines.length;
  assert.ok(before > 0, 'bob was traced while on');
  assert.match(await pop3('bob@e2e.test', 'bob-secret-1'), /^\+OK Logged in/);
  await eventually(() => history('bob@e2e.test'), (r) => r.length >= 2, 'bob’s second session');
  const bob = await trace('bob@e2e.test');
  assert.equal(bob.active, false);
  assert.equal(bob.lines.length, before, 'nothing recorded after the trace expired');
  assert.match((await cli(dataDir, ['trace', 'show', 'bob@e2e.test'])).stdout, /trace of bob@e2e\.test: ended /);
  const [latest, earlier] = await history('bob@e2e.test');
  assert.deepEqual([latest?.traced, earlier?.traced], [false, true]);

  assert.match(await ok(['trace', 'off', 'alice@e2e.test']), /stopped/);
});

test('history rows for a wrong password, a command timeout and a dropped connection', async () => {
  const earlier = (await history('bob@e2e.test')).length;
  assert.match(await pop3('bob@e2e.test', 'wrong-password'), /^-ERR \[AUTH\]/);
  // Logged in, then a command line never completed: the 2 s command timeout ends it.
  const timedOut = await rawPop3(['USER bob@e2e.test', 'PASS bob-secret-1'], { partial: 'ST' });
  assert.match(timedOut, /-ERR \[SYS\/TEMP\] Command not completed in time/);
  // Logged in, then the client vanishes.
  await rawPop3(['USER bob@e2e.test', 'PASS bob-secret-1'], { closeAfterMs: 500 });
  const rows = await eventually(() => history('bob@e2e.test'), (r) => r.length >= earlier + 3, 'three more rows');
  const recent = rows.slice(0, 3).map((r) => `${r.login}/${r.endReason}`).sort();
  assert.deepEqual(recent, ['failed/quit', 'ok/dropped', 'ok/timeout']);
  const text = (await cli(dataDir, ['sessions', 'history', 'bob@e2e.test'])).stdout;
  assert.match(text, /\tpop3\t127\.0\.0\.1\tok\ttimeout\t/);
});

test('/metrics counts commands, errors and failed logins of every worker', async () => {
  const text = await (await fetch(`http://127.0.0.1:${port('http')}/metrics`)).text();
  const value = (series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };
  // POP3 sessions so far with USER: bob ×2, alice ×1, wrong password ×1, timeout ×1, dropped ×1.
  assert.equal(value('steadymail_pop3_commands_total{command="USER"}'), 6);
  assert.equal(value('steadymail_pop3_commands_total{command="STAT"}'), 3, 'bob ×2, alice ×1');
  assert.equal(value('steadymail_imap_commands_total{command="AUTHENTICATE"}'), 1);
  assert.ok(value('steadymail_imap_commands_total{command="APPEND"}') >= 1);
  assert.ok(value('steadymail_smtp_commands_total{command="EHLO"}') >= 1);
  assert.equal(value('steadymail_smtp_commands_total{command="DATA"}'), 1);
  assert.equal(value('steadymail_auth_failures_total{protocol="pop3"}'), 1);
  assert.ok(value('steadymail_command_errors_total{protocol="pop3",kind="-ERR"}') >= 2, 'the wrong password and the timeout');
  assert.equal(value('steadymail_sessions_total{protocol="pop3",reason="timeout"}'), 1);
  assert.equal(value('steadymail_sessions_total{protocol="pop3",reason="dropped"}'), 1);
});

test('sessions list shows an open session, and sessions kill disconnects its client', async () => {
  const imap = new ImapFlow({ host: '127.0.0.1', port: port('imap'), secure: false, doSTARTTLS: false, auth: { user: 'alice@e2e.test', pass: PASSWORD }, logger: false });
  const closed = new Promise<void>((resolve) => imap.on('close', () => resolve()));
  await imap.connect();
  await imap.mailboxOpen('INBOX');
  const live = await eventually(
    async () => JSON.parse(await ok(['sessions', 'list', '--json'])) as Array<{ sessionId: string; protocol: string; account: string | null }>,
    (l) => l.some((s) => s.protocol === 'imap' && s.account === 'alice@e2e.test'),
    'the IMAP session in the live list',
  );
  const id = live.find((s) => s.protocol === 'imap' && s.account === 'alice@e2e.test')!.sessionId;
  assert.match(await ok(['sessions', 'kill', id]), new RegExp(`session ${id} ended`));
  await Promise.race([closed, sleep(10_000).then(() => assert.fail('the client was not disconnected'))]);
  const rows = await eventually(() => history('alice@e2e.test'), (r) => r.some((x) => x.sessionId === id), 'the killed session in the history');
  assert.equal(rows.find((x) => x.sessionId === id)?.endReason, 'killed');
  const missing = await cli(dataDir, ['sessions', 'kill', id]);
  assert.notEqual(missing.code, 0, 'a session no longer open cannot be killed');
});

function assertInOrder(lines: string[], wanted: RegExp[], what: string): void {
  let at = 0;
  for (const re of wanted) {
    const found = lines.findIndex((l, i) => i >= at && re.test(l));
    assert.ok(found >= 0, `${what}: ${re} not found in order after line ${at} in:\n${lines.join('\n')}`);
    at = found + 1;
  }
}
