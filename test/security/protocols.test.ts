// Security properties of the real server, over its real listeners:
// - STARTTLS command injection (RFC 3207 4, RFC 2595 3.1, RFC 9051 6.2.1): bytes sent
//   after STARTTLS/STLS in the same packet are discarded, never answered inside TLS;
// - no open relay: an unauthenticated client cannot send to other domains, however the
//   address is disguised (source routes, %-hack, quoted local parts, bang paths);
// - isolation: one account never reaches, lists or learns of another's mailboxes.
// (Plaintext AUTH refused without TLS from non-loopback clients: the protocol suites'
// auth-tls tests; here every client is on loopback, which is trusted for that.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { cli, serve, tempDataDir, type Running } from '../e2e/serve.js';
import { Wire } from './wire.js';

let dataDir: string;
let server: Running;
const port = (name: string) => server.ports.get(name)!;

before(async () => {
  dataDir = tempDataDir();
  assert.equal((await cli(dataDir, ['domain', 'add', 'sec.test'])).code, 0);
  for (const u of ['alice', 'bob']) assert.equal((await cli(dataDir, ['user', 'add', `${u}@sec.test`, '--password-stdin'], `${u}-secret\n`)).code, 0);
  server = await serve(dataDir, {}, ['smtp', 'submission', 'pop3', 'imap']);
});

