// The command line in-process: every command and every error mapping, quickly.
// test/cli.test.ts runs the real binary for a representative subset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runCli } from './program.js';
import { formatSize, parseSize } from './context.js';

interface Result {
  code: number;
  out: string;
  err: string;
}

function cli(dataDir: string) {
  return async (args: string[], input = ''): Promise<Result> => {
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

test('sizes: binary units, 0 = unlimited, garbage refused', () => {
  assert.equal(parseSize('0'), 0);
  assert.equal(parseSize('1024'), 1024);
  assert.equal(parseSize('500M'), 500 * 1024 ** 2);
  assert.equal(parseSize('2G'), 2 * 1024 ** 3);
  assert.equal(parseSize('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('10KiB'), 10240);
  for (const bad of ['', 'M', '-1G', '2X', '1e9', '9999999999T']) assert.throws(() => parseSize(bad), /size/, bad);
  assert.equal(formatSize(500 * 1024 ** 2), '500M');
  assert.equal(formatSize(1536 * 1024 ** 2), '1.5G');
  assert.equal(formatSize(100), '100B');
});

test('every command, and each error with its exit code', async () => {
  const run = cli(mkdtempSync(join(tmpdir(), 'steadymail-cli-')));
  const expect = async (args: string[], code: number, pattern: RegExp, input?: string): Promise<Result> => {
    const r = await run(args, input);
    assert.equal(r.code, code, `${args.join(' ')} → ${r.code}: ${r.err}`);
    assert.match(code === 0 ? r.out : r.err, pattern, args.join(' '));
    return r;
  };

  await expect(['domain', 'add', 'Example.com'], 0, /added domain example\.com/);
  await expect(['domain', 'add', 'xn--bcher-kva.example'], 0, /added/);
  await expect(['user', 'add', 'Alice@example.com', '--password-stdin', '--quota', '1G'], 0, /added account alice@example\.com \(quota 1G\)/, 'pw\n');
  await expect(['user', 'add', 'bob@bücher.example', '--password-stdin'], 0, /bob@xn--bcher-kva\.example/, 'pw');
  await expect(['user', 'list', '--domain', 'bücher.example'], 0, /^bob@xn--bcher-kva\.example\tused 0\tquota unlimited\n$/);
  await expect(['user', 'passwd', 'ALICE@example.com', '--password-stdin'], 0, /changed the password/, 'new');
  await expect(['user', 'quota', 'alice@example.com', '250M'], 0, /now 250M/);
  await expect(['alias', 'add', '@example.com', 'alice@example.com'], 0, /added alias @example\.com -> alice@example\.com/);
  await expect(['alias', 'list'], 0, /^@example\.com\talice@example\.com$/m);
  await expect(['version'], 0, /^steadymail \d+\.\d+\.\d+\n$/);
  await expect(['--help'], 0, /Usage: steadymail/);

  // 67 — does not exist
  await expect(['user', 'add', 'x@unknown.example', '--password-stdin'], 67, /domain unknown\.example is not hosted here; add it first/, 'pw');
  await expect(['user', 'remove', 'nobody@example.com'], 67, /account nobody@example\.com does not exist/);
  await expect(['user', 'passwd', 'nobody@example.com', '--password-stdin'], 67, /does not exist/, 'pw');
  await expect(['user', 'quota', 'nobody@example.com', '1G'], 67, /does not exist/);
  await expect(['user', 'list', '--domain', 'unknown.example'], 67, /unknown\.example/);
  await expect(['domain', 'remove', 'unknown.example'], 67, /unknown\.example/);
  await expect(['alias', 'add', 'x@unknown.example', 'alice@example.com'], 67, /unknown\.example/);
  await expect(['alias', 'remove', 'nothing@example.com'], 67, /alias nothing@example\.com does not exist/);
  // 73 — already exists
  await expect(['user', 'add', 'ALICE@example.com', '--password-stdin'], 73, /account alice@example\.com already exists/, 'pw');
  await expect(['domain', 'add', 'EXAMPLE.com'], 73, /domain example\.com already exists/);
  await expect(['alias', 'add', '@example.com', 'bob@xn--bcher-kva.example'], 73, /already exists/);
  // 65 — invalid data
  await expect(['user', 'add', 'not-an-address', '--password-stdin'], 65, /invalid address "not-an-address"/, 'pw');
  await expect(['user', 'add', 'a..b@example.com', '--password-stdin'], 65, /invalid address/, 'pw');
  await expect(['domain', 'add', 'bad_domain'], 65, /invalid domain name "bad_domain"/);
  await expect(['user', 'add', 'carol@example.com', '--quota', '12X', '--password-stdin'], 65, /invalid size "12X"/, 'pw');
  await expect(['user', 'quota', 'alice@example.com', 'lots'], 65, /invalid size "lots"/);
  await expect(['user', 'add', 'carol@example.com', '--password-stdin'], 65, /must not be empty/, '\n');
  await expect(['user', 'add', 'carol@example.com', '--password-stdin'], 65, /single line/, 'a\nb\n');
  await expect(['alias', 'add', 'info@example.com', 'not an address'], 65, /invalid address/);
  await expect(['alias', 'add', 'info@example.com', 'info@example.com'], 65, /itself/);
  await expect(['domain', 'remove', 'example.com'], 65, /still has 1 account/);
  // 64 — usage: no password source (stdin is not a terminal), extra or missing arguments, unknown command
  await expect(['user', 'add', 'carol@example.com'], 64, /--password-stdin/);
  await expect(['user', 'add', 'carol@example.com', 'hunter2'], 64, /too many arguments/);
  await expect(['domain', 'add'], 64, /missing required argument/);
  await expect(['frobnicate'], 64, /unknown command/);
  // 78 — configuration
  await expect(['domain', 'list', '--config', '/nonexistent/steadymail.toml'], 78, /does not exist/);

  // The failures changed nothing; removals work.
  await expect(['user', 'list'], 0, /^alice@example\.com\tused 0\tquota 250M\nbob@xn--bcher-kva\.example\tused 0\tquota unlimited\n$/);
  await expect(['alias', 'remove', '@example.com'], 0, /removed alias/);
  await expect(['user', 'remove', 'alice@example.com'], 0, /removed account/);
  await expect(['domain', 'remove', 'example.com'], 0, /removed domain/);
  await expect(['domain', 'remove', 'xn--bcher-kva.example', '--force'], 0, /removed domain/);
  await expect(['domain', 'list'], 0, /^$/);
});

test('check, repair, backup and restore in-process: exit codes and usage errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steadymail-cli-'));
  const run = cli(join(dir, 'data'));
  assert.equal((await run(['domain', 'add', 'example.org'])).code, 0);
  const check = await run(['check', '--json']);
  assert.equal(check.code, 0, check.err);
  assert.deepEqual(JSON.parse(check.out), { clean: true, problems: [], counts: {}, unrepairable: 0 });
  assert.equal((await run(['check', '--structure', 'some'])).code, 64, 'an unknown --structure mode is a usage error');
  assert.equal((await run(['check', '--account', 'nobody@example.org'])).code, 67);
  assert.match((await run(['repair'])).out, /nothing to repair/);
  assert.equal((await run(['backup', join(dir, 'b')])).code, 0);
  const restore = await run(['restore', join(dir, 'b')]);
  assert.equal(restore.code, 65, 'restore refuses the data directory the store lives in');
  assert.match(restore.err, /already has a store/);
  assert.equal((await cli(join(dir, 'other'))(['restore', join(dir, 'nothing')])).code, 65, 'not a backup');
});
