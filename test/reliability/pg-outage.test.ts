// Farm mode with the database gone: two `serve` nodes share a private PostgreSQL cluster
// (initdb + pg_ctl in a temp directory, on a free port; the machine's own PostgreSQL is
// never touched), which is stopped with `pg_ctl stop -m immediate` in the middle of SMTP
// traffic. While it is down every protocol answers its temporary failure (SMTP 4xx, IMAP
// NO/BYE [UNAVAILABLE], POP3 -ERR [SYS/TEMP]), /readyz says not ready and the store probe
// reports the outage; once the cluster is back both nodes serve again without a restart
// and every message that got a 250 is stored exactly once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, serve, tempDataDir, type Running } from '../e2e/serve.js';
import { ImapClient, Pop3Client, smtpSend } from './clients.js';
import { Wire } from '../security/wire.js';
import { freePort } from '../free-port.js';

const PG_BIN = (() => {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest ? join(base, newest, 'bin') : undefined;
})();
const root = process.getuid?.() === 0;

let clusterDir = '';
let pgPort = 0;
let dirs: string[] = [];
let nodes: Running[] = [];

/** Runs a PostgreSQL tool as the postgres user when we are root (it refuses to run as root). */
function pgTool(tool: string, args: string[]): string {
  const bin = join(PG_BIN!, tool);
  const options = { encoding: 'utf8' as const, stdio: ['ignore', 'pipe', 'pipe'] as ('ignore' | 'pipe')[] };
  return root ? execFileSync('runuser', ['-u', 'postgres', '--', bin, ...args], options) : execFileSync(bin, args, options);
}

const startCluster = () => pgTool('pg_ctl', ['-D', join(clusterDir, 'data'), '-l', join(clusterDir, 'log'), '-w', '-t', '30', '-o', `-p ${pgPort} -k ${clusterDir} -c listen_addresses=127.0.0.1`, 'start']);
const stopCluster = () => pgTool('pg_ctl', ['-D', join(clusterDir, 'data'), '-w', '-m', 'immediate', 'stop']);

