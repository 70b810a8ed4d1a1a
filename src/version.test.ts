import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VERSION } from './version.js';

test('version comes from package.json', () => {
  assert.match(VERSION, /^\d+\.\d+\.\d+/);
});
