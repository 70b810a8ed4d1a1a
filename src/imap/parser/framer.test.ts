import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCommandPrefix } from './commands.js';
import { Framer, type FrameEvent, type FramerLimits } from './framer.js';

const LIMITS: FramerLimits = { maxLineBytes: 200, maxLiteralBytes: 1000, maxCommandBytes: 4000 };

/** Feeds `input` in chunks of `size` bytes, answering every literal request like a session would. */
function run(input: string | Buffer, size = Number.POSITIVE_INFINITY, limits = LIMITS): FrameEvent[] {
  const f = new Framer(limits);
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const out: FrameEvent[] = [];
  const step = Number.isFinite(size) ? size : bytes.length || 1;
  for (let i = 0; i < bytes.length; i += step) {
    f.push(bytes.subarray(i, i + step));
    out.push(...f.drain());
  }
  return out;
}

function summary(events: FrameEvent[]): string[] {
  return events.map((e) => {
    switch (e.type) {
      case 'command':
        return `command ${JSON.stringify(e.bytes.toString('latin1'))}`;
      case 'literal-request':
        return `literal-request ${e.tag ?? '-'} ${e.command ?? '-'} ${e.size}${e.binary ? ' binary' : ''}`;
      case 'error':
        return `error ${e.error.kind} ${e.error.tag ?? '-'} ${e.error.code ? e.error.code + ' ' : ''}${e.error.message}`;
      case 'auth-response':
        return `auth-response ${e.response.toString('latin1')}`;
      default:
        return e.type;
    }
  });
}

test('simple lines become commands, CRLF or bare LF, blank lines ignored', () => {
  assert.deepEqual(summary(run('a1 NOOP\r\n\r\na2 CAPABILITY\na3 LOGOUT\r\n')), [
    'command "a1 NOOP"',
    'command "a2 CAPABILITY"',
    'command "a3 LOGOUT"',
  ]);
});

test('a partial line waits for more bytes', () => {
  const f = new Framer(LIMITS);
  f.push(Buffer.from('a1 NO'));
  assert.equal(f.next(), undefined);
  f.push(Buffer.from('OP\r'));
  assert.equal(f.next(), undefined);
  f.push(Buffer.from('\n'));
  assert.deepEqual(summary([f.next() as FrameEvent]), ['command "a1 NOOP"']);
  assert.ok(f.isIdle());
});

const LITERAL_CASES: Array<{ name: string; wire: string; expect: string[] }> = [
  {
    name: 'synchronizing literal (RFC 9051 4.3)',
    wire: 'A003 LOGIN {11}\r\nFRED FOOBAR {7}\r\nfat man\r\n',
    expect: [
      'literal-request A003 LOGIN 11',
      'literal-request A003 LOGIN 7',
      'command "A003 LOGIN {11}\\r\\nFRED FOOBAR {7}\\r\\nfat man"',
    ],
  },
  {
    name: 'non-synchronizing literal (RFC 7888)',
    wire: 'a1 APPEND INBOX {5+}\r\nhello\r\n',
    expect: ['command "a1 APPEND INBOX {5+}\\r\\nhello"'],
  },
  {
    name: 'literal8 (RFC 3516) may carry NUL and CRLF',
    wire: 'a1 APPEND INBOX ~{6+}\r\n\0a\r\n}\n\r\n',
    expect: ['command "a1 APPEND INBOX ~{6+}\\r\\n\\u0000a\\r\\n}\\n"'],
  },
  {
    name: 'literal whose content looks like a literal marker and a command',
    wire: 'a1 LOGIN {10+}\r\n{3}\r\nb NOOP {1}\r\nx\r\n',
    expect: ['literal-request a1 LOGIN 1', 'command "a1 LOGIN {10+}\\r\\n{3}\\r\\nb NOOP {1}\\r\\nx"'],
  },
  {
    name: 'MULTIAPPEND with two literals and a zero-length one',
    wire: 'A1 APPEND saved-messages (\\Seen) {3}\r\nabc (\\Seen) {0}\r\n\r\n',
    expect: ['literal-request A1 APPEND 3', 'literal-request A1 APPEND 0', 'command "A1 APPEND saved-messages (\\\\Seen) {3}\\r\\nabc (\\\\Seen) {0}\\r\\n"'],
  },
];

for (const c of LITERAL_CASES) {
  test(`${c.name}: same events at every split point and fed byte by byte`, () => {
    assert.deepEqual(summary(run(c.wire)), c.expect);
    assert.deepEqual(summary(run(c.wire, 1)), c.expect);
    const bytes = Buffer.from(c.wire, 'latin1');
    for (let cut = 1; cut < bytes.length; cut++) {
      const f = new Framer(LIMITS);
      f.push(bytes.subarray(0, cut));
      const events = f.drain();
      f.push(bytes.subarray(cut));
      events.push(...f.drain());
      assert.deepEqual(summary(events), c.expect, `split at ${cut}`);
    }
  });
}

