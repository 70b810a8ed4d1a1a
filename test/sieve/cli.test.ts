// `steadymail sieve …` as an operator runs it: the built bin/steadymail as a child
// process against a fresh data directory.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'steadymail');
let dir: string;

function run(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STEADYMAIL_')) env[k] = v;
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...env, STEADYMAIL_DATA_DIR: join(dir, 'data'), STEADYMAIL_SIEVE_MAX_SCRIPT_BYTES: '200' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

before(() => {
  assert.ok(existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'dist/ is missing: run `npm run build` before the tests');
  dir = mkdtempSync(join(tmpdir(), 'steadymail-sieve-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('sieve put (file and stdin), list, get, activate, deactivate, delete; errors with line:column and exit codes', async () => {
  assert.equal((await run(['domain', 'add', 'example.org'])).code, 0);
  assert.equal((await run(['user', 'add', 'alice@example.org', '--password-stdin'], 'secret password\n')).code, 0);
  const file = join(dir, 'rules.sieve');
  writeFileSync(file, 'require "fileinto";\nfileinto "Archive";\n');
  let r = await run(['sieve', 'put', 'alice@example.org', 'rules', file, '--activate']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'stored script rules (active)\n');
  r = await run(['sieve', 'put', 'alice@example.org', 'other', '-'], 'keep;\n');
  assert.equal(r.code, 0, r.stderr);
  r = await run(['sieve', 'put', 'alice@example.org', 'stdin'], 'discard;\n');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await run(['sieve', 'list', 'alice@example.org'])).stdout, 'other\t6\nrules\t40\tactive\nstdin\t9\n');
  assert.equal((await run(['sieve', 'delete', 'alice@example.org', 'other'])).code, 0);
  assert.equal((await run(['sieve', 'put', 'alice@example.org', 'x', join(dir, 'missing.sieve')])).code, 65);
  assert.equal((await run(['sieve', 'get', 'alice@example.org', 'stdin'])).stdout, 'discard;\n');

  r = await run(['sieve', 'put', 'alice@example.org', 'bad'], 'keep;\nfileinto "x";\n');
  assert.equal(r.code, 65);
  assert.match(r.stderr, /the script: line 2, column 1: "fileinto" needs require "fileinto"/);
  r = await run(['sieve', 'put', 'alice@example.org', 'big'], '#'.repeat(300) + '\nkeep;\n');
  assert.equal(r.code, 65);
  assert.match(r.stderr, /sieve\.max_script_bytes is 200/);
  r = await run(['sieve', 'delete', 'alice@example.org', 'rules']);
  assert.equal(r.code, 65, 'the active script cannot be deleted');
  assert.equal((await run(['sieve', 'list', 'nobody@example.org'])).code, 67);
  assert.equal((await run(['sieve', 'get', 'alice@example.org', 'nope'])).code, 67);

  assert.equal((await run(['sieve', 'activate', 'alice@example.org', 'stdin'])).code, 0);
  assert.equal((await run(['sieve', 'list', 'alice@example.org'])).stdout, 'rules\t40\nstdin\t9\tactive\n');
  assert.equal((await run(['sieve', 'deactivate', 'alice@example.org'])).code, 0);
  assert.equal((await run(['sieve', 'delete', 'alice@example.org', 'rules'])).code, 0);
  assert.equal((await run(['sieve', 'list', 'alice@example.org'])).stdout, 'stdin\t9\n');
});
