// Protocol fuzzing of the live server: fast-check generates sessions of command words,
// arguments, literals, control bytes and binary garbage for SMTP, POP3 and IMAP, each
// sent over a fresh connection. After every case the server must still answer a normal
// client; at the end it must have logged no unexpected error and not have grown without
// bound. FUZZ_RUNS sets the number of cases per protocol (soak runs use more).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import { cli, rssMiB, serve, tempDataDir, type Running } from '../e2e/serve.js';
import { Wire } from '../security/wire.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
let dataDir: string;
let server: Running;
const errors: string[] = [];

before(async () => {
  dataDir = tempDataDir();
  assert.equal((await cli(dataDir, ['domain', 'add', 'fuzz.test'])).code, 0);
  assert.equal((await cli(dataDir, ['user', 'add', 'alice@fuzz.test', '--password-stdin'], 'alice-secret\n')).code, 0);
  server = await serve(dataDir, { STEADYMAIL_LIMITS_MAX_CONNECTIONS_PER_IP: '500', STEADYMAIL_SMTP_MAX_CONNECTIONS_PER_IP_PER_MINUTE: '0' }, ['smtp', 'pop3', 'imap']);
  createInterface({ input: server.child.stdout! }).on('line', (line) => {
    if (/"level":(50|60)/.test(line)) errors.push(line);
  });
});

after(async () => {
  const code = await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  assert.equal(code, 0);
});


/** Sends `bytes` in `pieces`, reads for a moment, closes. Resolves with what came back. */
function session(port: number, pieces: Buffer[]): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      let i = 0;
      const next = () => {
        if (i >= pieces.length || socket.destroyed) return setTimeout(() => socket.destroy(), 100);
        socket.write(pieces[i++]!);
        setImmediate(next);
      };
      next();
    });
    socket.on('close', () => resolve(got));
  });
}

/** A normal exchange: the greeting, then one command answered. */
async function healthy(port: number, command: string, answer: RegExp): Promise<void> {
  const c = await Wire.connect(port);
  try {
    await c.until(/^(220|\+OK|\* OK).*\r\n/m);
    c.write(command);
    await c.until(answer);
  } finally {
    c.close();
  }
}

const garbage = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((a) => Buffer.from(a));
const longLine = fc.integer({ min: 1000, max: 200_000 }).map((n) => Buffer.from('A'.repeat(n) + '\r\n'));
const lineEnd = fc.constantFrom('\r\n', '\n', '\r', '', '\r\r\n', '\0\r\n');
const atom = fc.oneof(
  fc.constantFrom('', ' ', '"', '(', ')', '{', '}', '[', ']', '<', '>', '*', '%', '\\', '~', '@', ':', '.', '..', '0', '-1', '4294967296', '1:*', '{5}', '{99999999999}', '{3+}', '~{2}', 'NIL', '=?utf-8?b?', '\u00e9', '\u{1F600}'),
  fc.string({ maxLength: 20 }),
);
function command(words: string[]): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.constantFrom(...words), fc.array(atom, { maxLength: 8 }), lineEnd)
    .map(([w, args, end]) => Buffer.from(`${w}${args.length ? ' ' : ''}${args.join(' ')}${end}`, 'utf8'));
}
function sessions(words: string[]): fc.Arbitrary<Buffer[]> {
  return fc.array(fc.oneof({ weight: 6, arbitrary: command(words) }, { weight: 2, arbitrary: garbage }, { weight: 1, arbitrary: longLine }), { minLength: 1, maxLength: 25 });
}

const SMTP = ['EHLO x', 'HELO x', 'MAIL FROM:', 'RCPT TO:', 'DATA', '.', 'RSET', 'NOOP', 'QUIT', 'VRFY', 'EXPN', 'HELP', 'AUTH PLAIN', 'AUTH LOGIN', 'STARTTLS', 'BDAT', 'MAIL FROM:<a@b> SIZE=', 'RCPT TO:<alice@fuzz.test>'];
const POP3 = ['USER', 'PASS', 'USER alice@fuzz.test', 'PASS alice-secret', 'STAT', 'LIST', 'RETR', 'DELE', 'NOOP', 'RSET', 'TOP', 'UIDL', 'CAPA', 'STLS', 'AUTH', 'AUTH PLAIN', 'APOP', 'QUIT'];
const IMAP = ['a LOGIN', 'a LOGIN alice@fuzz.test alice-secret', 'b SELECT', 'b SELECT INBOX', 'c FETCH', 'c FETCH 1:* (BODY[])', 'd SEARCH', 'e STORE', 'f APPEND INBOX', 'g LIST', 'h STATUS', 'i UID', 'j IDLE', 'DONE', 'k AUTHENTICATE PLAIN', 'l COMPRESS DEFLATE', 'm ENABLE', 'n ID', 'o NOTIFY', 'p LOGOUT', '*', '+'];

test('fuzzed sessions on SMTP, POP3 and IMAP: no crash, no unexpected error, the server keeps answering, memory bounded', async () => {
  const smtp = server.ports.get('smtp')!;
  const pop3 = server.ports.get('pop3')!;
  const imap = server.ports.get('imap')!;
  const baseline = rssMiB(server.child.pid!);
  const cases: Array<[number, string[], string, RegExp]> = [
    [smtp, SMTP, 'NOOP\r\n', /^250 .*\r\n/m],
    [pop3, POP3, 'CAPA\r\n', /^\.\r\n/m],
    [imap, IMAP, 'z NOOP\r\n', /^z OK.*\r\n/m],
  ];
  for (const [port, words, probe, answer] of cases) {
    await fc.assert(
      fc.asyncProperty(sessions(words), async (pieces) => {
        await session(port, pieces);
        await healthy(port, probe, answer);
      }),
      { numRuns: RUNS },
    );
  }
  assert.equal(server.child.exitCode, null, 'the server is still running');
  assert.deepEqual(errors, [], 'no error was logged');
  const grown = rssMiB(server.child.pid!) - baseline;
  assert.ok(grown < 150, `server RSS grew by ${grown.toFixed(0)} MiB`);
});