after(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('STARTTLS command injection', () => {
  test('SMTP: a command pipelined after STARTTLS is not executed inside TLS', async () => {
    for (const name of ['smtp', 'submission']) {
      const c = await Wire.connect(port(name));
      await c.until(/^220 .*\r\n/m);
      c.write('EHLO attacker.test\r\n');
      await c.until(/^250 .*\r\n/m);
      c.write('STARTTLS\r\nMAIL FROM:<injected@attacker.test>\r\n');
      await c.until(/^220 .*\r\n/m);
      await c.startTls();
      // If the injected MAIL had been kept, it would be answered now (250) or a second
      // MAIL would be refused as nested (503). Neither: the session starts afresh.
      assert.equal(await c.rest(300), '', `${name}: nothing answered for the injected command`);
      c.write('EHLO client.test\r\n');
      await c.until(/^250 .*\r\n/m);
      c.write('MAIL FROM:<alice@sec.test>\r\n');
      const mail = await c.until(/^\d{3} .*\r\n/m);
      assert.doesNotMatch(mail, /^503/m, `${name}: no transaction was started before TLS`);
      c.close();
    }
  });

  test('POP3: a command pipelined after STLS is not executed inside TLS', async () => {
    const c = await Wire.connect(port('pop3'));
    await c.until(/^\+OK.*\r\n/m);
    c.write('STLS\r\nUSER alice@sec.test\r\n');
    await c.until(/^\+OK.*\r\n/m);
    await c.startTls();
    assert.equal(await c.rest(300), '');
    c.write('PASS alice-secret\r\n');
    assert.match(await c.until(/^[-+].*\r\n/m), /^-ERR/, 'PASS without USER: the injected USER was discarded');
    c.close();
  });

  test('IMAP: a command pipelined after STARTTLS is not executed inside TLS', async () => {
    const c = await Wire.connect(port('imap'));
    await c.until(/^\* OK.*\r\n/m);
    c.write('a STARTTLS\r\nb LOGIN alice@sec.test alice-secret\r\n');
    await c.until(/^a OK.*\r\n/m);
    await c.startTls();
    assert.equal(await c.rest(300), '');
    c.write('c SELECT INBOX\r\n');
    assert.match(await c.until(/^c .*\r\n/m), /^c (BAD|NO)/m, 'not logged in: the injected LOGIN was discarded');
    c.close();
  });
});

describe('no open relay', () => {
  const disguises = [
    'victim@remote.test',
    '<@sec.test:victim@remote.test>',
    'victim%remote.test@sec.test',
    '"victim@remote.test"@sec.test',
    'remote.test!victim@sec.test',
    'victim@remote.test@sec.test',
    'victim@[127.0.0.1]',
    'victim@sec.test.remote.test',
  ];
  test('the MX refuses every remote or disguised recipient from an unauthenticated client', async () => {
    const c = await Wire.connect(port('smtp'));
    await c.until(/^220 .*\r\n/m);
    c.write('EHLO relay-tester.test\r\n');
    await c.until(/^250 .*\r\n/m);
    c.write('MAIL FROM:<alice@sec.test>\r\n');
    assert.match(await c.until(/^\d{3} .*\r\n/m), /^250/m);
    for (const rcpt of disguises) {
      const addr = rcpt.startsWith('<') ? rcpt : `<${rcpt}>`;
      c.write(`RCPT TO:${addr}\r\n`);
      const r = await c.until(/^\d{3} .*\r\n/m);
      assert.match(r, /^5\d\d /m, `${rcpt} must be refused, got ${r.trim()}`);
    }
    c.write('RCPT TO:<bob@sec.test>\r\n');
    assert.match(await c.until(/^\d{3} .*\r\n/m), /^250/m, 'local mail is still accepted');
    c.close();
  });

  test('submission refuses to relay without authentication', async () => {
    const c = await Wire.connect(port('submission'));
    await c.until(/^220 .*\r\n/m);
    c.write('EHLO relay-tester.test\r\n');
    await c.until(/^250 .*\r\n/m);
    c.write('MAIL FROM:<alice@sec.test>\r\n');
    const mail = await c.until(/^\d{3} .*\r\n/m);
    if (/^250/m.test(mail)) {
      c.write('RCPT TO:<victim@remote.test>\r\n');
      assert.match(await c.until(/^\d{3} .*\r\n/m), /^5\d\d /m);
    } else {
      assert.match(mail, /^5\d\d /m);
    }
    c.close();
  });
});

describe('isolation between accounts', () => {
  async function imapAs(user: string): Promise<{ c: Wire; cmd: (line: string) => Promise<string> }> {
    const c = await Wire.connect(port('imap'));
    await c.until(/^\* OK.*\r\n/m);
    let n = 0;
    const cmd = async (line: string) => {
      const tag = `t${++n}`;
      c.write(`${tag} ${line}\r\n`);
      return c.until(new RegExp(`^${tag} .*\\r\\n`, 'm'));
    };
    assert.match(await cmd(`LOGIN ${user}@sec.test ${user}-secret`), /OK/);
    return { c, cmd };
  }

  test('IMAP: no path, wildcard or namespace reaches another account', async () => {
    const bob = await imapAs('bob');
    assert.match(await bob.cmd('CREATE "Private/Bank"'), /^t\d+ OK/m);
    bob.c.close();

    const alice = await imapAs('alice');
    const list = await alice.cmd('LIST "" "*"');
    assert.doesNotMatch(list, /Private|Bank|bob/i, 'LIST * shows only her own mailboxes');
    const probes = [
      '../bob@sec.test/INBOX',
      'bob@sec.test/Private/Bank',
      '~bob/INBOX',
      '#users/bob/INBOX',
      'Other Users/bob/INBOX',
      '#shared/bob',
      '/INBOX',
      'Private/Bank',
    ];
    const answers = new Set<string>();
    for (const name of probes) {
      const sel = await alice.cmd(`SELECT "${name}"`);
      assert.match(sel, /^t\d+ NO /m, `SELECT ${name}`);
      answers.add(sel.replace(/^t\d+ /m, '').trim());
      assert.match(await alice.cmd(`STATUS "${name}" (MESSAGES)`), /^t\d+ NO /m, `STATUS ${name}`);
      assert.match(await alice.cmd(`APPEND "${name}" {3+}\r\nabc`), /^t\d+ NO /m, `APPEND ${name}`);
    }
    for (const pattern of ['%', '*/%', '../*', '~*', '#*', 'Other Users/*']) {
      const l = await alice.cmd(`LIST "" "${pattern}"`);
      assert.doesNotMatch(l, /Private|Bank|bob/i, `LIST ${pattern}`);
    }
    // The reply for another account's existing mailbox is the reply for a name that exists nowhere.
    const ghost = await alice.cmd('SELECT "Nowhere/At/All"');
    assert.ok(answers.has(ghost.replace(/^t\d+ /m, '').trim()), `same answer as for a missing mailbox: ${[...answers].join(' | ')} vs ${ghost}`);
    alice.c.close();
  });
});
