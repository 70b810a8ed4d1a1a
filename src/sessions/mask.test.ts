import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describeManageSieve, describeManageSieveReply, maskImap, maskManageSieve, maskPop3, maskSmtp, summariseBody } from './mask.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

test('IMAP LOGIN keeps the user and masks the password, quoted, atom or literal', () => {
  assert.equal(maskImap(Buffer.from('a1 LOGIN alice@example.org s3cret'), false), 'a1 LOGIN alice@example.org ***');
  assert.equal(maskImap(Buffer.from('a1 login "alice@example.org" "pa ss \\" word"'), false), 'a1 login "alice@example.org" ***');
  assert.equal(maskImap(Buffer.from('a1 LOGIN {17+}\r\nalice@example.org {6+}\r\ns3cret'), false), 'a1 LOGIN {17+} alice@example.org ***');
  assert.equal(maskImap(Buffer.from('a2 AUTHENTICATE PLAIN AGFsaWNlAHMzY3JldA=='), false), 'a2 AUTHENTICATE PLAIN ***');
  assert.equal(maskImap(Buffer.from('a2 AUTHENTICATE PLAIN'), false), 'a2 AUTHENTICATE PLAIN');
});

test('IMAP APPEND literals are size and hash unless bodies are asked for; small literals stay', () => {
  const body = 'Subject: x\r\n\r\nhello\r\n';
  const raw = Buffer.from(`a3 APPEND INBOX (\\Seen) {${body.length}}\r\n${body}`);
  assert.equal(maskImap(raw, false), `a3 APPEND INBOX (\\Seen) {${body.length}} [${body.length} bytes sha256 ${sha(body)}]`);
  assert.equal(maskImap(raw, true), `a3 APPEND INBOX (\\Seen) {${body.length}} ${JSON.stringify(body)}`);
  assert.equal(maskImap(Buffer.from('a4 SELECT {5}\r\nINBOX'), false), 'a4 SELECT {5} "INBOX"');
  assert.equal(maskImap(Buffer.from('a5 FETCH 1:* (FLAGS)'), false), 'a5 FETCH 1:* (FLAGS)');
});

test('POP3, SMTP and ManageSieve credentials are masked; SASL lines entirely', () => {
  assert.equal(maskPop3('PASS hunter2', false), 'PASS ***');
  assert.equal(maskPop3('pass  two words', false), 'pass ***');
  assert.equal(maskPop3('USER alice', false), 'USER alice');
  assert.equal(maskPop3('AUTH PLAIN AGFsaWNlAHg=', false), 'AUTH PLAIN ***');
  assert.equal(maskPop3('AUTH PLAIN', false), 'AUTH PLAIN');
  assert.equal(maskPop3('AGFsaWNlAHg=', true), '***');
  assert.equal(maskPop3('*', true), '*');
  assert.equal(maskSmtp('AUTH LOGIN YWxpY2U=', false), 'AUTH LOGIN ***');
  assert.equal(maskSmtp('MAIL FROM:<a@b>', false), 'MAIL FROM:<a@b>');
  assert.equal(maskSmtp('cGFzc3dvcmQ=', true), '***');
  assert.equal(maskManageSieve('AUTHENTICATE "PLAIN" "AGFsaWNlAHg="', false), 'AUTHENTICATE "PLAIN" ***');
  assert.equal(summariseBody('abc'), `[3 bytes sha256 ${sha('abc')}]`);
});

test('ManageSieve commands: AUTHENTICATE keeps the mechanism only, scripts and large literals are size and hash', () => {
  const atom = (value: string) => ({ kind: 'atom' as const, value });
  const str = (value: string, literal = false) => ({ kind: 'string' as const, value, literal });
  assert.equal(describeManageSieve([atom('AUTHENTICATE'), str('PLAIN'), str('AGFsaWNlAHMzY3JldA==')], false, false), 'AUTHENTICATE "PLAIN" ***');
  assert.equal(describeManageSieve([atom('Authenticate'), str('PLAIN'), str('AGFsaWNlAHMzY3JldA==', true)], false, true), 'Authenticate "PLAIN" ***');
  assert.equal(describeManageSieve([atom('AUTHENTICATE'), str('LOGIN')], false, false), 'AUTHENTICATE "LOGIN"');
  assert.equal(describeManageSieve([str('czNjcmV0')], true, true), '***');
  const script = 'keep;\r\n';
  assert.equal(describeManageSieve([atom('PUTSCRIPT'), str('home'), str(script, true)], false, false), `PUTSCRIPT "home" {7+} [7 bytes sha256 ${sha(script)}]`);
  assert.equal(describeManageSieve([atom('PUTSCRIPT'), str('home'), str(script, true)], false, true), `PUTSCRIPT "home" {7+} ${JSON.stringify(script)}`);
  assert.equal(describeManageSieve([atom('CHECKSCRIPT'), str('keep;')], false, false), `CHECKSCRIPT [5 bytes sha256 ${sha('keep;')}]`);
  assert.equal(describeManageSieve([atom('HAVESPACE'), str('a "b"'), { kind: 'number', value: 120 }], false, false), 'HAVESPACE "a \\"b\\"" 120');
  assert.equal(describeManageSieveReply(`{7}\r\n${script}\r\nOK "Getscript completed"\r\n`, false), `{7} [7 bytes sha256 ${sha(script)}] OK "Getscript completed"`);
  assert.equal(describeManageSieveReply('"home" ACTIVE\r\nOK "Listscripts completed"\r\n', false), '"home" ACTIVE | OK "Listscripts completed"');
});
