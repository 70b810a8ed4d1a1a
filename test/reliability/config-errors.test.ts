// Configuration errors and command-line misuse against the real binary: each bad start
// prints one line naming the key or path, exits non-zero with the documented code
// (src/cli/context.ts), never gets as far as serving (no "is running" banner, no
// listener left bound) and leaves the data directory exactly as it was.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { BIN, cli, serveEnv, tempDataDir } from '../e2e/serve.js';

const root = process.getuid?.() === 0;
let dataDir: string;
let scratch: string;

before(async () => {
  dataDir = tempDataDir();
  scratch = tempDataDir();
  assert.equal((await cli(dataDir, ['domain', 'add', 'cfg.test'])).code, 0);
  assert.equal((await cli(dataDir, ['user', 'add', 'alice@cfg.test', '--password-stdin'], 'alice-secret\n')).code, 0);
});

after(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * Made once by the first start that gets past the configuration and kept for every later
 * one (the self-signed certificate, the SRS secret): not data a failed start may change.
 */
const FIRST_START_FILES = new Set(['/srs.secret', '/tls/cert.pem', '/tls/key.pem']);

/** Every file under the data directory with its size and hash (the first-start files aside). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (!FIRST_START_FILES.has(p.slice(dir.length))) out[p.slice(dir.length)] = `${st.size}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(dir);
  return out;
}

/** Runs `steadymail serve` (or any command); kills it if it is still running after 20 s. */
function run(args: string[], env: Record<string, string> = {}, dir = dataDir): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...serveEnv(dir), STEADYMAIL_LISTEN_MANAGESIEVE: 'off', ...env }, cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function refused(args: string[], env: Record<string, string>, code: number, message: RegExp, dir = dataDir): Promise<string> {
  const before = snapshot(dir);
  const r = await run(args, env, dir);
  assert.equal(r.code, code, `exit code of ${args.join(' ')} ${JSON.stringify(env)}: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, 'one clear line, no stack trace');
  assert.doesNotMatch(r.stderr, /is running/, 'never got as far as serving');
  assert.deepEqual(snapshot(dir), before, 'the data directory is untouched');
  return r.stderr;
}

test('configuration file: an unknown key and a bad value name the key and the file, exit 78', async () => {
  writeFileSync(join(scratch, 'unknown.toml'), '[limits]\nmax_line_byte = 100000\n');
  writeFileSync(join(scratch, 'bad.toml'), '[limits]\nmax_line_bytes = -5\n');
  writeFileSync(join(scratch, 'syntax.toml'), '[limits\nmax_line_bytes = 1\n');
  await refused(['serve', '--config', 'unknown.toml'], {}, 78, /limits\.max_line_byte \(.*unknown\.toml\): unknown key/);
  await refused(['serve', '--config', 'bad.toml'], {}, 78, /limits\.max_line_bytes \(.*bad\.toml\): must be at least 1000 \(got -5\)/);
  await refused(['serve', '--config', 'syntax.toml'], {}, 78, /syntax\.toml/);
  await refused(['serve'], { STEADYMAIL_LIMITS_COMMAND_TIMEOUT_SECONDS: 'soon' }, 78, /limits\.command_timeout_seconds \(STEADYMAIL_LIMITS_COMMAND_TIMEOUT_SECONDS\)/);
});

test('listen addresses: malformed is a configuration error, unresolvable or in use stops start-up', async () => {
  await refused(['serve'], { STEADYMAIL_LISTEN_IMAP: 'localhost:99999' }, 78, /listen\.imap \(STEADYMAIL_LISTEN_IMAP\): expected "host:port"/);
  await refused(['serve'], { STEADYMAIL_LISTEN_SMTP: 'mail' }, 78, /listen\.smtp/);
  await refused(['serve'], { STEADYMAIL_LISTEN_SMTP: 'no-such-host.invalid:2525' }, 71, /cannot listen for smtp on no-such-host\.invalid:2525/);
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const port = (taken.address() as net.AddressInfo).port;
  try {
    // POP3 binds after SMTP and IMAP: the listeners already bound are closed again.
    await refused(['serve'], { STEADYMAIL_LISTEN_POP3: `127.0.0.1:${port}` }, 71, new RegExp(`cannot listen for pop3 on 127\\.0\\.0\\.1:${port}`));
  } finally {
    await new Promise((r) => taken.close(r));
  }
});

test('TLS: a missing or unreadable certificate and a file that is no certificate name the path, exit 78', async () => {
  writeFileSync(join(scratch, 'garbage.pem'), 'not a certificate\n');
  const missing = join(scratch, 'missing.pem');
  await refused(['serve'], { STEADYMAIL_TLS_CERT: missing, STEADYMAIL_TLS_KEY: missing }, 78, new RegExp(`cannot read the TLS certificate or key: .*${missing.replace(/[.]/g, '\\.')}`));
  await refused(['serve'], { STEADYMAIL_TLS_CERT: join(scratch, 'garbage.pem'), STEADYMAIL_TLS_KEY: join(scratch, 'garbage.pem') }, 78, /invalid TLS certificate .*garbage\.pem/);
  // A directory where the certificate should be: readable by no one, root included.
  mkdirSync(join(scratch, 'cert-dir'), { recursive: true });
  await refused(['serve'], { STEADYMAIL_TLS_CERT: join(scratch, 'cert-dir'), STEADYMAIL_TLS_KEY: join(scratch, 'cert-dir') }, 78, /cannot read the TLS certificate or key: .*EISDIR/);
});

test('data_dir not a directory or not writable: a clear message naming it, exit 78, nothing started', async () => {
  writeFileSync(join(scratch, 'a-file'), 'x');
  const under = join(scratch, 'a-file', 'data');
  const r = await run(['serve'], {}, under);
  assert.equal(r.code, 78, r.stderr);
  assert.match(r.stderr, new RegExp(`data_dir ${under.replace(/[.]/g, '\\.')} cannot be used: a part of the path is not a directory`));
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);

  if (root) {
    // Root writes through file modes: only a read-only mount refuses it.
    execFileSync('mount', ['--bind', dataDir, dataDir]);
    try {
      execFileSync('mount', ['-o', 'remount,bind,ro', dataDir]);
      await refused(['serve'], {}, 78, /data_dir .* cannot be used: it is on a read-only file system/);
    } finally {
      execFileSync('umount', [dataDir]);
    }
  } else {
    chmodSync(dataDir, 0o555);
    try {
      await refused(['serve'], {}, 78, /data_dir .* cannot be used: permission denied/);
    } finally {
      chmodSync(dataDir, 0o755);
    }
  }
  // The data is still there and usable.
  assert.equal((await cli(dataDir, ['user', 'list'])).stdout.trim().split('\t')[0], 'alice@cfg.test');
});

test('command-line misuse: unknown command or option, missing argument, exit 64 with usage help', async () => {
  await refused(['serv'], {}, 64, /unknown command 'serv'/);
  await refused(['serve', '--port', '25'], {}, 64, /unknown option '--port'/);
  await refused(['user', 'add'], {}, 64, /missing required argument/);
});
