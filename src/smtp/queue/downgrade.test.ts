import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryError } from './errors.js';
import { downgrade8Bit, downgradeUtf8, messageNeeds } from './downgrade.js';

const env = { from: 'alice@example.org', to: ['bob@example.net'] };

test('what a message needs: SMTPUTF8 for UTF-8 local parts and header fields, not for a Unicode domain', () => {
  assert.deepEqual(messageNeeds(env, Buffer.from('Subject: hi\r\n\r\nhello\r\n')), { smtputf8: false, eightBit: false });
  assert.deepEqual(messageNeeds({ ...env, to: ['bob@bücher.example'] }, Buffer.from('Subject: hi\r\n\r\nhello\r\n')), { smtputf8: false, eightBit: false });
  assert.deepEqual(messageNeeds({ ...env, to: ['jörg@example.net'] }, Buffer.from('Subject: hi\r\n\r\nhello\r\n')), { smtputf8: true, eightBit: false });
  assert.deepEqual(messageNeeds(env, Buffer.from('Subject: hi\r\n\r\nhéllo\r\n')), { smtputf8: false, eightBit: true });
  assert.deepEqual(messageNeeds(env, Buffer.from('Subject: héllo\r\n\r\nhello\r\n')), { smtputf8: true, eightBit: true });
});

test('SMTPUTF8 downgrade: unstructured fields become encoded words; an address or another field is 5.6.7', () => {
  const out = downgradeUtf8(env, Buffer.from('From: <alice@example.org>\r\nSubject: Grüße\r\n\tzusammen\r\n\r\nbody ü\r\n'));
  assert.equal(out.toString(), 'From: <alice@example.org>\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= zusammen\r\n\r\nbody ü\r\n');
  const long = downgradeUtf8(env, Buffer.from(`Subject: ${'Grüße '.repeat(200)}\r\n\r\n`)).toString();
  assert.ok(long.split('\r\n').every((line) => line.length <= 78), 'folded');
  assert.equal(long.match(/=C3=BC/g)?.length, 200);
  assert.throws(() => downgradeUtf8({ ...env, from: 'jörg@example.org' }, Buffer.from('Subject: x\r\n\r\n')), (e: unknown) => e instanceof DeliveryError && e.status === '5.6.7' && e.kind === 'permanent');
  assert.throws(() => downgradeUtf8(env, Buffer.from('From: Jörg <j@example.org>\r\n\r\n')), (e: unknown) => e instanceof DeliveryError && e.status === '5.6.7' && /from field/.test(e.message));
});

test('8BITMIME downgrade: 8-bit leaves re-encoded, composites walked into and marked 7bit, 7-bit parts untouched', () => {
  const msg = Buffer.concat([
    Buffer.from('Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\nContent-Transfer-Encoding: 8bit\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n'),
    Buffer.from([0xe9]),
    Buffer.from('t\u00e9\r\n--b\r\nContent-Type: text/plain\r\n\r\nascii only\r\n--b--\r\n'),
  ]);
  const out = downgrade8Bit(msg).toString('latin1');
  assert.ok([...Buffer.from(out, 'latin1')].every((b) => b < 0x80));
  assert.match(out, /^Subject: x\r\nContent-Type: multipart\/mixed; boundary=b\r\nContent-Transfer-Encoding: 7bit\r\n\r\n--b\r\n/);
  assert.match(out, /Content-Type: message\/rfc822\r\n\r\nSubject: inner\r\nContent-Type: text\/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E9t=C3=A9\r\n--b\r\n/);
  assert.match(out, /Content-Type: text\/plain\r\n\r\nascii only\r\n--b--\r\n$/);
  const plain = Buffer.from('Subject: 7bit\r\n\r\nnothing to do\r\n');
  assert.equal(downgrade8Bit(plain), plain, 'a 7-bit message is returned as it is');
});
