// End to end: the real bin/steadymail (built into dist/ by `npm run build`) as a child
// process, against a fresh data directory, with every listener on 127.0.0.1:0.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { createTestDatabase } from '../src/store/contract/pg-test-db.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'steadymail');
const LISTENERS = ['SMTP', 'SUBMISSION', 'SUBMISSIONS', 'POP3', 'POP3S', 'IMAP', 'IMAPS', 'HTTP', 'SNMP', 'MANAGESIEVE'];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a test run: ours minus any STEADYMAIL_* the caller had set. */
function environment(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STEADYMAIL_')) env[k] = v;
  for (const l of LISTENERS) env[`STEADYMAIL_LISTEN_${l}`] = '127.0.0.1:0';
  return { ...env, STEADYMAIL_DATA_DIR: dataDir, STEADYMAIL_LOG_LEVEL: 'info', ...extra };
}

function run(dir: string, args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: environment(join(dir, 'data'), options.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

async function ok(dir: string, args: string[], input?: string): Promise<string> {
  const r = await run(dir, args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `steadymail ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function fails(dir: string, args: string[], code: number, message: RegExp, input?: string): Promise<void> {
  const r = await run(dir, args, input === undefined ? {} : { input });
  assert.equal(r.code, code, `steadymail ${args.join(' ')}: expected exit ${code}, got ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, message);
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'steadymail-cli-'));
}

const dirs: string[] = [];
function fresh(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

before(() => {
  assert.ok(existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'dist/ is missing: run `npm run build` before the tests');
});
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('admin commands', () => {
  test('domains, users and aliases: happy paths', async () => {
    const dir = fresh();
    assert.match(await ok(dir, ['domain', 'add', 'Example.COM']), /added domain example\.com/);
    assert.match(await ok(dir, ['domain', 'add', 'bücher.example']), /xn--bcher-kva\.example/);
    await Promise.all([
      ok(dir, ['user', 'add', 'Alice@Example.com', '--password-stdin', '--quota', '500M'], 'first secret\n'),
      ok(dir, ['user', 'add', 'bob@bücher.example', '--password-stdin'], 'bobs secret'),
      ok(dir, ['alias', 'add', '@example.com', 'alice@example.com', 'BOB@bücher.example']),
    ]);
    const [domains, users, aliases] = await Promise.all([ok(dir, ['domain', 'list']), ok(dir, ['user', 'list']), ok(dir, ['alias', 'list'])]);
    assert.deepEqual(domains.trim().split('\n').sort(), ['example.com', 'xn--bcher-kva.example']);
    assert.match(users, /^alice@example\.com\tused 0\tquota 500M$/m);
    assert.match(users, /^bob@xn--bcher-kva\.example\tused 0\tquota unlimited$/m);
    assert.match(aliases, /^@example\.com\talice@example\.com, bob@xn--bcher-kva\.example$/m);
    await Promise.all([
      ok(dir, ['user', 'quota', 'alice@example.com', '2G']),
      ok(dir, ['user', 'passwd', 'alice@example.com', '--password-stdin'], 'second secret\n'),
      ok(dir, ['alias', 'remove', '@example.com']),
      ok(dir, ['user', 'remove', 'bob@bücher.example']),
    ]);
    assert.equal((await ok(dir, ['user', 'list'])).trim(), 'alice@example.com\tused 0\tquota 2G');
    await ok(dir, ['domain', 'remove', 'example.com', '--force']);
    assert.equal((await ok(dir, ['domain', 'list'])).trim(), 'xn--bcher-kva.example');
  });

  // Every mapping is covered in-process by src/cli/program.test.ts; these go through the binary.
  test('bad input: clear message and the documented exit code', async () => {
    const dir = fresh();
    await ok(dir, ['domain', 'add', 'example.com']);
    await ok(dir, ['user', 'add', 'alice@example.com', '--password-stdin'], 'pw');
    await Promise.all([
      fails(dir, ['user', 'add', 'x@unknown.example', '--password-stdin'], 67, /domain unknown\.example is not hosted here/, 'pw'),
      fails(dir, ['user', 'add', 'ALICE@example.com', '--password-stdin'], 73, /account alice@example\.com already exists/, 'pw'),
      fails(dir, ['user', 'add', 'not-an-address', '--password-stdin'], 65, /invalid address "not-an-address"/, 'pw'),
      fails(dir, ['user', 'add', 'bob@example.com', '--quota', '12X', '--password-stdin'], 65, /invalid size "12X"/, 'pw'),
      fails(dir, ['user', 'add', 'bob@example.com'], 64, /--password-stdin/),
      fails(dir, ['frobnicate'], 64, /unknown command/),
    ]);
    assert.equal((await ok(dir, ['user', 'list'])).trim(), 'alice@example.com\tused 0\tquota unlimited');
  });

  test('configuration errors exit 78 and name the key; --config is honoured', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'other.toml'), '[limits]\nmax_line_bytes = "big"\n');
    const [fromEnv] = await Promise.all([
      run(dir, ['domain', 'list'], { env: { STEADYMAIL_STORE_DRIVER: 'mysql' } }),
      fails(dir, ['domain', 'list', '--config', 'other.toml'], 78, /limits\.max_line_bytes.*other\.toml.*expected number/),
      fails(dir, ['domain', 'list', '--config', 'missing.toml'], 78, /missing\.toml.*does not exist/),
    ]);
    assert.equal(fromEnv.code, 78);
    assert.match(fromEnv.stderr, /store\.driver.*"sqlite", "postgres"/);
  });

  test('version', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const [long, short] = await Promise.all([ok(fresh(), ['version']), ok(fresh(), ['--version'])]);
    assert.equal(long.trim(), `steadymail ${pkg.version}`);
    assert.equal(short.trim(), pkg.version);
  });
});

