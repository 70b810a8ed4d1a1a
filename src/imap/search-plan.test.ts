// What SEARCH sends to the full-text index, and what it still checks itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand } from './parser/index.js';
import type { SearchKey } from './parser/index.js';
import { planTextSearch, residualCriteria } from './search-plan.js';

function criteria(text: string): SearchKey[] {
  const cmd = parseCommand(Buffer.from(`a SEARCH ${text}`), { utf8Accept: false });
  assert.equal(cmd.name, 'SEARCH');
  return cmd.criteria;
}

test('top-level BODY/TEXT are answered by the index; HEADER is narrowed; NOT stays with the scan', () => {
  const c = criteria('BODY foo SEEN TEXT "bar baz" HEADER X-Id 42 NOT BODY qux');
  const plan = planTextSearch(c)!;
  assert.deepEqual(plan.filter, {
    and: [
      { field: 'body', value: 'foo' },
      { field: 'text', value: 'bar baz' },
      { field: 'headers', value: '42' },
    ],
  });
  assert.deepEqual(
    residualCriteria(c, plan).map((k) => k.key),
    ['FLAG', 'HEADER', 'NOT'],
  );
});

test('ORs and parenthesised groups of text keys are sent whole; mixed ORs are not', () => {
  const c = criteria('OR BODY a TEXT b (BODY c BODY d) OR BODY e FROM f');
  const plan = planTextSearch(c)!;
  assert.deepEqual(plan.filter, {
    and: [
      { or: [{ field: 'body', value: 'a' }, { field: 'text', value: 'b' }] },
      { field: 'body', value: 'c' },
      { field: 'body', value: 'd' },
    ],
  });
  assert.deepEqual(
    residualCriteria(c, plan).map((k) => k.key),
    ['OR'],
  );
});

test('no text keys, or needles the index cannot hold: no plan', () => {
  assert.equal(planTextSearch(criteria('SEEN FROM x NOT BODY y')), null);
  assert.equal(planTextSearch([{ key: 'BODY', value: 'a\uFFFDb' }]), null);
  assert.equal(planTextSearch([{ key: 'BODY', value: 'a\uD800' }]), null);
  assert.notEqual(planTextSearch([{ key: 'BODY', value: 'a\uD83D\uDE00' }]), null, 'a surrogate pair is fine');
});

test('SUBJECT narrows through the headers like HEADER; larger messages stay with the scan', () => {
  const c = criteria('SUBJECT "number 7" SEEN');
  const plan = planTextSearch(c)!;
  assert.deepEqual(plan.filter, { field: 'headers', value: 'number 7' });
  assert.deepEqual(
    residualCriteria(c, plan).map((k) => k.key),
    ['SUBJECT', 'FLAG'],
  );
  assert.equal(plan.scanLarger, 64 * 1024);
  assert.equal(planTextSearch(criteria('BODY x'))!.scanLarger, null, 'BODY alone: the index is exact');
  assert.equal(planTextSearch(criteria('OR SUBJECT a BODY b'))!.scanLarger, 64 * 1024);
  assert.equal(planTextSearch(criteria('NOT SUBJECT a')), null);
});
