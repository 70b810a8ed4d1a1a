import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MtaStsFetchError, mxMatches, parsePolicy, parseStsRecord } from './mta-sts.js';

test('the _mta-sts TXT record (RFC 8461 3.1): one STSv1 record with an id, else none', () => {
  assert.equal(parseStsRecord([['v=STSv1; id=20261128T1;']]), '20261128T1');
  assert.equal(parseStsRecord([['v=STSv1; ', 'id=abc']]), 'abc', 'character strings are joined');
  assert.equal(parseStsRecord([['v=spf1 -all'], ['v=STSv1;id=x1']]), 'x1');
  assert.equal(parseStsRecord([['v=STSv1; id=a'], ['v=STSv1; id=b']]), undefined, 'two records: no policy');
  assert.equal(parseStsRecord([['v=STSv1; id=has-dash']]), undefined, 'id is 1-32 alphanumerics');
  assert.equal(parseStsRecord([]), undefined);
});

test('the policy body (RFC 8461 3.2)', () => {
  assert.deepEqual(parsePolicy('version: STSv1\r\nmode: enforce\r\nmx: MX1.Example.net.\r\nmx: *.example.net\r\nmax_age: 604800\r\n'), { mode: 'enforce', mx: ['mx1.example.net', '*.example.net'], maxAge: 604800 });
  assert.deepEqual(parsePolicy('version: STSv1\nmode: none\nmax_age: 99999999999\n'), { mode: 'none', mx: [], maxAge: 31_557_600 }, 'max_age capped at a year');
  assert.throws(() => parsePolicy('mode: enforce\nmx: a\nmax_age: 1\n'), MtaStsFetchError);
  assert.throws(() => parsePolicy('version: STSv1\nmode: strict\nmx: a\nmax_age: 1\n'), MtaStsFetchError);
  assert.throws(() => parsePolicy('version: STSv1\nmode: enforce\nmax_age: 1\n'), /no mx/);
  assert.throws(() => parsePolicy('version: STSv1\nmode: testing\nmx: a\nmax_age: soon\n'), /max_age/);
});

test('mx patterns (RFC 8461 4.1): a wildcard matches exactly one leftmost label', () => {
  assert.equal(mxMatches(['mx.example.net'], 'MX.example.net.'), true);
  assert.equal(mxMatches(['*.example.net'], 'mx1.example.net'), true);
  assert.equal(mxMatches(['*.example.net'], 'a.b.example.net'), false);
  assert.equal(mxMatches(['*.example.net'], 'example.net'), false);
  assert.equal(mxMatches(['mx.example.net'], 'mx.example.org'), false);
});