interface Serving {
  child: ChildProcess;
  httpPort: number;
  /** Pids that logged an HTTP listening line. */
  listening: () => Set<number>;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `serve` and waits for the HTTP listener's log line to learn its port. */
async function serve(dir: string, env: Record<string, string> = {}): Promise<Serving> {
  const child = spawn(process.execPath, [BIN, 'serve'], { cwd: dir, env: environment(join(dir, 'data'), env) });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout });
  const listening = new Set<number>();
  const httpPort = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not report its HTTP port: ${stderr}`)), 10_000);
    void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as { listener?: string; port?: number; msg?: string; pid?: number };
      if (entry.listener === 'http' && typeof entry.port === 'number' && entry.msg?.includes('listening')) {
        if (entry.pid !== undefined) listening.add(entry.pid);
        clearTimeout(timer);
        resolve(entry.port);
      }
    });
  });
  // The banner is written right after the listeners start.
  for (let i = 0; i < 100 && !stderr.includes('is running'); i++) await new Promise((r) => setTimeout(r, 20));
  return { child, httpPort, listening: () => listening, stderr: () => stderr, exited };
}

async function stop(s: Serving, withinMs: number): Promise<void> {
  const started = Date.now();
  s.child.kill('SIGTERM');
  assert.equal(await s.exited, 0, `serve did not exit 0: ${s.stderr()}`);
  assert.ok(Date.now() - started < withinMs, `took ${Date.now() - started} ms to stop`);
}

describe('console admins and API tokens', () => {
  test('admin add|passwd|list|remove and token create|list|revoke; secrets are stored hashed; all audited', async () => {
    const dir = fresh();
    assert.match(await ok(dir, ['admin', 'add', 'Root', '--password-stdin'], 'admin secret\n'), /added admin root/);
    await fails(dir, ['admin', 'add', 'root', '--password-stdin'], 73, /admin root already exists/, 'x');
    await fails(dir, ['admin', 'add', 'bad name!', '--password-stdin'], 65, /invalid admin name/, 'x');
    await fails(dir, ['admin', 'add', 'ops', '--password-stdin'], 65, /must not be empty/, '');
    await ok(dir, ['admin', 'add', 'ops', '--password-stdin'], 'ops secret');
    assert.match(await ok(dir, ['admin', 'passwd', 'ops', '--password-stdin'], 'new ops secret'), /changed the password of admin ops/);
    await fails(dir, ['admin', 'passwd', 'nobody', '--password-stdin'], 67, /admin nobody does not exist/, 'x');
    assert.deepEqual((await ok(dir, ['admin', 'list'])).trim().split('\n').map((l) => l.split('\t')[0]), ['ops', 'root']);
    await ok(dir, ['admin', 'remove', 'ops']);
    await fails(dir, ['admin', 'remove', 'ops'], 67, /does not exist/);

    const created = await run(dir, ['admin', 'token', 'create', '--label', 'deploy bot']);
    assert.equal(created.code, 0, created.stderr);
    const secret = created.stdout.trim();
    assert.match(secret, /^sma_[a-z0-9]{10}_[A-Za-z0-9_-]{43}$/);
    const id = secret.split('_')[1]!;
    assert.match(created.stderr, new RegExp(`created token ${id}; store it now`));
    assert.match(await ok(dir, ['admin', 'token', 'list']), new RegExp(`^${id}\tactive\tdeploy bot\t\\S+\tnever$`, 'm'));
    await ok(dir, ['admin', 'token', 'revoke', id]);
    assert.match(await ok(dir, ['admin', 'token', 'list']), new RegExp(`^${id}\trevoked\t`, 'm'));
    await fails(dir, ['admin', 'token', 'revoke', 'nosuchtoken'], 67, /does not exist/);
    // Only the hash is kept: the secret appears nowhere in the database files.
    const db = Buffer.concat(['steadymail.db', 'steadymail.db-wal'].filter((f) => existsSync(join(dir, 'data', f))).map((f) => readFileSync(join(dir, 'data', f))));
    assert.ok(db.length > 0);
    assert.equal(db.includes(Buffer.from(secret.slice(16))), false);

    const { openStore } = await import('../src/store/open.js');
    const store = await openStore({ driver: 'sqlite', dataDir: join(dir, 'data') });
    try {
      const actions = (await store.listAudit({ limit: 100 })).map((e) => `${e.action} ${e.subject}`).reverse();
      assert.deepEqual(actions, ['admin.add root', 'admin.add ops', 'admin.passwd ops', 'admin.remove ops', `token.create ${id}`, `token.revoke ${id}`]);
    } finally {
      await store.close();
    }
  });

  test('domain records prints the zone lines to publish', async () => {
    const dir = fresh();
    await ok(dir, ['domain', 'add', 'example.com']);
    await ok(dir, ['domain', 'dkim', 'example.com']);
    const env = { STEADYMAIL_HOSTNAME: 'mx1.provider.net', STEADYMAIL_LISTEN_SUBMISSION: '0.0.0.0:587', STEADYMAIL_LISTEN_POP3: 'off' };
    const r = await run(dir, ['domain', 'records', 'example.com'], { env });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.includes('example.com. 3600 IN MX 10 mx1.provider.net.'));
    assert.ok(lines.includes('_submission._tcp.example.com. 3600 IN SRV 0 1 587 mx1.provider.net.'));
    assert.ok(lines.includes('_pop3._tcp.example.com. 3600 IN SRV 0 0 0 .'));
    assert.ok(lines.includes('autoconfig.example.com. 3600 IN CNAME mx1.provider.net.'));
    assert.ok(lines.some((l) => /^steadymail\._domainkey\.example\.com\. 3600 IN TXT "v=DKIM1; k=rsa; p=/.test(l)));
    await fails(dir, ['domain', 'records', 'other.example'], 67, /not hosted/);
  });
});

describe('serve', () => {
  test('first run: demo account, /healthz, admin commands while serving, SIGTERM exits 0', async () => {
    const dir = fresh();
    const s = await serve(dir, { STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '3' });
    try {
      const health = await fetch(`http://127.0.0.1:${s.httpPort}/healthz`);
      assert.equal(health.status, 200);
      const body = (await health.json()) as { status: string; version: string };
      assert.equal(body.status, 'ok');
      assert.match(body.version, /^\d+\.\d+\.\d+/);

      const file = join(dir, 'data', 'first-run.txt');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.match(readFileSync(file, 'utf8'), /^address: demo@steadymail\.test$/m);
      assert.match(s.stderr(), new RegExp(`http +http://127\\.0\\.0\\.1:${s.httpPort}`));
      assert.match(s.stderr(), /Log in as demo@steadymail\.test; the password is in .*first-run\.txt/);
      assert.equal(statSync(join(dir, 'data', 'tls', 'key.pem')).mode & 0o777, 0o600);

      // The CLI works on the same data while the server runs.
      assert.equal((await ok(dir, ['domain', 'list'])).trim(), 'steadymail.test');
      await ok(dir, ['domain', 'add', 'example.org']);
      await ok(dir, ['user', 'add', 'carol@example.org', '--password-stdin'], 'pw');
      assert.match(await ok(dir, ['user', 'list']), /carol@example\.org[\s\S]*demo@steadymail\.test|demo@steadymail\.test[\s\S]*carol@example\.org/);
      assert.equal((await fetch(`http://127.0.0.1:${s.httpPort}/healthz`)).status, 200);
    } finally {
      await stop(s, 3000);
    }

    // Second start: no new demo account, same credentials file, same certificate.
    const before = readFileSync(join(dir, 'data', 'first-run.txt'), 'utf8');
    const cert = readFileSync(join(dir, 'data', 'tls', 'cert.pem'), 'utf8');
    const again = await serve(dir);
    try {
      assert.match(again.stderr(), /Log in as demo@steadymail\.test/);
      assert.equal(readFileSync(join(dir, 'data', 'first-run.txt'), 'utf8'), before);
      assert.equal(readFileSync(join(dir, 'data', 'tls', 'cert.pem'), 'utf8'), cert);
      assert.equal((await ok(dir, ['domain', 'list'])).trim().split('\n').length, 2);
    } finally {
      await stop(again, 3000);
    }
  });

  test('with a configuration file and no domains, no demo account; the banner says how to add one', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'steadymail.toml'), '[server]\nshutdown_grace_seconds = 1\n');
    const s = await serve(dir);
    try {
      assert.equal(existsSync(join(dir, 'data', 'first-run.txt')), false);
      assert.match(s.stderr(), /No accounts yet[\s\S]*steadymail domain add/);
    } finally {
      await stop(s, 2000);
    }
  });

  test('a listener that cannot bind stops start-up with a non-zero exit', async () => {
    const dir = fresh();
    const first = await serve(dir);
    try {
      const r = await run(fresh(), ['serve'], { env: { STEADYMAIL_LISTEN_HTTP: `127.0.0.1:${first.httpPort}` } });
      assert.equal(r.code, 71);
      assert.match(r.stderr, new RegExp(`cannot listen for http on 127\\.0\\.0\\.1:${first.httpPort}`));
    } finally {
      await stop(first, 3000);
    }
  });
});

