import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressError, normalizeAddress, normalizeAliasSource, normalizeDomain } from './index.js';

test('domains: lower case, trailing dot dropped, IDN to punycode', () => {
  assert.equal(normalizeDomain('Example.COM'), 'example.com');
  assert.equal(normalizeDomain('example.com.'), 'example.com');
  assert.equal(normalizeDomain('Bücher.example'), 'xn--bcher-kva.example');
  for (const bad of ['', 'localhost', 'a..b', '-a.com', 'a_b.com', 'exa mple.com', '1.2.3.4', 'a.'.repeat(130) + 'com']) {
    assert.throws(() => normalizeDomain(bad), AddressError, bad);
  }
});

test('addresses: lower case, IDN domain, local part checked', () => {
  assert.equal(normalizeAddress('Alice@Example.COM'), 'alice@example.com');
  assert.equal(normalizeAddress('first.last+tag@bücher.example'), 'first.last+tag@xn--bcher-kva.example');
  assert.equal(normalizeAddress('jörg@example.com'), 'jörg@example.com');
  for (const bad of ['alice', '@example.com', 'alice@', 'a..b@example.com', '.a@example.com', 'a b@example.com', 'a@b@c', 'x'.repeat(65) + '@example.com']) {
    assert.throws(() => normalizeAddress(bad), AddressError, bad);
  }
});

test('alias sources: an address or @domain', () => {
  assert.equal(normalizeAliasSource('@Example.com'), '@example.com');
  assert.equal(normalizeAliasSource('Info@Example.com'), 'info@example.com');
  assert.throws(() => normalizeAliasSource('@'), AddressError);
  assert.throws(() => normalizeAliasSource('@@example.com'), AddressError);
});