test('line too long: one BAD, the rest of the line skipped, next command parsed', () => {
  const long = 'a1 SEARCH ' + 'X'.repeat(300);
  const expect = ['error bad a1 TOOBIG Line too long', 'command "a2 NOOP"'];
  assert.deepEqual(summary(run(`${long}\r\na2 NOOP\r\n`)), expect);
  assert.deepEqual(summary(run(`${long}\r\na2 NOOP\r\n`, 1)), expect);
  assert.deepEqual(summary(run(`${long}\r\na2 NOOP\r\n`, 7)), expect);
});

test('a too long line announcing a non-synchronizing literal skips that literal too', () => {
  const wire = `a1 APPEND INBOX ${'('.repeat(250)} {4+}\r\nb2 X\r\na3 NOOP\r\n`;
  const expect = ['error bad a1 TOOBIG Line too long', 'command "a3 NOOP"'];
  assert.deepEqual(summary(run(wire)), expect);
  assert.deepEqual(summary(run(wire, 1)), expect);
});

test('synchronizing literal over the limit is refused without reading it', () => {
  // The client waits for "+", sees the tagged NO instead and sends the next command.
  assert.deepEqual(summary(run('a1 APPEND INBOX {5000}\r\na2 NOOP\r\n')), [
    'error no a1 TOOBIG Message too large',
    'command "a2 NOOP"',
  ]);
  assert.deepEqual(summary(run('a1 LOGIN {5000}\r\na2 NOOP\r\n')), ['error bad a1 TOOBIG Literal too large', 'command "a2 NOOP"']);
});

test('non-synchronizing literal over the limit is skipped byte for byte, with the rest of its command', () => {
  const body = 'a9 DELETE INBOX\r\n'.repeat(70); // 1190 bytes that must never run as commands
  const wire = `a1 APPEND INBOX {${body.length}+}\r\n${body} (\\Seen) {3+}\r\nabc\r\na2 NOOP\r\n`;
  const expect = ['error no a1 TOOBIG Message too large', 'command "a2 NOOP"'];
  assert.deepEqual(summary(run(wire)), expect);
  assert.deepEqual(summary(run(wire, 1)), expect);
  assert.deepEqual(summary(run(wire, 13)), expect);
});

test('LITERAL-: a non-synchronizing literal above 4096 bytes is BAD [TOOBIG] and skipped', () => {
  const limits = { ...LIMITS, maxLiteralBytes: 100_000, maxCommandBytes: 200_000, literalMinus: true };
  const wire = `a1 APPEND INBOX {4097+}\r\n${'x'.repeat(4097)}\r\na2 NOOP\r\n`;
  assert.deepEqual(summary(run(wire, 1000, limits)), [
    'error bad a1 TOOBIG Non-synchronizing literal larger than 4096 bytes',
    'command "a2 NOOP"',
  ]);
  const ok = `a1 APPEND INBOX {4096+}\r\n${'x'.repeat(4096)}\r\n`;
  assert.equal(summary(run(ok, 1000, limits))[0]?.slice(0, 7), 'command');
});

test('total command size counts every literal', () => {
  const limits = { ...LIMITS, maxCommandBytes: 50 };
  assert.deepEqual(summary(run('a1 LOGIN {20+}\r\n01234567890123456789 {20+}\r\n01234567890123456789\r\na2 NOOP\r\n', 3, limits)), [
    'error bad a1 TOOBIG Literal too large',
    'command "a2 NOOP"',
  ]);
});

test('a huge literal size that cannot be skipped ends the command', () => {
  assert.deepEqual(summary(run('a1 LOGIN {99999999999+}\r\na2 NOOP\r\n')), ['error bad a1 TOOBIG Literal too large', 'command "a2 NOOP"']);
});

test('refuseLiteral() drops the command so the client can go on', () => {
  const f = new Framer(LIMITS);
  f.push(Buffer.from('a1 APPEND INBOX {10}\r\n'));
  const ev = f.next();
  assert.equal(ev?.type, 'literal-request');
  assert.equal(f.refuseLiteral(), true);
  assert.equal(f.refuseLiteral(), false);
  f.push(Buffer.from('a2 NOOP\r\n'));
  assert.deepEqual(summary(f.drain()), ['command "a2 NOOP"']);
});

