// Independent clients against the server: Debian's fetchmail (keep and
// no-keep), curl's pop3:// and python3's poplib.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { harness, PASSWORD, USER } from './harness.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 20_000, encoding: 'latin1' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

const M1 = 'From: a@example.org\r\nSubject: one\r\nMessage-ID: <one@example.org>\r\n\r\nfirst body\r\n.leading dot\r\n';
const M2 = 'From: b@example.org\nSubject: two\nMessage-ID: <two@example.org>\n\nsecond body\n';

async function fetchmail(port: number, dir: string, keep: boolean): Promise<Run> {
  const rc = join(dir, 'fetchmailrc');
  await writeFile(
    rc,
    [
      'set no syslog',
      `poll 127.0.0.1 with proto POP3 port ${port} uidl`,
      `  user "${USER}" there with password "${PASSWORD}" is "postmaster" here`,
      // No opportunistic STLS (this server has no certificate); deliver to a file, no MTA.
      `  options ${keep ? 'keep' : 'no keep'} sslproto "" mda "/bin/sh -c 'cat >> ${join(dir, 'delivered')}; echo ==== >> ${join(dir, 'delivered')}'"`,
      '',
    ].join('\n'),
  );
  await chmod(rc, 0o600);
  return run('fetchmail', ['-f', rc, '-i', join(dir, 'fetchids'), '--pidfile', join(dir, 'pid'), '-v'], { HOME: dir, FETCHMAILHOME: dir });
}

test('fetchmail, keep mode: fetches everything once, then only new mail (UIDL), deletes nothing', async () => {
  const h = await harness();
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-fetchmail-'));
  try {
    await h.deliver(M1);
    await h.deliver(M2);
    const first = await fetchmail(h.port, dir, true);
    assert.equal(first.code, 0, first.stderr);
    let delivered = await readFile(join(dir, 'delivered'), 'latin1');
    assert.match(delivered, /Message-ID: <one@example.org>\n\nfirst body\n\.leading dot\n====/);
    assert.match(delivered, /Message-ID: <two@example.org>\n\nsecond body\n====/);
    assert.equal((await h.store.listMessages(h.inboxId)).length, 2);
    const again = await fetchmail(h.port, dir, true);
    assert.equal(again.code, 1, 'exit 1: no new mail');
    await h.deliver('Subject: three\r\n\r\nthird body\r\n');
    const third = await fetchmail(h.port, dir, true);
    assert.equal(third.code, 0, third.stderr);
    delivered = await readFile(join(dir, 'delivered'), 'latin1');
    assert.equal(delivered.split('====').length - 1, 3, 'each message delivered exactly once');
    assert.match(third.stdout + third.stderr, /3 messages \(2 seen\)/, "fetchmail recognised the two old messages by UIDL");
    assert.equal((await h.store.listMessages(h.inboxId)).length, 3);
  } finally {
    await h.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('fetchmail, no-keep mode: RETR + DELE + QUIT empties the maildrop', async () => {
  const h = await harness();
  const dir = await mkdtemp(join(tmpdir(), 'steadymail-fetchmail-'));
  try {
    await h.deliver(M1);
    await h.deliver(M2);
    const r = await fetchmail(h.port, dir, false);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /POP3> DELE 2/);
    const delivered = await readFile(join(dir, 'delivered'), 'latin1');
    assert.equal(delivered.split('====').length - 1, 2);
    assert.deepEqual(await h.store.listMessages(h.inboxId), []);
    const audit = await h.store.listAudit({ accountId: h.account.id });
    assert.equal(audit[0]?.actor, `pop3:${USER}`);
  } finally {
    await h.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('curl pop3://: list, retrieve, and -X DELE', async () => {
  const h = await harness();
  try {
    await h.deliver(M1);
    await h.deliver(M2);
    const url = `pop3://127.0.0.1:${h.port}`;
    const auth = ['-u', `${USER}:${PASSWORD}`, '--silent', '--show-error'];
    const list = await run('curl', [...auth, `${url}/`]);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, `1 ${M1.length + 1}\r\n2 ${M2.length + 5}\r\n`);
    const retr = await run('curl', [...auth, `${url}/1`]);
    // curl removes the byte-stuffing: the message comes back as stored.
    assert.equal(retr.stdout, M1);
    const dele = await run('curl', [...auth, '-X', 'DELE', '-I', `${url}/2`]);
    assert.equal(dele.code, 0, dele.stderr);
    const left = await h.store.listMessages(h.inboxId);
    assert.equal(left.length, 1);
    assert.deepEqual(left[0]!.flags, ['\\Seen']);
  } finally {
    await h.close();
  }
});

test('python3 poplib: capa, user/pass, stat, list, uidl, top, retr, dele, quit', async () => {
  const h = await harness();
  try {
    const a = await h.deliver(M1);
    await h.deliver(M2);
    const script = `
import poplib, sys, json
p = poplib.POP3('127.0.0.1', int(sys.argv[1]), timeout=10)
out = {'welcome': p.getwelcome().decode()}
out['capa'] = sorted(p.capa().keys())
p.user(sys.argv[2]); p.pass_(sys.argv[3])
out['stat'] = list(p.stat())
out['list'] = [l.decode() for l in p.list()[1]]
out['uidl'] = [l.decode() for l in p.uidl()[1]]
out['top'] = [l.decode() for l in p.top(1, 0)[1]]
resp, lines, octets = p.retr(1)
out['retr'] = [l.decode() for l in lines]
out['octets'] = octets
out['dele'] = p.dele(2).decode()
out['quit'] = p.quit().decode()
print(json.dumps(out))
`;
    const r = await run('python3', ['-c', script, String(h.port), USER, PASSWORD]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out.welcome, '+OK pop.example.org Steadymail POP3 server ready');
    assert.deepEqual(out.capa, ['AUTH-RESP-CODE', 'EXPIRE', 'IMPLEMENTATION', 'PIPELINING', 'RESP-CODES', 'SASL', 'TOP', 'UIDL', 'USER']);
    const s1 = M1.length + 1;
    const s2 = M2.length + 5;
    assert.deepEqual(out.stat, [2, s1 + s2]);
    assert.deepEqual(out.list, [`1 ${s1}`, `2 ${s2}`]);
    assert.equal((out.uidl as string[])[0], `1 ${a.messageId}`);
    assert.deepEqual(out.top, ['From: a@example.org', 'Subject: one', 'Message-ID: <one@example.org>', '']);
    assert.deepEqual(out.retr, ['From: a@example.org', 'Subject: one', 'Message-ID: <one@example.org>', '', 'first body', '.leading dot']);
    // poplib counts the received lines with CRLF but without the stuffed dot: one less than LIST.
    assert.equal(out.octets, s1 - 1);
    assert.equal(out.dele, '+OK Message 2 marked for deletion');
    assert.equal(out.quit, '+OK Signing off, 1 deleted, 1 left');
    assert.equal((await h.store.listMessages(h.inboxId)).length, 1);
  } finally {
    await h.close();
  }
});
