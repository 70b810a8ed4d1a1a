// Independent clients against the server: imapflow (Node), python3 imaplib, curl.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import { PASSWORD, msg, startServer, type Harness } from './harness.js';

const run = promisify(execFile);
let h: Harness;
before(async () => {
  h = await startServer({}, ['alice@example.com', 'bob@example.com']);
});
after(async () => {
  await h.close();
});

function flow(user = 'alice@example.com'): ImapFlow {
  return new ImapFlow({ host: '127.0.0.1', port: h.port, secure: false, doSTARTTLS: false, auth: { user, pass: PASSWORD }, logger: false });
}

test('imapflow: append, fetch, search, flags, move, status, list, IDLE notifications', async () => {
  const a = flow();
  const b = flow();
  await a.connect();
  await b.connect();
  try {
    assert.ok(a.capabilities.has('IMAP4rev2') || a.capabilities.has('IMAP4rev1'));
    const res = await a.append('INBOX', msg('from imapflow', 'hello from flow'), ['\\Flagged']);
    assert.ok(res && typeof res === 'object' && res.uid === 1);
    const lock = await a.getMailboxLock('INBOX');
    try {
      const m = await a.fetchOne('*', { envelope: true, bodyStructure: true, flags: true, source: true, uid: true });
      assert.ok(m);
      assert.equal(m.envelope?.subject, 'from imapflow');
      assert.equal(m.envelope?.from?.[0]?.address, 'bob@example.org');
      assert.ok(m.flags?.has('\\Flagged'));
      assert.equal(m.bodyStructure?.type, 'text/plain');
      assert.match(m.source?.toString() ?? '', /hello from flow/);
      const found = await a.search({ flagged: true, subject: 'imapflow' }, { uid: true });
      assert.deepEqual(found, [1]);
      await a.messageFlagsAdd('1', ['\\Seen', '$Label1']);
      const after1 = await a.fetchOne('1', { flags: true });
      assert.ok(after1 && after1.flags?.has('$Label1') && after1.flags.has('\\Seen'));

      // b appends while a idles: a hears EXISTS
      const exists = new Promise<number>((resolve) => a.once('exists', (d: { count: number }) => resolve(d.count)));
      void a.idle();
      await b.append('INBOX', msg('second'));
      assert.equal(await exists, 2);

      const moved = await a.messageMove('1', 'Archive');
      assert.ok(moved && moved.uidMap?.get(1) === 1);
    } finally {
      lock.release();
    }
    const st = await a.status('Archive', { messages: true, uidNext: true, unseen: true });
    assert.ok(st && st.messages === 1);
    const boxes = await a.list();
    const sent = boxes.find((x) => x.path === 'Sent');
    assert.equal(sent?.specialUse, '\\Sent');
    await a.mailboxCreate('Flow/Child');
    assert.ok((await a.list()).some((x) => x.path === 'Flow/Child'));
  } finally {
    await a.logout();
    await b.logout();
  }
});

const PY = String.raw`
import imaplib, json, sys
port = int(sys.argv[1]); pw = sys.argv[2]
out = {}
M = imaplib.IMAP4('127.0.0.1', port)
out['caps'] = list(M.capabilities)
M.login('bob@example.com', pw)
typ, data = M.append('INBOX', '(\\Seen)', None, b'From: a@b.c\r\nSubject: py one\r\n\r\nbody one\r\n')
out['append'] = typ
M.append('INBOX', None, None, b'From: a@b.c\r\nSubject: py two\r\n\r\nbody two\r\n')
typ, data = M.select('INBOX')
out['exists'] = data[0].decode()
typ, data = M.search(None, 'UNSEEN')
out['unseen'] = data[0].decode()
typ, data = M.fetch('1', '(RFC822)')
out['rfc822'] = data[0][1].decode()
typ, data = M.uid('FETCH', '2', '(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
out['header'] = data[0][1].decode()
M.store('1', '+FLAGS', '\\Deleted')
typ, data = M.expunge()
out['expunged'] = [d.decode() for d in data if d]
typ, data = M.list()
out['list'] = [d.decode() for d in data]
typ, data = M.status('INBOX', '(MESSAGES UIDNEXT)')
out['status'] = data[0].decode()
M.logout()
print(json.dumps(out))
`;

test('python3 imaplib', async () => {
  const { stdout } = await run('python3', ['-c', PY, String(h.port), PASSWORD]);
  const out = JSON.parse(stdout) as Record<string, unknown>;
  assert.ok((out['caps'] as string[]).includes('IMAP4REV1'));
  assert.equal(out['append'], 'OK');
  assert.equal(out['exists'], '2');
  assert.equal(out['unseen'], '2');
  assert.equal(out['rfc822'], 'From: a@b.c\r\nSubject: py one\r\n\r\nbody one\r\n');
  assert.equal(out['header'], 'Subject: py two\r\n\r\n');
  assert.deepEqual(out['expunged'], ['1']);
  assert.ok((out['list'] as string[]).includes('(\\HasNoChildren \\Trash) "/" Trash'));
  assert.match(out['status'] as string, /^INBOX \(MESSAGES 1 UIDNEXT 3\)$/);
});

test('curl imap:// smoke test', async () => {
  const base = `imap://127.0.0.1:${h.port}`;
  const user = ['--user', `bob@example.com:${PASSWORD}`, '--silent', '--show-error', '--max-time', '10'];
  const list = await run('curl', [...user, `${base}/`]);
  assert.match(list.stdout, /\* LIST \(\\HasNoChildren\) "\/" INBOX/);
  const body = await run('curl', [...user, `${base}/INBOX;UID=2`]);
  assert.equal(body.stdout, 'From: a@b.c\r\nSubject: py two\r\n\r\nbody two\r\n');
  const ex = await run('curl', [...user, `${base}/`, '-X', 'EXAMINE INBOX']);
  assert.match(ex.stdout, /\* 1 EXISTS/);
});
