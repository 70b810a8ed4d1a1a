// RFC 3502 MULTIAPPEND: several messages in one APPEND are added all together or
// not at all, and another session sees them arrive in one go (or not at all).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { RawClient, msg, startServer, type Harness } from './harness.js';

let h: Harness;
before(async () => {
  h = await startServer();
});
after(async () => {
  await h.close();
});

function multiAppend(c: RawClient, tag: string, mailbox: string, messages: string[]): Promise<string[]> {
  const parts = messages.map((m, i) => `${i % 2 === 0 ? '(\\Seen) ' : ''}{${Buffer.byteLength(m)}+}\r\n${m}`);
  c.write(`${tag} APPEND ${mailbox} ${parts.join(' ')}\r\n`);
  return c.until(tag);
}

test('MULTIAPPEND is advertised; three messages arrive together with one APPENDUID range', async () => {
  const c = await RawClient.connect(h.port);
  const watcher = await RawClient.connect(h.port);
  try {
    await c.login();
    await watcher.login();
    assert.match((await c.cmd('c', 'CAPABILITY'))[0] ?? '', / MULTIAPPEND /);
    await c.cmd('m', 'CREATE Multi');
    await watcher.cmd('s', 'SELECT Multi');
    const r = await multiAppend(c, 'a', 'Multi', [msg('one'), msg('two'), msg('three')]);
    assert.match(r.at(-1) ?? '', /^a OK \[APPENDUID \d+ 1:3\] /);
    const seen = await watcher.cmd('n', 'NOOP');
    assert.ok(seen.includes('* 3 EXISTS') && seen.includes('* 3 RECENT'), seen.join('\n'));
    const f = await watcher.cmd('f', 'FETCH 1:3 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.match(f[0] ?? '', /^\* 1 FETCH \(FLAGS \(\\Seen \\Recent\) BODY\[HEADER.FIELDS \(SUBJECT\)\] \{\d+\}$/);
    assert.match(f.join('\n'), /Subject: one[\s\S]*Subject: two[\s\S]*Subject: three/);
  } finally {
    c.close();
    watcher.close();
  }
});

test('over quota in the middle of a MULTIAPPEND: NO [OVERQUOTA] and none of them is added', async () => {
  const c = await RawClient.connect(h.port);
  const watcher = await RawClient.connect(h.port);
  try {
    await c.login();
    await watcher.login();
    await c.cmd('m', 'CREATE Quota');
    await watcher.cmd('s', 'SELECT Quota');
    const used = (await h.store.getAccountById(h.account.id))!.usedBytes;
    const small = msg('small');
    await h.store.updateAccount(h.account.id, { quotaBytes: used + Buffer.byteLength(small) * 2 + 10 });
    const r = await multiAppend(c, 'a', 'Quota', [small, small.replace('small', 'smal2'), msg('big', 'x'.repeat(500))]);
    assert.match(r.at(-1) ?? '', /^a NO \[OVERQUOTA\]/);
    const st = await c.cmd('s', 'STATUS Quota (MESSAGES UIDNEXT)');
    assert.match(st[0] ?? '', /MESSAGES 0 UIDNEXT 1\)/);
    const seen = await watcher.cmd('n', 'NOOP');
    assert.ok(!seen.some((l) => l.includes('EXISTS')), seen.join('\n'));
    // An empty message in the list refuses the whole APPEND too.
    const e = await multiAppend(c, 'b', 'Quota', [small, '']);
    assert.match(e.at(-1) ?? '', /^b (NO|BAD)/);
    assert.match((await c.cmd('t', 'STATUS Quota (MESSAGES)'))[0] ?? '', /MESSAGES 0\)/);
    await h.store.updateAccount(h.account.id, { quotaBytes: 0 });
  } finally {
    c.close();
    watcher.close();
  }
});

test('python imaplib sends a MULTIAPPEND by hand and gets one APPENDUID range', async () => {
  const script = `
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('alice@example.com', 'correct horse battery')
typ, caps = m.capability()
assert b' MULTIAPPEND ' in caps[0], caps
m.create('Py')
a = b'Subject: py one\\r\\n\\r\\nfirst\\r\\n'
b = b'Subject: py two\\r\\n\\r\\nsecond\\r\\n'
tag = m._new_tag()
m.send(tag + b' APPEND Py {%d+}\\r\\n' % len(a) + a + b' (\\\\Flagged) {%d+}\\r\\n' % len(b) + b + b'\\r\\n')
while True:
    line = m._get_line()
    if line.startswith(tag):
        print(line.decode())
        break
m.select('Py')
typ, data = m.uid('SEARCH', None, 'FLAGGED')
print('flagged', data[0].decode())
m.logout()
`;
  const { stdout } = await promisify(execFile)('python3', ['-c', script, String(h.port)], { timeout: 20_000 });
  const lines = stdout.trim().split('\n');
  assert.match(lines[0] ?? '', / OK \[APPENDUID \d+ 1:2\]/);
  assert.equal(lines[1], 'flagged 2');
});
