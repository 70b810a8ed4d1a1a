// MIME bombs through the real server: each is delivered over SMTP, then read back over
// IMAP (BODYSTRUCTURE, a deep section, the whole message) and POP3, within bounded time
// and memory, while the server keeps answering other clients.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { ImapFlow } from 'imapflow';
import { cli, rssMiB, serve, tempDataDir, type Running } from '../e2e/serve.js';
import { Wire } from '../security/wire.js';

let dataDir: string;
let server: Running;
const port = (name: string) => server.ports.get(name)!;

before(async () => {
  dataDir = tempDataDir();
  assert.equal((await cli(dataDir, ['domain', 'add', 'bomb.test'])).code, 0);
  assert.equal((await cli(dataDir, ['user', 'add', 'alice@bomb.test', '--password-stdin'], 'alice-secret\n')).code, 0);
  server = await serve(dataDir, {}, ['smtp', 'pop3', 'imap', 'http']);
});

after(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});


function nested(depth: number): string {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    open += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
    close = `\r\n--b${i}--\r\n` + close;
  }
  return `From: x@remote.test\r\nSubject: deep\r\nMIME-Version: 1.0\r\n${open}Content-Type: text/plain\r\n\r\ncore\r\n${close}`;
}

function manyParts(n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`--p\r\nContent-Type: text/plain\r\n\r\n${i}\r\n`);
  return `From: x@remote.test\r\nSubject: many\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n${parts.join('')}--p--\r\n`;
}

function hugeHeaders(): string {
  // 2 MiB of header fields, 100 bytes each, plus one folded field of 1 MiB.
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) lines.push(`X-Filler-${i}: ${'h'.repeat(80)}`);
  const folded = Array.from({ length: 12_000 }, () => ' ' + 'f'.repeat(85)).join('\r\n');
  return `From: x@remote.test\r\nSubject: headers\r\n${lines.join('\r\n')}\r\nX-Folded:${folded}\r\n\r\nbody\r\n`;
}

function base64Garbage(): string {
  const junk = Array.from({ length: 40_000 }, (_, i) => (i % 7 === 0 ? '!!@@##$$%%^^&&**((' : 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=====AAAA')).join('\r\n');
  return `From: x@remote.test\r\nSubject: garbage\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="g"\r\n\r\n--g\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${junk}\r\n--g\r\nContent-Type: text/plain; charset=x-unknown-charset\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=4=\r\n--g--\r\n`;
}

test('deep nesting, many parts, huge headers and base64 garbage: delivered, readable, bounded', async () => {
  const bombs: Array<[string, string]> = [
    ['deep', nested(5000)],
    ['many', manyParts(50_000)],
    ['headers', hugeHeaders()],
    ['garbage', base64Garbage()],
  ];
  const mx = nodemailer.createTransport({ host: '127.0.0.1', port: port('smtp'), secure: false, ignoreTLS: true });
  const baseline = rssMiB(server.child.pid!);
  for (const [name, raw] of bombs) {
    const started = Date.now();
    const r = await mx.sendMail({ envelope: { from: 'x@remote.test', to: ['alice@bomb.test'] }, raw });
    assert.match(r.response, /^250 /, name);
    assert.ok(Date.now() - started < 15_000, `${name} delivered in ${Date.now() - started} ms`);
    assert.equal((await fetch(`http://127.0.0.1:${port('http')}/healthz`)).status, 200);
  }

  const client = new ImapFlow({ host: '127.0.0.1', port: port('imap'), secure: false, doSTARTTLS: false, auth: { user: 'alice@bomb.test', pass: 'alice-secret' }, logger: false });
  await client.connect();
  try {
    await client.mailboxOpen('INBOX');
    for (let seq = 1; seq <= bombs.length; seq++) {
      const started = Date.now();
      const msg = await client.fetchOne(String(seq), { bodyStructure: true, envelope: true, source: true, size: true });
      assert.ok(msg && msg.source && msg.source.length === msg.size, `message ${seq} comes back whole`);
      assert.ok(msg.bodyStructure, `message ${seq} has a BODYSTRUCTURE`);
      assert.ok(Date.now() - started < 15_000, `message ${seq} fetched in ${Date.now() - started} ms`);
    }
    // A deep section of the nested message and a late part of the many-part one.
    const deep = await client.download('1', '1.1.1.1.1', { uid: false });
    assert.ok(deep.content);
    // Parts beyond limits.mime_max_parts (2000) stay inside the last indexed one.
    const part = await client.download('2', '1500', { uid: false });
    let text = '';
    for await (const c of part.content!) text += (c as Buffer).toString();
    assert.equal(text.trim(), '1499');
  } finally {
    await client.logout();
  }

  const pop = await Wire.connect(port('pop3'));
  await pop.until(/^\+OK.*\r\n/m);
  const popStarted = Date.now();
  pop.write('USER alice@bomb.test\r\nPASS alice-secret\r\nLIST\r\n');
  assert.match(await pop.until(/\r\n\.\r\n/, 15_000), /^4 \d+\r\n/m);
  // The sizes are counted by encoding each message for the wire: linear in its size.
  assert.ok(Date.now() - popStarted < 5000, `POP3 login and LIST took ${Date.now() - popStarted} ms`);
  pop.write('RETR 3\r\n');
  assert.match(await pop.until(/\r\n\.\r\n/, 10_000), /X-Folded:/);
  pop.write('QUIT\r\n');
  pop.close();

  const grown = rssMiB(server.child.pid!) - baseline;
  assert.ok(grown < 300, `server RSS grew by ${grown.toFixed(0)} MiB`);
});
