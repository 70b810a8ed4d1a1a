// ManageSieve sessions in the session observer: the real server, a real ManageSieve client
// over a real socket (STARTTLS, AUTHENTICATE PLAIN, literals), and the CLI as the operator
// uses it: the account's trace (credentials masked, scripts summarised), history rows for
// how sessions ended, the /metrics counters, and a kill from `steadymail sessions kill`;
// over SQLite and over PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createTestDatabase } from '../../src/store/contract/pg-test-db.js';
import { cli, serve, tempDataDir, type Running } from '../e2e/serve.js';
import { SieveTalk, b64, literal } from './client.js';

const PASSWORD = 'carol-Sieve-77';
const PAYLOAD = b64(`\0carol@sieve.test\0${PASSWORD}`);
const SCRIPT = 'require "fileinto";\r\nif header :contains "subject" "very private words" { fileinto "Junk"; }\r\n';
interface TraceJson {
  active: boolean;
  lines: Array<{ sessionId: string; protocol: string; direction: string; line: string }>;
}
interface HistoryJson {
  sessionId: string;
  protocol: string;
  login: string;
  endReason: string;
  tls: string | null;
  commands: number;
  bytesIn: number;
  bytesOut: number;
  traced: boolean;
}

for (const driver of ['sqlite', 'postgres'] as const) {
  describe(driver, () => {
    let dataDir: string;
    let server: Running;
    let db: { url: string; drop: () => Promise<void> } | undefined;
    let store: Record<string, string> = {};

    before(async () => {
      if (driver === 'postgres') {
        db = await createTestDatabase();
        store = { STEADYMAIL_STORE_DRIVER: 'postgres', STEADYMAIL_STORE_URL: db.url };
      }
      dataDir = tempDataDir();
      assert.equal((await cli(dataDir, ['domain', 'add', 'sieve.test'], undefined, store)).code, 0);
      assert.equal((await cli(dataDir, ['user', 'add', 'carol@sieve.test', '--password-stdin'], `${PASSWORD}\n`, store)).code, 0);
      server = await serve(
        dataDir,
        {
          ...store,
          STEADYMAIL_LIMITS_COMMAND_TIMEOUT_SECONDS: '2',
          STEADYMAIL_LIMITS_AUTH_FAILURES_BEFORE_DELAY: '100',
          STEADYMAIL_LISTEN_SMTP: 'off',
          STEADYMAIL_LISTEN_SUBMISSION: 'off',
          STEADYMAIL_LISTEN_SUBMISSIONS: 'off',
          STEADYMAIL_LISTEN_POP3: 'off',
          STEADYMAIL_LISTEN_POP3S: 'off',
          STEADYMAIL_LISTEN_IMAP: 'off',
          STEADYMAIL_LISTEN_IMAPS: 'off',
          STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '3',
        },
        ['managesieve', 'http'],
      );
    });

    after(async () => {
      const code = await server?.stop();
      rmSync(dataDir, { recursive: true, force: true });
      await db?.drop();
      assert.equal(code, 0);
    });

    const port = (name: string): number => server.ports.get(name)!;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    async function ok(args: string[]): Promise<string> {
      const r = await cli(dataDir, args, undefined, store);
      assert.equal(r.code, 0, `steadymail ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    }

    const trace = async (account: string) => JSON.parse(await ok(['trace', 'show', account, '--json'])) as TraceJson;
    const history = async (account: string) => JSON.parse(await ok(['sessions', 'history', account, '--json'])) as HistoryJson[];

    async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean, what: string): Promise<T> {
      let last: T | undefined;
      for (let i = 0; i < 60; i++) {
        last = await read();
        if (check(last)) return last;
        await sleep(250);
      }
      assert.fail(`${what}: ${JSON.stringify(last)}`);
    }

    async function connect(): Promise<SieveTalk> {
      const c = await SieveTalk.connect(port('managesieve'));
      assert.match(await c.response(), /^OK "mail\.e2e\.test Steadymail ManageSieve ready"\r\n$/m);
      return c;
    }

    async function loggedIn(): Promise<SieveTalk> {
      const c = await connect();
      assert.match(await c.command(`AUTHENTICATE "PLAIN" "${PAYLOAD}"`), /^OK "Authenticated"/);
      return c;
    }

    test('a ManageSieve trace holds commands and replies in order, AUTHENTICATE and scripts masked; the history row says how it ended', async () => {
      assert.match(await ok(['trace', 'on', 'carol@sieve.test']), /tracing carol@sieve\.test until/);
      await sleep(5600); // the switches are re-read within 5 s

      const c = await connect();
      assert.match(await c.startTls(), /OK "TLS negotiation successful"/);
      assert.match(await c.command(`AUTHENTICATE "PLAIN" "${PAYLOAD}"`), /^OK "Authenticated"/);
      assert.match(await c.command(`PUTSCRIPT "private" ${literal(SCRIPT)}`), /^OK "Putscript completed"/);
      assert.match(await c.command('LISTSCRIPTS'), /^"private"\r\nOK/);
      assert.match(await c.command('GETSCRIPT "private"'), /very private words/);
      assert.match(await c.command('SETACTIVE "missing"'), /^NO \(NONEXISTENT\)/);
      assert.match(await c.command('LOGOUT'), /^OK "Logout completed"/);
      c.close();

      // A login in two steps: the SASL response line is masked whole; a wrong password.
      const w = await connect();
      w.send('AUTHENTICATE "PLAIN"\r\n');
      assert.equal(await w.response({ challenge: true }), '""\r\n');
      assert.match(await w.command(`"${b64('\0carol@sieve.test\0wrong-password')}"`), /^NO "Authentication failed"/);
      assert.match(await w.command('LOGOUT'), /^OK/);
      w.close();

      const t = await eventually(
        () => trace('carol@sieve.test'),
        (v) => v.lines.filter((l) => l.protocol === 'managesieve' && l.line.startsWith('session ended')).length >= 2,
        'both ManageSieve sessions in the trace',
      );
      const all = t.lines.map((l) => l.line).join('\n');
      assert.ok(!all.includes(PASSWORD) && !all.includes(PAYLOAD), 'neither the password nor the AUTHENTICATE payload shows');
      assert.ok(!all.includes('wrong-password') && !all.includes(b64('\0carol@sieve.test\0wrong-password')), 'nor a SASL response line');
      assert.ok(!all.includes('very private words'), 'the script is summarised, sent or read back');

      const sessions = [...new Set(t.lines.filter((l) => l.protocol === 'managesieve').map((l) => l.sessionId))];
      assert.equal(sessions.length, 2);
      const of = (id: string) => t.lines.filter((l) => l.sessionId === id).map((l) => `${l.direction} ${l.line}`);
      const sha = '\\[\\d+ bytes sha256 [0-9a-f]{64}\\]';
      assertInOrder(
        of(sessions[0]!),
        [
          /^S "IMPLEMENTATION" "Steadymail" \| .*\| OK "mail\.e2e\.test Steadymail ManageSieve ready"$/,
          /^C STARTTLS$/,
          /^S OK "Begin TLS negotiation now"$/,
          /^S "IMPLEMENTATION" .* \| OK "TLS negotiation successful"$/,
          /^C AUTHENTICATE "PLAIN" \*\*\*$/,
          /^S OK "Authenticated"$/,
          new RegExp(`^C PUTSCRIPT "private" \\{${Buffer.byteLength(SCRIPT)}\\+\\} ${sha}$`),
          /^S OK "Putscript completed"$/,
          /^C LISTSCRIPTS$/,
          /^S "private" \| OK "Listscripts completed"$/,
          /^C GETSCRIPT "private"$/,
          new RegExp(`^S \\{${Buffer.byteLength(SCRIPT)}\\} ${sha} OK "Getscript completed"$`),
          /^C SETACTIVE "missing"$/,
          /^S NO \(NONEXISTENT\) /,
          /^C LOGOUT$/,
          /^S OK "Logout completed"$/,
          /^\* session ended: quit$/,
        ],
        'ManageSieve',
      );
      assertInOrder(of(sessions[1]!), [/^C AUTHENTICATE "PLAIN"$/, /^S ""$/, /^C \*\*\*$/, /^S NO "Authentication failed"$/, /^C LOGOUT$/, /^\* session ended: quit$/], 'two-step login');

      const rows = await eventually(() => history('carol@sieve.test'), (r) => r.length >= 2, 'history rows');
      const [failed, first] = rows;
      assert.deepEqual([first!.protocol, first!.login, first!.endReason, first!.commands, first!.traced], ['managesieve', 'ok', 'quit', 7, true]);
      assert.match(first!.tls ?? '', /^TLSv1\.[23]$/);
      assert.ok(first!.bytesIn > SCRIPT.length && first!.bytesOut > SCRIPT.length, 'bytes counted on the socket');
      assert.deepEqual([failed!.login, failed!.endReason, failed!.tls], ['failed', 'quit', null]);

      assert.match(await ok(['trace', 'off', 'carol@sieve.test']), /stopped/);
    });

    test('history rows for a command timeout and a dropped connection', async () => {
      const earlier = (await history('carol@sieve.test')).length;
      // Logged in, then a command line never completed: the 2 s command timeout ends it.
      const slow = await loggedIn();
      slow.send('LISTSCR');
      assert.match(await slow.response({ timeoutMs: 6000 }), /BYE "Command not completed in time"/);
      slow.close();
      // Logged in, then the client vanishes.
      const gone = await loggedIn();
      gone.close();
      const rows = await eventually(() => history('carol@sieve.test'), (r) => r.length >= earlier + 2, 'two more rows');
      assert.deepEqual(rows.slice(0, 2).map((r) => `${r.protocol}/${r.login}/${r.endReason}`).sort(), ['managesieve/ok/dropped', 'managesieve/ok/timeout']);
    });

    test('/metrics counts ManageSieve commands, errors, failed logins and how sessions ended', async () => {
      const text = await (await fetch(`http://127.0.0.1:${port('http')}/metrics`)).text();
      const value = (series: string): number => {
        const line = text.split('\n').find((l) => l.startsWith(`${series} `));
        return line ? Number(line.slice(series.length + 1)) : 0;
      };
      // AUTHENTICATE: the traced session, the two-step login, the timeout, the dropped one.
      assert.equal(value('steadymail_managesieve_commands_total{command="AUTHENTICATE"}'), 4);
      assert.equal(value('steadymail_managesieve_commands_total{command="STARTTLS"}'), 1);
      assert.equal(value('steadymail_managesieve_commands_total{command="PUTSCRIPT"}'), 1);
      assert.equal(value('steadymail_managesieve_commands_total{command="LOGOUT"}'), 2);
      assert.equal(value('steadymail_auth_failures_total{protocol="managesieve"}'), 1);
      assert.equal(value('steadymail_command_errors_total{protocol="managesieve",kind="NO"}'), 2, 'SETACTIVE of a missing script and the wrong password');
      assert.equal(value('steadymail_command_errors_total{protocol="managesieve",kind="BYE"}'), 1, 'the timeout');
      assert.equal(value('steadymail_sessions_total{protocol="managesieve",reason="quit"}'), 2);
      assert.equal(value('steadymail_sessions_total{protocol="managesieve",reason="timeout"}'), 1);
      assert.equal(value('steadymail_sessions_total{protocol="managesieve",reason="dropped"}'), 1);
      assert.match(text, /# HELP steadymail_managesieve_commands_total ManageSieve commands received/);
    });

    test('sessions list shows an open ManageSieve session, and sessions kill ends it with BYE', async () => {
      const c = await loggedIn();
      const live = await eventually(
        async () => JSON.parse(await ok(['sessions', 'list', '--json'])) as Array<{ sessionId: string; protocol: string; account: string | null }>,
        (l) => l.some((s) => s.protocol === 'managesieve' && s.account === 'carol@sieve.test'),
        'the ManageSieve session in the live list',
      );
      const id = live.find((s) => s.protocol === 'managesieve' && s.account === 'carol@sieve.test')!.sessionId;
      assert.match(await ok(['sessions', 'kill', id]), new RegExp(`session ${id} ended`));
      // The owner acts at its next heartbeat (every 5 s).
      assert.equal(await c.response({ timeoutMs: 10_000 }), 'BYE "Session ended by the administrator"\r\n');
      await eventually(async () => c.closed, (closed) => closed, 'the client disconnected');
      const rows = await eventually(() => history('carol@sieve.test'), (r) => r.some((x) => x.sessionId === id), 'the killed session in the history');
      assert.equal(rows.find((x) => x.sessionId === id)?.endReason, 'killed');
      assert.notEqual((await cli(dataDir, ['sessions', 'kill', id], undefined, store)).code, 0, 'a session no longer open cannot be killed');
    });
  });
}

function assertInOrder(lines: string[], wanted: RegExp[], what: string): void {
  let at = 0;
  for (const re of wanted) {
    const found = lines.findIndex((l, i) => i >= at && re.test(l));
    assert.ok(found >= 0, `${what}: ${re} not found in order after line ${at} in:\n${lines.join('\n')}`);
    at = found + 1;
  }
}
