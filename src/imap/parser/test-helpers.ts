// Shared by the parser tests: compare only the fields a case cares about.
import assert from 'node:assert/strict';

export function assertSubset(actual: unknown, expected: unknown, path = '$'): void {
  if (expected === null || typeof expected !== 'object' || Buffer.isBuffer(expected) || expected instanceof Date) {
    if (Buffer.isBuffer(expected)) {
      assert.ok(Buffer.isBuffer(actual), `${path}: expected a Buffer`);
      assert.equal(actual.toString('latin1'), expected.toString('latin1'), path);
    } else if (expected instanceof Date) {
      assert.ok(actual instanceof Date, `${path}: expected a Date`);
      assert.equal(actual.toISOString(), expected.toISOString(), path);
    } else {
      assert.deepEqual(actual, expected, path);
    }
    return;
  }
  assert.ok(actual !== null && typeof actual === 'object', `${path}: expected an object, got ${String(actual)}`);
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array`);
    assert.equal(actual.length, expected.length, `${path}.length`);
  }
  for (const [k, v] of Object.entries(expected)) {
    assertSubset((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  }
}

export function wire(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}
