// Fuzz: thousands of random and mutated command lines and byte streams. The
// parser may only ever return a command or throw ParseError, and the framer may
// only ever return events; neither may hang (the test timeout catches that).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCommandPrefix, parseCommand } from './commands.js';
import { ParseError } from './errors.js';
import { Framer, type FramerMode } from './framer.js';

/** Deterministic PRNG (mulberry32) so a failure is reproducible from its iteration number. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n + n) % n;
  };
}

// A longer hunt: FUZZ_ITERATIONS=200000 FUZZ_SEED=123 node scripts/run-tests.mjs src/imap/parser/fuzz.test.ts
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 6000);
const SEED = Number(process.env.FUZZ_SEED ?? 20240601);
const LONG_RUN = ITERATIONS > 6000;

const SEEDS = [
  'a1 LOGIN {3+}\r\nfoo "b\\"ar"',
  'a2 SELECT INBOX (QRESYNC (1 2 1:5 (1:3 4:6)))',
  'a3 UID FETCH 1:*,5 (FLAGS BODY.PEEK[1.2.HEADER.FIELDS (From To)]<0.100> BINARY[1] BINARY.SIZE[2] MODSEQ) (CHANGEDSINCE 5 VANISHED)',
  'a4 SEARCH RETURN (MIN MAX) CHARSET UTF-8 OR (FROM "x" SINCE 1-Feb-2024) NOT $ HEADER Subject {3+}\r\nabc MODSEQ "/flags/\\\\seen" priv 5',
  'a5 LIST (SUBSCRIBED RECURSIVEMATCH) "" ("INBOX" "%" &AMk-t&AOk-) RETURN (CHILDREN STATUS (MESSAGES UNSEEN) SPECIAL-USE)',
  'a6 APPEND "Sent" (\\Seen $Fw) " 7-Feb-1994 21:52:25 -0800" {2+}\r\nhi (\\Draft) ~{3+}\r\n\0\0\0',
  'a7 STORE 1:3 (UNCHANGEDSINCE 5) -FLAGS.SILENT (\\Deleted $Junk)',
  'a8 ID ("name" "x" "version" NIL)',
  'a9 SORT (REVERSE DATE SUBJECT) UTF-8 ALL UNSEEN LARGER 100',
  'b1 THREAD REFERENCES US-ASCII OR SEEN (DELETED NOT FLAGGED)',
  'b2 CREATE Junk (USE (\\Junk \\Trash))',
  'b3 STATUS "Sent Messages" (MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)',
  'b4 AUTHENTICATE PLAIN AGZyZWQAZm9vYmFy',
  'b5 ENABLE QRESYNC UTF8=ACCEPT',
  'b6 UID EXPUNGE 1:4,7',
  'b7 RENAME "a/b" c',
  'b8 COPY $ Trash',
  'b9 FETCH 1 FULL',
  'c1 SETQUOTA "" (STORAGE 512 MESSAGE 10)',
  'c2 APPEND Drafts UTF8 (~{3+}\r\nabc)',
];

const TOKENS = [
  ' ', '  ', '(', ')', '[', ']', '<', '>', '{', '}', '"', '\\', '*', '%', '$', ':', ',', '.', '+', '-', '~', '=',
  '\r\n', '\r', '\n', '\0', '\xff', '\xc3', '&', '&-', '&AMk', 'NIL', '0', '1', '4294967295', '4294967296',
  '99999999999999999999', '{0}\r\n', '{3}\r\nabc', '{5+}\r\nab', '~{2}\r\n\0\0', 'UID', 'FLAGS', 'BODY[', 'BODY.PEEK[',
  'HEADER.FIELDS (', 'MIME', 'TEXT', 'NOT', 'OR', 'RETURN (', 'CHARSET', 'UTF-8', '\\Seen', '\\*', 'INBOX', 'CHANGEDSINCE',
  'VANISHED', 'QRESYNC (', 'STATUS (', 'USE (', '"1-Jan-2024 00:00:00 +0000"', '1-Jan-2024', 'SEARCH', 'FETCH',
];

const NAMES = [
  'CAPABILITY', 'NOOP', 'LOGOUT', 'STARTTLS', 'AUTHENTICATE', 'LOGIN', 'SELECT', 'EXAMINE', 'CREATE', 'DELETE', 'RENAME',
  'SUBSCRIBE', 'UNSUBSCRIBE', 'LIST', 'LSUB', 'NAMESPACE', 'STATUS', 'APPEND', 'CHECK', 'CLOSE', 'UNSELECT', 'EXPUNGE',
  'SEARCH', 'FETCH', 'STORE', 'COPY', 'MOVE', 'UID FETCH', 'UID STORE', 'UID SEARCH', 'UID EXPUNGE', 'UID COPY', 'IDLE',
  'ENABLE', 'ID', 'SORT', 'THREAD', 'GETQUOTA', 'GETQUOTAROOT', 'SETQUOTA', 'COMPRESS',
];

function mutate(line: string, rand: (n: number) => number): string {
  let s = line;
  for (let k = 1 + rand(4); k > 0; k--) {
    const at = rand(s.length + 1);
    switch (rand(6)) {
      case 0:
        s = s.slice(0, at) + (TOKENS[rand(TOKENS.length)] ?? '') + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at + 1 + rand(8));
        break;
      case 2:
        s = s.slice(0, at);
        break;
      case 3:
        s = s.slice(0, at) + String.fromCharCode(rand(256)) + s.slice(at + 1);
        break;
      case 4: {
        const len = rand(12);
        s = s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
        break;
      }
      default:
        s = s.slice(0, at) + (SEEDS[rand(SEEDS.length)] ?? '').slice(rand(20));
    }
  }
  return s;
}

function generate(rand: (n: number) => number): string {
  let s = `t${rand(100)} ${NAMES[rand(NAMES.length)] ?? 'NOOP'}`;
  for (let k = rand(10); k > 0; k--) s += (rand(3) === 0 ? '' : ' ') + (TOKENS[rand(TOKENS.length)] ?? '');
  return s;
}

function mustParseOrParseError(bytes: Buffer, utf8Accept: boolean, label: string): void {
  try {
    parseCommand(bytes, { utf8Accept });
  } catch (err) {
    if (!(err instanceof ParseError)) {
      assert.fail(`${label}: ${JSON.stringify(bytes.toString('latin1'))} threw ${String(err)}`);
    }
    assert.ok(err.kind === 'bad' || err.kind === 'no');
  }
}

test('parser: seeds parse cleanly', () => {
  for (const seed of SEEDS) parseCommand(Buffer.from(seed, 'latin1'), { utf8Accept: true });
});

test(`parser: ${ITERATIONS} mutated and generated lines only ever give a command or a ParseError`, { timeout: LONG_RUN ? Number.POSITIVE_INFINITY : 10_000 }, () => {
  const rand = prng(SEED);
  for (let i = 0; i < ITERATIONS; i++) {
    const line = i % 3 === 0 ? generate(rand) : mutate(SEEDS[rand(SEEDS.length)] ?? '', rand);
    mustParseOrParseError(Buffer.from(line, 'latin1'), i % 2 === 0, `iteration ${i}`);
  }
});

test(`framer: ${Math.ceil(ITERATIONS / 15)} random streams in random chunks, modes and limits never throw or stall`, { timeout: LONG_RUN ? Number.POSITIVE_INFINITY : 10_000 }, () => {
  const rand = prng(SEED + 1);
  const modes: FramerMode[] = ['command', 'command', 'idle', 'authenticate'];
  for (let i = 0; i < Math.ceil(ITERATIONS / 15); i++) {
    const parts: string[] = [];
    for (let k = 1 + rand(8); k > 0; k--) parts.push(mutate(SEEDS[rand(SEEDS.length)] ?? '', rand) + (rand(5) === 0 ? '\n' : '\r\n'));
    const bytes = Buffer.from(parts.join(''), 'latin1');
    const framer = new Framer({
      maxLineBytes: 16 + rand(200),
      maxLiteralBytes: rand(50),
      maxCommandBytes: 32 + rand(400),
      literalMinus: rand(2) === 0,
    }, rand(2) === 0 ? (prefix) => checkCommandPrefix(prefix, { utf8Accept: false }) : undefined);
    let events = 0;
    for (let pos = 0; pos < bytes.length; ) {
      const n = 1 + rand(40);
      framer.push(bytes.subarray(pos, pos + n));
      pos += n;
      for (let ev = framer.next(); ev; ev = framer.next()) {
        events++;
        // Every byte produces at most a couple of events; more means a loop.
        assert.ok(events <= 2 * bytes.length + 10, `stream ${i}: runaway events`);
        if (ev.type === 'command') mustParseOrParseError(ev.bytes, false, `stream ${i}`);
        if (ev.type === 'literal-request' && rand(4) === 0) framer.refuseLiteral();
        if (rand(10) === 0) framer.setMode(modes[rand(modes.length)] ?? 'command');
      }
    }
  }
});