test('idle mode: DONE ends it (any case), anything else is BAD; one line only', () => {
  const f = new Framer(LIMITS);
  f.push(Buffer.from('a1 IDLE\r\ndone\r\na2 IDLE\r\nNOOP\r\na3 NOOP\r\n'));
  assert.deepEqual(summary([f.next() as FrameEvent]), ['command "a1 IDLE"']);
  f.setMode('idle');
  assert.deepEqual(summary([f.next() as FrameEvent]), ['idle-done']);
  assert.equal(f.getMode(), 'command');
  assert.deepEqual(summary([f.next() as FrameEvent]), ['command "a2 IDLE"']);
  f.setMode('idle');
  assert.deepEqual(summary(f.drain()), ['error bad - Expected DONE', 'command "a3 NOOP"']);
});

test('authenticate mode: base64 response, empty response, * cancels, junk is BAD', () => {
  const f = new Framer(LIMITS);
  f.push(Buffer.from('AGZyZWQAZm9vYmFy\r\n\r\n*\r\nnot base64!\r\n'));
  const out: FrameEvent[] = [];
  for (let i = 0; i < 4; i++) {
    f.setMode('authenticate');
    out.push(f.next() as FrameEvent);
  }
  assert.deepEqual(summary(out), [
    'auth-response \0fred\0foobar',
    'auth-response ',
    'auth-cancel',
    'error bad - Invalid base64 in authentication response',
  ]);
});

test('pipelined commands in one chunk come out in order', () => {
  const wire = 'a1 SELECT INBOX\r\na2 FETCH 1:* FLAGS\r\na3 UID STORE 1 +FLAGS (\\Seen)\r\n';
  assert.deepEqual(summary(run(wire)).length, 3);
});

test('a synchronizing literal for a command that cannot succeed is refused up front', () => {
  assert.deepEqual(summary(run('a1 FROB {5}\r\na2 NOOP {3}\r\n+bad LOGIN {3}\r\na3 NOOP\r\n')), [
    'error bad a1 Unknown command FROB',
    'error bad a2 Unknown command NOOP',
    'error bad - Missing or invalid tag',
    'command "a3 NOOP"',
  ]);
  // UID commands are known by their full name.
  assert.deepEqual(summary(run('a1 UID SEARCH SUBJECT {3}\r\nabc\r\n')), ['literal-request a1 UID SEARCH 3', 'command "a1 UID SEARCH SUBJECT {3}\\r\\nabc"']);
  // A non-synchronizing literal must be read anyway; the parser reports the error.
  assert.deepEqual(summary(run('a1 FROB {1+}\r\nx\r\n')), ['command "a1 FROB {1+}\\r\\nx"']);
});

test('takeBuffered() hands over unframed bytes and forgets the partial command (STARTTLS, COMPRESS)', () => {
  const f = new Framer(LIMITS);
  f.push(Buffer.from('a1 STARTTLS\r\na2 LOGIN x y\r\na3 NO'));
  assert.deepEqual(summary([f.next() as FrameEvent]), ['command "a1 STARTTLS"']);
  assert.equal(f.takeBuffered().toString(), 'a2 LOGIN x y\r\na3 NO');
  assert.ok(f.isIdle());
  f.push(Buffer.from('a4 NOOP\r\n'));
  assert.deepEqual(summary(f.drain()), ['command "a4 NOOP"']);
});

test('with checkCommandPrefix, a synchronizing literal is only requested for a command that can still succeed', () => {
  const f = new Framer(LIMITS, (prefix) => checkCommandPrefix(prefix, { utf8Accept: false }));
  f.push(
    Buffer.from(
      [
        'a1 FETCH 1 {3}', // a literal cannot be a fetch item
        'a2 SEARCH CHARSET KOI8-R SUBJECT {4}', // NO [BADCHARSET] before the upload
        'a3 SELECT "&Jjo" (CONDSTORE) {1}',
        'a4 LOGIN {0}', // empty literal: the rest of the command is still to come
        ' {3}',
        'pwd',
        'a5 APPEND INBOX (\\Seen) {2}',
        'hi',
        '',
      ].join('\r\n'),
    ),
  );
  assert.deepEqual(summary(f.drain()), [
    'error bad a1 Missing fetch item',
    'error no a2 BADCHARSET (UTF-8 US-ASCII) Unsupported charset KOI8-R',
    'error no a3 Mailbox name is not valid mUTF-7',
    'literal-request a4 LOGIN 0',
    'literal-request a4 LOGIN 3',
    'command "a4 LOGIN {0}\\r\\n {3}\\r\\npwd"',
    'literal-request a5 APPEND 2',
    'command "a5 APPEND INBOX (\\\\Seen) {2}\\r\\nhi"',
  ]);
});
