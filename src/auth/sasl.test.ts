import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBase64, startSasl } from './sasl.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('PLAIN with an initial response, with a continuation, and authzid rules (RFC 4616 2)', () => {
  assert.deepEqual(startSasl('PLAIN', b64('\0alice@x.org\0secret')).start(), { kind: 'done', credentials: { username: 'alice@x.org', password: 'secret' } });
  assert.deepEqual(startSasl('PLAIN', b64('Alice@x.org\0alice@x.org\0pw')).start().kind, 'done');
  assert.deepEqual(startSasl('PLAIN', b64('bob@x.org\0alice@x.org\0pw')).start(), { kind: 'failed', reason: 'authzid-mismatch' });
  const ex = startSasl('PLAIN');
  assert.deepEqual(ex.start(), { kind: 'challenge', challenge: Buffer.alloc(0) });
  assert.deepEqual(ex.respond(b64('\0u@x.org\0p w')), { kind: 'done', credentials: { username: 'u@x.org', password: 'p w' } });
});

test('PLAIN refuses malformed messages and "*" cancels', () => {
  assert.equal(startSasl('PLAIN', b64('no-nuls')).start().kind, 'failed');
  assert.equal(startSasl('PLAIN', b64('\0\0pw')).start().kind, 'failed');
  assert.equal(startSasl('PLAIN', b64('\0u\0')).start().kind, 'failed');
  assert.equal(startSasl('PLAIN', b64('\0u\0p\0extra')).start().kind, 'failed');
  assert.equal(startSasl('PLAIN', 'not base64!').start().kind, 'failed');
  assert.equal(startSasl('PLAIN', '=').start().kind, 'failed');
  const ex = startSasl('PLAIN');
  ex.start();
  assert.deepEqual(ex.respond('*'), { kind: 'failed', reason: 'cancelled' });
});

test('LOGIN asks for username and password, accepts the username as initial response', () => {
  const ex = startSasl('LOGIN');
  assert.deepEqual(ex.start(), { kind: 'challenge', challenge: Buffer.from('Username:') });
  assert.deepEqual(ex.respond(b64('u@x.org')), { kind: 'challenge', challenge: Buffer.from('Password:') });
  assert.deepEqual(ex.respond(b64('pw')), { kind: 'done', credentials: { username: 'u@x.org', password: 'pw' } });
  const ir = startSasl('LOGIN', b64('u@x.org'));
  assert.deepEqual(ir.start(), { kind: 'challenge', challenge: Buffer.from('Password:') });
  assert.deepEqual(ir.respond('*'), { kind: 'failed', reason: 'cancelled' });
  const bad = startSasl('LOGIN');
  bad.start();
  assert.equal(bad.respond('%%%').kind, 'failed');
});

test('strict base64', () => {
  assert.deepEqual(decodeBase64('YWJj'), Buffer.from('abc'));
  assert.deepEqual(decodeBase64('='), Buffer.alloc(0));
  assert.equal(decodeBase64('YWJ'), undefined);
  assert.equal(decodeBase64('YW?j'), undefined);
});