describe('workers', () => {
  test('workers = 2: two processes share the port; SIGTERM stops both and exits 0', async () => {
    const dir = fresh();
    const s = await serve(dir, { STEADYMAIL_SERVER_WORKERS: '2', STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '3' });
    try {
      assert.match(s.stderr(), /with 2 worker processes/);
      assert.equal((await fetch(`http://127.0.0.1:${s.httpPort}/healthz`)).status, 200);
      // Both workers report listening on the same port.
      for (let i = 0; i < 100 && s.listening().size < 2; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(s.listening().size, 2, 'two worker pids listening');
      const r = await run(fresh(), ['serve'], { env: { STEADYMAIL_SERVER_WORKERS: '2', STEADYMAIL_LISTEN_HTTP: `127.0.0.1:${s.httpPort}` } });
      assert.equal(r.code, 71, `a second server on the same port: ${r.stderr}`);
    } finally {
      await stop(s, 3000);
    }
  });
});

describe('farm mode', () => {
  test('with store.driver = postgres the CLI and serve share one PostgreSQL database', async () => {
    const db = await createTestDatabase();
    try {
      const dir = fresh();
      writeFileSync(join(dir, 'steadymail.toml'), `[store]\ndriver = "postgres"\nurl = "${db.url}"\n`);
      await ok(dir, ['domain', 'add', 'farm.example']);
      await ok(dir, ['user', 'add', 'node@farm.example', '--password-stdin'], 'pw');
      const s = await serve(dir, { STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '3' });
      try {
        assert.equal((await fetch(`http://127.0.0.1:${s.httpPort}/healthz`)).status, 200);
        assert.match(s.stderr(), /manage accounts with `steadymail user`/);
        assert.equal((await ok(dir, ['user', 'list'])).trim(), 'node@farm.example\tused 0\tquota unlimited');
      } finally {
        await stop(s, 3000);
      }
    } finally {
      await db.drop();
    }
  });
});
