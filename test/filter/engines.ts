// The real engines the filter talks to, started by the tests on loopback: rspamd
// (with a throwaway Redis on a unix socket for its Bayes statistics), clamd with a
// one-signature database written here, and a DNS server holding block list zones.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../free-port.js';

/** The EICAR test string (https://www.eicar.org), split so this file is not itself flagged. */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
/** rspamd's GTUBE patterns: the standard one means reject, the Y variant "add header". */
export const GTUBE_REJECT = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*' + 'GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
export const GTUBE_ADD_HEADER = 'YJS*C4JDBQADN1.NSBN3*2IDNEN*' + 'GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

/** Options that keep a daemon from dropping to its system user when the tests run as root. */
function asRoot(options: string[]): string[] {
  return process.getuid?.() === 0 ? options : [];
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not start within ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface Rspamd {
  url: string;
  controllerUrl: string;
  password: string;
  /** Learned counts as the controller's /stat reports them. */
  learned(): Promise<number>;
  stop(): Promise<void>;
  close(): Promise<void>;
}

/** A throwaway rspamd: its own config, databases, ports and Redis. Takes ~15 s to load. */
export async function startRspamd(): Promise<Rspamd> {
  const dir = mkdtempSync(join(tmpdir(), 'steadymail-rspamd-'));
  const local = join(dir, 'local.d');
  mkdirSync(local);
  const redisSocket = join(dir, 'redis.sock');
  const redis = spawn('redis-server', ['--port', '0', '--unixsocket', redisSocket, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  await waitFor(async () => existsSync(redisSocket), 10_000, 'redis');
  const [normal, controller] = [await freePort(), await freePort()];
  const password = 'learn-secret';
  writeFileSync(
    join(dir, 'rspamd.conf'),
    `.include "$CONFDIR/common.conf"
options {
  pidfile = "$RUNDIR/rspamd.pid";
  .include "$CONFDIR/options.inc"
  dns { nameserver = ["127.0.0.1:9"]; timeout = 0.2s; retransmits = 1; }
  enable_test_patterns = true;
  # No regexp database and a short public suffix list to compile at start-up (the full
  # list takes half a minute): the tests need rspamd in seconds, not a fast scanner.
  .include(priority=10) "$LOCAL_CONFDIR/options-override.inc"

}
logging { type = "file"; filename = "$LOGDIR/rspamd.log"; level = "notice"; }
worker "normal" { bind_socket = "127.0.0.1:${normal}"; count = 1; .include "$CONFDIR/worker-normal.inc" }
worker "controller" { bind_socket = "127.0.0.1:${controller}"; count = 1; password = "${password}"; enable_password = "${password}"; static_dir = "\${WWWDIR}"; }
`,
  );
  writeFileSync(join(dir, 'options-override.inc'), `disable_hyperscan = true;\nurl_tld = "${join(dir, 'tld.dat')}";\n`);
  writeFileSync(join(dir, 'tld.dat'), ['com', 'org', 'net', 'test', 'example', ''].join('\n'));
  writeFileSync(join(local, 'redis.conf'), `servers = "${redisSocket}";\n`);
  // Learn from the first message (the defaults want 200 before classifying).
  writeFileSync(join(local, 'classifier-bayes.conf'), `servers = "${redisSocket}";\nmin_learns = 1;\nmin_tokens = 1;\n`);
  const rspamd = spawn(
    'rspamd',
    ['-f', ...asRoot(['-i', '-u', 'root', '-g', 'root']), '-c', join(dir, 'rspamd.conf'), `--var=LOCAL_CONFDIR=${dir}`, `--var=DBDIR=${dir}`, `--var=RUNDIR=${dir}`, `--var=LOGDIR=${dir}`],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${normal}`;
  const controllerUrl = `http://127.0.0.1:${controller}`;
  const ping = async (u: string) => (await fetch(`${u}/ping`)).ok;
  try {
    await waitFor(async () => (await ping(url)) && (await ping(controllerUrl)), 60_000, 'rspamd');
  } catch (err) {
    await stopChild(rspamd);
    await stopChild(redis);
    throw err;
  }
  let stopped = false;
  return {
    url,
    controllerUrl,
    password,
    async learned() {
      const r = await fetch(`${controllerUrl}/stat`, { headers: { Password: password } });
      const body = (await r.json()) as { learned?: number };
      return body.learned ?? 0;
    },
    async stop() {
      stopped = true;
      await stopChild(rspamd);
    },
    async close() {
      if (!stopped) await stopChild(rspamd);
      await stopChild(redis);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Clamd {
  socket: string;
  stop(): Promise<void>;
  close(): Promise<void>;
}

/** A throwaway clamd on a unix socket whose only signature matches the EICAR string. */
export async function startClamd(): Promise<Clamd> {
  const dir = mkdtempSync(join(tmpdir(), 'steadymail-clamd-'));
  mkdirSync(join(dir, 'db'));
  // An .ndb body signature: name:target type (0 = any file):offset (* = anywhere):hex bytes.
  writeFileSync(join(dir, 'db', 'steadymail-test.ndb'), `Steadymail-Test-EICAR:0:*:${Buffer.from(EICAR).toString('hex')}\n`);
  const socket = join(dir, 'clamd.sock');
  writeFileSync(
    join(dir, 'clamd.conf'),
    [`LocalSocket ${socket}`, `DatabaseDirectory ${join(dir, 'db')}`, 'Foreground yes', `LogFile ${join(dir, 'clamd.log')}`, ...asRoot(['User root']), 'SelfCheck 0', ''].join('\n'),
  );
  const clamd = spawn('clamd', ['-c', join(dir, 'clamd.conf')], { stdio: 'ignore' });
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect(socket);
        s.once('connect', () => s.end('zPING\0'));
        s.once('data', (d) => resolve(d.toString().startsWith('PONG')));
        s.once('error', () => resolve(false));
      }),
    30_000,
    'clamd',
  );
  let stopped = false;
  return {
    socket,
    async stop() {
      stopped = true;
      await stopChild(clamd);
    },
    async close() {
      if (!stopped) await stopChild(clamd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// dns2 ships no typings: the few parts used here.
interface DnsPacket {
  questions: Array<{ name: string; type: number }>;
  answers: object[];
  header: { rcode: number };
}
interface Dns2 {
  Packet: { TYPE: { A: number; TXT: number }; CLASS: { IN: number }; createResponseFromRequest(r: DnsPacket): DnsPacket };
  createServer(o: { udp: boolean; handle(req: DnsPacket, send: (r: DnsPacket) => void): void }): {
    listen(o: object): Promise<{ udp: { port: number } }>;
    close(): Promise<unknown>;
  };
}

export interface TestZones {
  /** "127.0.0.1:port" for [dns] servers. */
  server: string;
  /** Every name asked for, lower case. */
  queries: string[];
  close(): Promise<void>;
}

/** A DNS server on loopback answering A and TXT queries from the tables; everything else NXDOMAIN. */
export async function startZones(records: Record<string, string>, txt: Record<string, string> = {}): Promise<TestZones> {
  const dns2 = createRequire(import.meta.url)('dns2') as Dns2;
  const { Packet } = dns2;
  const queries: string[] = [];
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const q = request.questions[0];
      if (q) queries.push(q.name.toLowerCase());
      const address = q && q.type === Packet.TYPE.A ? records[q.name.toLowerCase()] : undefined;
      const text = q && q.type === Packet.TYPE.TXT ? txt[q.name.toLowerCase()] : undefined;
      if (q && address !== undefined) response.answers.push({ name: q.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 60, address });
      else if (q && text !== undefined) response.answers.push({ name: q.name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 60, data: [text] });
      else response.header.rcode = 3;
      send(response);
    },
  });
  const bound = await server.listen({ udp: { port: 0, address: '127.0.0.1', type: 'udp4' } });
  return {
    server: `127.0.0.1:${bound.udp.port}`,
    queries,
    close: async () => {
      await server.close();
    },
  };
}