before(async () => {
  assert.ok(PG_BIN, 'PostgreSQL server binaries (initdb, pg_ctl) are needed under /usr/lib/postgresql/*/bin');
  clusterDir = mkdtempSync(join(tmpdir(), 'steadymail-pg-'));
  if (root) chownSync(clusterDir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
  pgTool('initdb', ['-D', join(clusterDir, 'data'), '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  pgPort = await freePort();
  startCluster();
  const farm = {
    STEADYMAIL_STORE_DRIVER: 'postgres',
    STEADYMAIL_STORE_URL: `postgres://postgres@127.0.0.1:${pgPort}/postgres`,
    STEADYMAIL_OUTBOUND_ENABLED: 'false',
    STEADYMAIL_MONITOR_PROBE_INTERVAL_SECONDS: '5',
  };
  dirs = [tempDataDir(), tempDataDir()];
  assert.equal((await cli(dirs[0]!, ['domain', 'add', 'pg.test'], undefined, farm)).code, 0);
  for (const u of ['alice', 'bob']) assert.equal((await cli(dirs[0]!, ['user', 'add', `${u}@pg.test`, '--password-stdin'], `${u}-secret\n`, farm)).code, 0);
  nodes = await Promise.all(dirs.map((d) => serve(d, farm, ['smtp', 'submission', 'imap', 'pop3', 'http'])));
});

after(async () => {
  await Promise.all(nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null).map((n) => n.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (clusterDir) {
    try {
      stopCluster();
    } catch {
      // already stopped
    }
    rmSync(clusterDir, { recursive: true, force: true });
  }
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const http = (n: Running, path: string) => fetch(`http://127.0.0.1:${n.ports.get('http')}${path}`);

/** The store probe's last result as /metrics has it: '1' passed, '0' failed. */
async function storeProbe(n: Running): Promise<string | undefined> {
  const res = await http(n, '/metrics');
  assert.equal(res.status, 200, '/metrics answers while the database is down');
  return /^steadymail_probe_success\{component="store"\} (\d)/m.exec(await res.text())?.[1];
}

/** A node's log lines at level error or worse, and how it exited: what a failure needs to be understood. */
function watch(n: Running): () => string {
  const lines: string[] = [];
  n.child.stdout?.on('data', (d: Buffer) => {
    for (const l of d.toString().split('\n')) if (/"level":(50|60)/.test(l)) lines.push(l.slice(0, 600));
  });
  n.child.stderr?.on('data', (d: Buffer) => lines.push(d.toString().slice(0, 2000)));
  return () => `exit ${String(n.child.exitCode ?? n.child.signalCode)}; ${lines.slice(-10).join('\n')}`;
}

test('PostgreSQL stopped mid-traffic: temporary errors on every protocol, not ready, recovery without restart, nothing acknowledged lost', { timeout: 300_000 }, async () => {
  const logs = nodes.map(watch);
  const alive = () => nodes.forEach((n, i) => assert.ok(n.child.exitCode === null && n.child.signalCode === null, `node ${i} is still running: ${logs[i]!()}`));
  const acked: string[] = [];
  let sending = true;
  let refusedDuringOutage = 0;
  let down = false;
  const errors: string[] = [];
  let ackedAtStop = 0;
  const sender = async (node: Running, id: number) => {
    for (let i = 0; sending; i++) {
      const subject = `load-${id}-${i}`;
      const r = await smtpSend(node.ports.get('smtp')!, { from: 'x@remote.test', to: i % 2 ? 'alice@pg.test' : 'bob@pg.test', subject }).catch((e: unknown) => String(e));
      if (/^250 /.test(r)) acked.push(subject);
      else if (down && /^4\d\d /.test(r)) refusedDuringOutage++;
      else if (!/^4\d\d /.test(r)) errors.push(`${subject}: not a temporary failure: ${r}`);
      if (down) await new Promise((res) => setTimeout(res, 100));
    }
  };
  try {
    await outage();
  } catch (err) {
    throw new Error(`${String(err)}\nlast failures: ${errors.slice(-5).join(' / ')}\n${logs.map((l, i) => `node ${i}: ${l()}`).join('\n')}`, { cause: err });
  }
  async function outage(): Promise<void> {
  // A session logged in before the outage, to see how a live session fails.
  const imapBefore = await ImapClient.login(nodes[0]!.ports.get('imap')!, 'bob@pg.test', 'bob-secret');
  const senders = nodes.flatMap((n, i) => [sender(n, 2 * i), sender(n, 2 * i + 1)]);
  try {
    await waitFor('traffic', async () => (acked.length >= 20 ? true : undefined), 30_000);

    stopCluster();
    down = true;
    ackedAtStop = acked.length;
    for (const node of nodes) {
      const smtp = await smtpSend(node.ports.get('smtp')!, { from: 'x@remote.test', to: 'alice@pg.test', subject: 'during' });
      assert.match(smtp, /^4(21|5[01]) /, `SMTP while the database is down: ${smtp}`);
      const submission = await smtpSend(node.ports.get('submission')!, { from: 'alice@pg.test', to: 'bob@pg.test', subject: 'during-sub', auth: { user: 'alice@pg.test', pass: 'alice-secret' } });
      assert.match(submission, /^4(21|5[01]|54) /, `submission while the database is down: ${submission}`);

      const imap = await Wire.connect(node.ports.get('imap')!);
      await imap.until(/^\* OK.*\r\n/m);
      imap.write('a LOGIN bob@pg.test bob-secret\r\n');
      const login = (await imap.until(/^(a|\* BYE) .*\r\n/m, 15_000)).trimEnd().split('\r\n').at(-1)!;
      imap.close();
      assert.match(login, /^(a NO|\* BYE) \[UNAVAILABLE\] /, `IMAP LOGIN while the database is down: ${login}`);

      const pop = await Wire.connect(node.ports.get('pop3')!);
      await pop.until(/^\+OK.*\r\n/m);
      pop.write('USER alice@pg.test\r\nPASS alice-secret\r\n');
      await pop.until(/^[-+].*\r\n/m);
      const pass = (await pop.until(/^[-+].*\r\n/m, 15_000)).trimEnd();
      pop.close();
      assert.match(pass, /^-ERR \[SYS\/TEMP\] /, `POP3 PASS while the database is down: ${pass}`);

      const ready = await http(node, '/readyz');
      assert.equal(ready.status, 503, '/readyz is not ready');
      assert.equal(((await ready.json()) as { store: string }).store, 'unavailable');
    }
    alive();
    const append = ImapClient.status(await imapBefore.cmd('APPEND INBOX', 'Subject: during-append\r\n\r\nx\r\n', 15_000));
    assert.match(append, /^(t\d+ NO|\* BYE) \[UNAVAILABLE\] /, `APPEND in a live session while the database is down: ${append}`);
    imapBefore.close();
    for (const node of nodes) await waitFor('the store probe to report the outage', async () => ((await storeProbe(node)) === '0' ? true : undefined), 40_000);

    startCluster();
    down = false;
    for (const node of nodes) {
      await waitFor('/readyz after the restart', async () => ((await http(node, '/readyz')).status === 200 ? true : undefined), 30_000);
      await waitFor('the store probe to see the database again', async () => ((await storeProbe(node)) === '1' ? true : undefined), 40_000);
    }
    const ackedAfter = acked.length;
    // Sessions that were waiting on the dead server end first (their replies time out
    // after 10 s); under a loaded CI machine resuming can take a while.
    await waitFor('traffic after the restart', async () => (acked.length >= ackedAfter + 20 ? true : undefined), 90_000);
  } finally {
    sending = false;
    await Promise.all(senders);
  }
  alive();
  assert.deepEqual(errors, [], 'every refusal was a temporary one');
  assert.ok(acked.length > ackedAtStop + 20, 'traffic went on after the restart');

  // Every 250 is stored once, read through both nodes.
  const stored = new Map<string, number>();
  for (const [i, user] of ['alice', 'bob'].entries()) {
    const imap = await ImapClient.login(nodes[i]!.ports.get('imap')!, `${user}@pg.test`, `${user}-secret`);
    try {
      for (const s of await imap.subjects('INBOX')) stored.set(s, (stored.get(s) ?? 0) + 1);
      const r = ImapClient.status(await imap.cmd('APPEND INBOX', 'Subject: after-append\r\n\r\nx\r\n'));
      assert.match(r, /^t\d+ OK /, `APPEND after the restart: ${r}`);
    } finally {
      imap.close();
    }
  }
  for (const s of acked) assert.equal(stored.get(s), 1, `acknowledged ${s} is stored exactly once`);
  for (const [s, n] of stored) assert.equal(n, 1, `${s} is stored once`);
  const pop = await Pop3Client.login(nodes[1]!.ports.get('pop3')!, 'alice@pg.test', 'alice-secret');
  try {
    assert.match(await pop.cmd('DELE 1'), /^\+OK/);
    assert.match(await pop.cmd('QUIT'), /^\+OK/);
  } finally {
    pop.close();
  }
  const check = await cli(dirs[0]!, ['check', '--json'], undefined, { STEADYMAIL_STORE_DRIVER: 'postgres', STEADYMAIL_STORE_URL: `postgres://postgres@127.0.0.1:${pgPort}/postgres` });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  process.stdout.write(`# pg-outage: ${acked.length} acknowledged, ${refusedDuringOutage} refused while down\n`);
}
});
