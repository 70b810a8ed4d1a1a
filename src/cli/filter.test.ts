// steadymail filter …, in-process: settings reach the store the server reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runCli } from './program.js';

function cli(dataDir: string) {
  return async (args: string[], input = ''): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await runCli(['node', 'steadymail', ...args], {
      stdin: Readable.from([input]),
      env: { STEADYMAIL_DATA_DIR: dataDir },
      out: (line) => (out += `${line}\n`),
      write: (text) => (out += text),
      error: (text) => (err += text),
    });
    return { code, out, err };
  };
}

test('filter show, junk-score, allow, block and unlist', async () => {
  const run = cli(mkdtempSync(join(tmpdir(), 'steadymail-cli-filter-')));
  assert.equal((await run(['domain', 'add', 'example.org'])).code, 0);
  assert.equal((await run(['user', 'add', 'alice@example.org', '--password-stdin'], 'a long enough password\n')).code, 0);
  assert.equal((await run(['filter', 'show', 'alice@example.org'])).out, 'junk score\t5 (server default)\n');
  assert.equal((await run(['filter', 'junk-score', 'alice@example.org', '3.5'])).code, 0);
  assert.equal((await run(['filter', 'allow', 'alice@example.org', 'Friends.Example'])).code, 0);
  assert.equal((await run(['filter', 'block', 'alice@example.org', 'spam@bad.example'])).code, 0);
  assert.equal((await run(['filter', 'show', 'alice@example.org'])).out, 'junk score\t3.5\nallow\tfriends.example\nblock\tspam@bad.example\n');
  // Blocking an allowed sender moves it from one list to the other.
  await run(['filter', 'block', 'alice@example.org', 'friends.example']);
  await run(['filter', 'unlist', 'alice@example.org', 'spam@bad.example']);
  await run(['filter', 'junk-score', 'alice@example.org', 'default']);
  assert.equal((await run(['filter', 'show', 'alice@example.org'])).out, 'junk score\t5 (server default)\nblock\tfriends.example\n');
  const bad = await run(['filter', 'junk-score', 'alice@example.org', 'high']);
  assert.equal(bad.code, 64);
  assert.match(bad.err, /expected a number or "default"/);
  const missing = await run(['filter', 'show', 'nobody@example.org']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.err, /does not exist/);
});
