// The server under random, mostly-plausible input: no internal error is ever
// logged, every connection gets answers, and the server keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, append, msg, startServer } from './harness.js';

/** Small deterministic PRNG (mulberry32) so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'FETCH', 'UID', 'STORE', 'SEARCH', 'COPY', 'MOVE', 'EXPUNGE', 'SELECT', 'EXAMINE', 'LIST', 'LSUB', 'STATUS', 'APPEND',
  'CREATE', 'DELETE', 'RENAME', 'SUBSCRIBE', 'NOOP', 'IDLE', 'DONE', 'ENABLE', 'SORT', 'THREAD', 'CLOSE', 'UNSELECT',
  'NAMESPACE', 'ID', 'GETQUOTAROOT', 'CHECK', 'INBOX', 'Trash', '"a b"', '1', '1:*', '*', '$', '2,4:5', '0', '4294967296',
  '(FLAGS)', '(BODY[])', 'BODY.PEEK[1.MIME]', 'BODY[HEADER.FIELDS (From)]<0.5>', 'BINARY[1]', '(ENVELOPE BODYSTRUCTURE)',
  '+FLAGS', '-FLAGS.SILENT', '(\\Seen)', '(\\Deleted $x)', 'ALL', 'OR', 'NOT', 'SUBJECT', 'HEADER', 'X', 'SINCE', '1-Jan-2020',
  '(MESSAGES UNSEEN)', '""', '"*"', '%', 'RETURN', '(MIN MAX)', '(CONDSTORE)', '(CHANGEDSINCE 1)', 'UTF-8', 'REFERENCES',
  '(SUBJECT)', '{3}', '{2+}', 'ab', '(', ')', '\\', '"', 'IMAP4rev2', 'QRESYNC', 'CONDSTORE',
];

const SETS = ['1', '2:3', '1:*', '*', '3,1', '$', '7'];
const MBOXES = ['INBOX', 'Trash', 'Fz', 'Nope'];
const ITEMS = ['(FLAGS)', '(UID ENVELOPE)', 'BODY.PEEK[]', '(BODY[1] RFC822.SIZE)', 'FAST', '(BODYSTRUCTURE MODSEQ)', 'BINARY.PEEK[1]<0.3>'];
const FLAGS = ['(\\Seen)', '(\\Deleted)', '($Fz \\Flagged)', '()'];
const TEMPLATES: Array<(p: <T>(xs: readonly T[]) => T) => string> = [
  (p) => `${p(['', 'UID '])}FETCH ${p(SETS)} ${p(ITEMS)}`,
  (p) => `${p(['', 'UID '])}STORE ${p(SETS)} ${p(['+FLAGS', '-FLAGS', 'FLAGS', '+FLAGS.SILENT'])} ${p(FLAGS)}`,
  (p) => `${p(['', 'UID '])}SEARCH ${p(['ALL', 'UNSEEN', 'DELETED', 'KEYWORD $Fz', 'RETURN (SAVE) FLAGGED', 'OR SEEN 2:3', 'BODY hello'])}`,
  (p) => `${p(['', 'UID '])}${p(['COPY', 'MOVE'])} ${p(SETS)} ${p(MBOXES)}`,
  (p) => p(['EXPUNGE', 'UID EXPUNGE 1:*', 'NOOP', 'CHECK', 'CLOSE', 'UNSELECT']),
  (p) => `${p(['SELECT', 'EXAMINE'])} ${p(MBOXES)}`,
  (p) => `SORT (${p(['SUBJECT', 'REVERSE DATE', 'SIZE'])}) UTF-8 ALL`,
  (p) => `THREAD ${p(['REFERENCES', 'ORDEREDSUBJECT'])} UTF-8 ALL`,
  (p) => `STATUS ${p(MBOXES)} (MESSAGES UIDNEXT UNSEEN DELETED)`,
  () => `APPEND INBOX {18+}\r\nSubject: fz\r\n\r\nhello`,
  () => 'IDLE',
];

test('random commands never break a session or the server', async () => {
  const h = await startServer({ limits: { maxLineBytes: 2000, maxLiteralBytes: 5000, idleTimeoutMs: 60_000, maxConnectionsPerIp: 20, authFailureDelayMs: 0 } });
  try {
    const setup = await RawClient.connect(h.port);
    await setup.login();
    for (let i = 0; i < 5; i++) await append(setup, 'INBOX', msg(`m${i}`));
    setup.close();
    const rnd = prng(20261128);
    const pick = (): string => WORDS[Math.floor(rnd() * WORDS.length)] as string;
    await Promise.all(
      [0, 1, 2, 3].map(async (n) => {
        const c = await RawClient.connect(h.port);
        if (n > 0) await c.login();
        if (n > 1) await c.cmd('s', 'SELECT INBOX');
        if (n > 0) await c.cmd('c', 'CREATE Fz');
        for (let i = 0; i < 150; i++) {
          const pickFrom = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
          const structured = rnd() < 0.7;
          const words = structured ? [pickFrom(TEMPLATES)(pickFrom)] : Array.from({ length: 1 + Math.floor(rnd() * 6) }, pick);
          let line = `t${i} ${words.join(' ')}`;
          if (rnd() < 0.05) line = Buffer.from(Array.from({ length: 20 }, () => Math.floor(rnd() * 256))).toString('latin1');
          c.write(Buffer.from(`${line}\r\n`, 'latin1'));
          if (words.includes('IDLE')) c.write('DONE\r\n');
          if (words.some((w) => w.startsWith('{'))) c.write('xyz\r\n');
        }
        // Whatever state the session is in, it still answers (or has said BYE).
        c.write('zz NOOP\r\nDONE\r\nzz2 NOOP\r\n');
        const deadline = Date.now() + 10_000;
        while (!c.closed && !c.lines.some((l) => /^zz2? (OK|BAD|NO)/.test(l)) && Date.now() < deadline) await c.drain(50);
        assert.ok(c.closed || c.lines.some((l) => /^zz2? (OK|BAD|NO)/.test(l)), c.lines.slice(-10).join('\n'));
        c.close();
      }),
    );
    // Every view, once synced, equals the store (MSN map invariant).
    const uids = (await h.store.listMessages((await h.store.getMailbox(h.account.id, 'INBOX'))!.id, { withoutStructure: true })).map((m) => m.uid);
    const check = await RawClient.connect(h.port);
    await check.login();
    await check.cmd('s', 'SELECT INBOX');
    const r = await check.cmd('u', 'UID SEARCH ALL');
    assert.equal(r[0], `* SEARCH${uids.map((u) => ' ' + u).join('')}`);
    check.close();
    const after = await RawClient.connect(h.port);
    await after.login();
    assert.equal((await after.cmd('n', 'SELECT INBOX')).at(-1), 'n OK [READ-WRITE] SELECT completed');
    after.close();
    assert.deepEqual(
      h.logs.filter((l) => l.level === 'error'),
      [],
    );
  } finally {
    await h.close();
  }
});
