// `npm run bench:peers`: Steadymail side by side with Dovecot (IMAP, POP3, LMTP) and
// Postfix (SMTP), Debian's packages run as throwaway instances on loopback ports with
// configurations and data of their own. The same data goes into both sides (data.ts),
// the same client code drives both (load.ts, a process of its own), runs alternate
// (Steadymail first on odd runs, the peer first on even ones), and each figure is the
// median over the runs. Server CPU and memory come from /proc (procs.ts). Rewrites the
// "Side by side with Dovecot and Postfix" section of docs/benchmarks.md and prints the
// table of ratios at the end.
//
// Knobs (environment): PEERS_RUNS (3), PEERS_SECONDS (8, each time-boxed run),
// PEERS_SECTIONS (smtp,pop3,imap,idle), PEERS_USERS (50), PEERS_MESSAGES (1000),
// PEERS_SMTP_SENDERS (1,10,50), PEERS_SMTP_SIZES (10240,1048576), PEERS_POP3_USERS (1,50),
// PEERS_IMAP_CLIENTS (20), PEERS_IDLE_CONNECTIONS (2000), PEERS_DOC=0 to leave the docs alone,
// PEERS_PROF=<dir> for a CPU profile of the Steadymail server (node --cpu-prof), PEERS_RESULTS=<file>
// for the raw figures of every run (default .tmp/peers-results.json).

import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, serveEnv, type Running } from '../../test/e2e/serve.js';
import { loadLine, machineLine } from '../machine.js';
import { loadSteadymail, message, RECIPIENT, users, writeMaildirs } from './data.js';
import { dovecotVersion, startDovecot, type PeerDovecot } from './dovecot.js';
import type { LoadResult, Workload } from './load.js';
import { postfixVersion, startPostfix, type PeerPostfix } from './postfix.js';
import { ensureDovecot, ensurePostfix } from './install.js';
import { measure, treeCpuSeconds, treeMemory, type Usage } from './procs.js';
import { median } from '../stats.js';

const env = process.env;
const RUNS = Number(env.PEERS_RUNS ?? 3);
const SECONDS = Number(env.PEERS_SECONDS ?? 8);
const SECTIONS = (env.PEERS_SECTIONS ?? 'smtp,pop3,imap,idle').split(',').map((s) => s.trim());
const USERS = Number(env.PEERS_USERS ?? 50);
const MESSAGES = Number(env.PEERS_MESSAGES ?? 1000);
const list = (v: string | undefined, d: string) => (v ?? d).split(',').map(Number);
const SMTP_SENDERS = list(env.PEERS_SMTP_SENDERS, '1,10,50');
const SMTP_SIZES = list(env.PEERS_SMTP_SIZES, '10240,1048576');
const POP3_USERS = list(env.PEERS_POP3_USERS, '1,50').map((n) => Math.min(n, USERS));
const IMAP_CLIENTS = Math.min(Number(env.PEERS_IMAP_CLIENTS ?? 20), USERS);
const IDLE_CONNECTIONS = Number(env.PEERS_IDLE_CONNECTIONS ?? 2000);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LOAD = fileURLToPath(new URL('./load.ts', import.meta.url));

const log = (s: string) => console.log(`peers: ${s}`);
const MiB = 2 ** 20;

/** One figure of one workload, collected per run from both sides. */
interface Figure {
  workload: string;
  name: string;
  unit: string;
  higherIsBetter: boolean;
  steadymail: number[];
  peer: number[];
  peerName: string;
}

const figures: Figure[] = [];
function record(workload: string, peerName: string, side: 'steadymail' | 'peer', name: string, unit: string, higherIsBetter: boolean, value: number): void {
  let f = figures.find((x) => x.workload === workload && x.name === name);
  if (!f) figures.push((f = { workload, name, unit, higherIsBetter, steadymail: [], peer: [], peerName }));
  f[side].push(value);
}

/** Runs one workload in the load process; `whileReady` runs when it prints `ready` (idle), before it is told to finish. */
function runLoad(w: Workload, whileReady?: () => Promise<void>): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', LOAD, JSON.stringify(w)], { stdio: ['pipe', 'pipe', 'inherit'], cwd: ROOT });
  return new Promise((resolve, reject) => {
    let res: LoadResult | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'ready') {
        void (whileReady ?? (async () => undefined))().then(
          () => child.stdin.write('done\n'),
          (err: unknown) => {
            child.kill();
            reject(err instanceof Error ? err : new Error(String(err)));
          },
        );
      } else if (line.startsWith('result ')) {
        res = JSON.parse(line.slice(7)) as LoadResult;
      }
    });
    child.once('exit', (code) => (res ? resolve(res) : reject(new Error(`load ${w.kind} exited with ${code}`))));
  });
}

interface Sides {
  steadymail: { ports: Map<string, number>; roots: () => number[] };
  /** `settle(accepted)`: waits until the accepted messages are delivered, returns the seconds it waited. */
  peer: { name: string; ports: Map<string, number>; roots: () => number[]; settle?: (accepted: number) => Promise<number> };
}

/** Runs `work` on both sides RUNS times, alternating which goes first. */
async function alternate(sides: Sides, work: (side: 'steadymail' | 'peer') => Promise<void>): Promise<void> {
  for (let r = 1; r <= RUNS; r++) {
    const order: Array<'steadymail' | 'peer'> = r % 2 === 1 ? ['steadymail', 'peer'] : ['peer', 'steadymail'];
    for (const side of order) await work(side);
  }
}

/** A time-boxed or fixed workload with the server's CPU and peak memory over its window (and, for Postfix, until its queue is empty). */
async function measured(roots: () => number[], w: Workload, settle?: (accepted: number) => Promise<number>): Promise<{ load: LoadResult; usage: Usage; drainSeconds: number }> {
  const m = measure(roots);
  try {
    const load = await runLoad(w);
    const drainSeconds = settle ? await settle(load.count) : 0;
    return { load, usage: m.stop(), drainSeconds };
  } catch (err) {
    m.stop();
    throw err;
  }
}

async function smtpSection(sides: Sides): Promise<void> {
  for (const bytes of SMTP_SIZES) {
    for (const senders of SMTP_SENDERS) {
      const label = `SMTP ${bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / 1024} KiB`}, ${senders} sender${senders > 1 ? 's' : ''}`;
      await alternate(sides, async (side) => {
        const s = sides[side];
        const settle = side === 'peer' ? sides.peer.settle : undefined;
        const { load, usage, drainSeconds } = await measured(s.roots, { kind: 'smtp', port: s.ports.get('smtp')!, senders, bytes, seconds: SECONDS }, settle);
        const rate = load.count / load.seconds;
        record(label, sides.peer.name, side, 'messages/s', '', true, rate);
        record(label, sides.peer.name, side, 'DATA→250 p50', 'ms', false, load.p50Ms);
        record(label, sides.peer.name, side, 'DATA→250 p99', 'ms', false, load.p99Ms);
        record(label, sides.peer.name, side, 'CPU per message', 'ms', false, (usage.cpuSeconds * 1000) / Math.max(1, load.count));
        record(label, sides.peer.name, side, 'peak memory (PSS)', 'MiB', false, usage.peakPss / MiB);
        record(label, sides.peer.name, side, 'peak RSS (summed)', 'MiB', false, usage.peakRss / MiB);
        log(`${label}, ${side}: ${rate.toFixed(0)}/s, p50 ${load.p50Ms.toFixed(1)} ms, p99 ${load.p99Ms.toFixed(1)} ms, CPU ${usage.cpuSeconds.toFixed(1)} s for ${load.count}${drainSeconds > 0 ? ` (queue drained ${drainSeconds.toFixed(1)} s after the last 250)` : ''}, peak ${(usage.peakPss / MiB).toFixed(0)} MiB`);
      });
    }
  }
}

async function pop3Section(sides: Sides, all: string[]): Promise<void> {
  for (const n of POP3_USERS) {
    const label = `POP3 ${n} user${n > 1 ? 's' : ''} × ${MESSAGES} messages`;
    await alternate(sides, async (side) => {
      const s = sides[side];
      const { load, usage } = await measured(s.roots, { kind: 'pop3', port: s.ports.get('pop3')!, users: all.slice(0, n), messages: MESSAGES });
      const rate = load.count / load.seconds;
      record(label, 'Dovecot', side, 'messages/s', '', true, rate);
      record(label, 'Dovecot', side, 'session p50', 'ms', false, load.p50Ms);
      if (n > 1) record(label, 'Dovecot', side, 'session p99', 'ms', false, load.p99Ms);
      record(label, 'Dovecot', side, 'CPU', 's', false, usage.cpuSeconds);
      record(label, 'Dovecot', side, 'peak memory (PSS)', 'MiB', false, usage.peakPss / MiB);
    record(label, 'Dovecot', side, 'peak RSS (summed)', 'MiB', false, usage.peakRss / MiB);
      record(label, 'Dovecot', side, 'peak RSS (summed)', 'MiB', false, usage.peakRss / MiB);
      log(`${label}, ${side}: ${rate.toFixed(0)} messages/s (${(load.bytes / 1e6 / load.seconds).toFixed(0)} MB/s), CPU ${usage.cpuSeconds.toFixed(1)} s, peak ${(usage.peakPss / MiB).toFixed(0)} MiB`);
    });
  }
}

async function imapSection(sides: Sides, all: string[]): Promise<void> {
  const label = `IMAP mixed, ${IMAP_CLIENTS} clients`;
  await alternate(sides, async (side) => {
    const s = sides[side];
    const { load, usage } = await measured(s.roots, { kind: 'imap', port: s.ports.get('imap')!, users: all.slice(0, IMAP_CLIENTS), clients: IMAP_CLIENTS, seconds: SECONDS, messages: MESSAGES });
    const rate = load.count / load.seconds;
    record(label, 'Dovecot', side, 'commands/s', '', true, rate);
    record(label, 'Dovecot', side, 'command p50', 'ms', false, load.p50Ms);
    record(label, 'Dovecot', side, 'command p99', 'ms', false, load.p99Ms);
    record(label, 'Dovecot', side, 'CPU per command', 'ms', false, (usage.cpuSeconds * 1000) / Math.max(1, load.count));
    record(label, 'Dovecot', side, 'peak memory (PSS)', 'MiB', false, usage.peakPss / MiB);
    record(label, 'Dovecot', side, 'peak RSS (summed)', 'MiB', false, usage.peakRss / MiB);
    const by = Object.entries(load.byCommand ?? {}).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
    log(`${label}, ${side}: ${rate.toFixed(0)} commands/s, p50 ${load.p50Ms.toFixed(1)} ms, p99 ${load.p99Ms.toFixed(1)} ms, CPU ${usage.cpuSeconds.toFixed(1)} s, peak ${(usage.peakPss / MiB).toFixed(0)} MiB; mean ms by command: ${by}`);
  });
}

async function idleSection(sides: Sides, all: string[]): Promise<void> {
  const label = `IMAP ${IDLE_CONNECTIONS} IDLE connections`;
  await alternate(sides, async (side) => {
    const s = sides[side];
    const before = treeMemory(s.roots());
    const cpu0 = treeCpuSeconds(s.roots());
    let after = before;
    const load = await runLoad({ kind: 'idle', port: s.ports.get('imap')!, users: all, connections: IDLE_CONNECTIONS }, async () => {
      await new Promise((r) => setTimeout(r, 2000));
      after = treeMemory(s.roots());
    });
    const cpu = treeCpuSeconds(s.roots()) - cpu0;
    // Let the closed connections go before the next run.
    await new Promise((r) => setTimeout(r, 3000));
    const per = (after.pss - before.pss) / load.count;
    record(label, 'Dovecot', side, 'memory per connection (PSS)', 'KiB', false, per / 1024);
    record(label, 'Dovecot', side, 'memory with all connections (PSS)', 'MiB', false, after.pss / MiB);
    record(label, 'Dovecot', side, 'RSS with all connections (summed)', 'MiB', false, after.rss / MiB);
    record(label, 'Dovecot', side, 'log in + SELECT + IDLE for all', 's', false, load.seconds);
    record(label, 'Dovecot', side, 'CPU', 's', false, cpu);
    log(`${label}, ${side}: ${(per / 1024).toFixed(0)} KiB per connection (PSS; RSS summed ${((after.rss - before.rss) / load.count / 1024).toFixed(0)} KiB), ${after.processes} processes, set up in ${load.seconds.toFixed(1)} s, CPU ${cpu.toFixed(1)} s`);
  });
}

function maildirCount(dir: string): number {
  let n = 0;
  for (const d of ['new', 'cur']) {
    try {
      n += readdirSync(join(dir, d)).length;
    } catch {
      // not created yet
    }
  }
  return n;
}

const fmt = (v: number) => (Number.isNaN(v) ? '–' : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

function table(): string[] {
  const lines = ['| workload | figure | better | Steadymail | peer | Steadymail/peer |', '|---|---|---|---:|---:|---:|'];
  for (const f of figures) {
    const a = median(f.steadymail);
    const b = median(f.peer);
    const unit = f.unit ? ` ${f.unit}` : '';
    lines.push(`| ${f.workload} | ${f.name} | ${f.higherIsBetter ? 'higher' : 'lower'} | ${fmt(a)}${unit} | ${fmt(b)}${unit} (${f.peerName}) | **${(a / b).toFixed(2)}** |`);
  }
  return lines;
}

async function writeDoc(heading: string, body: string[]): Promise<void> {
  const url = new URL('../../docs/benchmarks.md', import.meta.url);
  const old = (await readFile(url, 'utf8')).split('\n');
  const section = [`## ${heading}`, '', ...body, ''];
  const out: string[] = [];
  let replaced = false;
  for (let i = 0; i < old.length; ) {
    if (old[i] === `## ${heading}`) {
      out.push(...section);
      replaced = true;
      i++;
      while (i < old.length && !old[i]!.startsWith('## ')) i++;
      continue;
    }
    out.push(old[i]!);
    i++;
  }
  if (!replaced) {
    if (out.at(-1) !== '') out.push('');
    out.push(...section);
  }
  await writeFile(url, out.join('\n'));
}

// --- main -------------------------------------------------------------------------

const cleanups: Array<() => Promise<void> | void> = [];
async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch (err) {
      console.error('peers: cleanup:', err);
    }
  }
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
process.once('SIGTERM', () => void cleanup().then(() => process.exit(143)));

const started = new Date();
const load = loadLine();
try {
  ensureDovecot(log);
  if (SECTIONS.includes('smtp')) ensurePostfix(log);
  log('building dist/ (tsc) for bin/steadymail');
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const base = mkdtempSync(join(tmpdir(), 'steadymail-peers-'));
  // The Dovecot processes (user nobody) must reach their Maildirs under it.
  chmodSync(base, 0o755);
  cleanups.push(() => rmSync(base, { recursive: true, force: true }));
  const all = users(USERS);
  const messages = Array.from({ length: MESSAGES }, (_, i) => message(i));
  const mailBytes = messages.reduce((n, m) => n + m.length, 0);
  log(`writing ${USERS} Maildirs and loading ${USERS} Steadymail accounts of ${MESSAGES} messages (${(mailBytes / 1e6).toFixed(1)} MB each)`);
  const home = join(base, 'dovecot', 'home');
  writeMaildirs(home, all, messages);
  const smDir = join(base, 'steadymail');
  let t = performance.now();
  await loadSteadymail(smDir, all, messages);
  log(`loaded Steadymail in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  const dnsChild = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./dns.ts', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'], cwd: ROOT });
  cleanups.push(() => void dnsChild.kill());
  const dnsServer = await new Promise<string>((resolve, reject) => {
    createInterface({ input: dnsChild.stdout }).once('line', (line) => resolve(line.replace(/^dns /, '')));
    dnsChild.once('exit', (code) => reject(new Error(`the DNS server exited with ${code}`)));
  });

  const steadymailEnv: Record<string, string> = {
    STEADYMAIL_HOSTNAME: 'mx.bench.test',
    STEADYMAIL_DNS_SERVERS: dnsServer,
    STEADYMAIL_AUTH_ALLOW_PLAINTEXT_WITHOUT_TLS: 'true',
    STEADYMAIL_LIMITS_MAX_CONNECTIONS_PER_IP: '10000',
    STEADYMAIL_LIMITS_MAX_MESSAGE_BYTES: String(20 * MiB),
    STEADYMAIL_SMTP_MAX_CONNECTIONS_PER_IP_PER_MINUTE: '0',
    STEADYMAIL_FILTER_MAX_MESSAGES_PER_IP_PER_MINUTE: '0',
    STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '2',
  };
  for (const l of ['SMTP', 'SUBMISSION', 'SUBMISSIONS', 'POP3', 'POP3S', 'IMAP', 'IMAPS', 'HTTP', 'MANAGESIEVE']) steadymailEnv[`STEADYMAIL_LISTEN_${l}`] = 'off';
  const startSteadymail = async (listeners: string[]): Promise<Running> => {
    const extra = { ...steadymailEnv };
    for (const l of listeners) extra[`STEADYMAIL_LISTEN_${l.toUpperCase()}`] = '127.0.0.1:0';
    // PEERS_PROF=<dir>: a V8 CPU profile of the Steadymail server, written when it stops.
    const flags = env.PEERS_PROF ? ['--cpu-prof', `--cpu-prof-dir=${env.PEERS_PROF}`] : [];
    const child = spawn(process.execPath, [...flags, BIN, 'serve'], { env: serveEnv(smDir, extra), stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const ports = new Map<string, number>();
    await new Promise<void>((resolve, reject) => {
      void exited.then((code) => reject(new Error(`steadymail serve exited with ${code}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const m = /"listener":"(\w+)".*"port":(\d+)/.exec(line);
        if (m) ports.set(m[1]!, Number(m[2]));
        if (listeners.every((l) => ports.has(l))) resolve();
      });
    });
    return {
      child,
      ports,
      stop: () => {
        child.kill('SIGTERM');
        return exited;
      },
    };
  };

  let section = 0;
  for (const id of SECTIONS) {
    section++;
    const listeners = id === 'smtp' ? ['smtp'] : ['pop3', 'imap'];
    const before = cleanups.length;
    // Fresh servers for every section: the peer's and Steadymail's memory start from the same point.
    const dovecot: PeerDovecot = await startDovecot(join(base, 'dovecot'), home);
    cleanups.push(() => dovecot.stop());
    let postfix: PeerPostfix | undefined;
    if (id === 'smtp') {
      postfix = await startPostfix(join(base, `postfix-${section}`), dovecot.lmtpPort);
      cleanups.push(() => postfix?.stop());
    }
    const sm = await startSteadymail(listeners);
    cleanups.push(async () => void (await sm.stop()));
    const pf = postfix;
    let delivered = maildirCount(join(home, RECIPIENT, 'Maildir'));
    const sides: Sides = {
      steadymail: { ports: sm.ports, roots: () => [sm.child.pid!] },
      peer: pf
        ? {
            name: 'Postfix → LMTP → Dovecot',
            ports: new Map([['smtp', pf.smtpPort]]),
            roots: () => [pf.pid(), dovecot.pid()],
            settle: async (accepted) => {
              // Every accepted message must be out of the queue and in the recipient's Maildir.
              const t0 = performance.now();
              delivered += accepted;
              while (pf.queued() > 0 || maildirCount(join(home, RECIPIENT, 'Maildir')) < delivered) {
                if (performance.now() - t0 > 300_000) throw new Error(`Postfix delivered ${maildirCount(join(home, RECIPIENT, 'Maildir'))} of ${delivered} messages`);
                await new Promise((r) => setTimeout(r, 50));
              }
              return (performance.now() - t0) / 1000;
            },
          }
        : { name: 'Dovecot', ports: new Map([['imap', dovecot.imapPort], ['pop3', dovecot.pop3Port]]), roots: () => [dovecot.pid()] },
    };
    try {
      if (id !== 'smtp') {
        t = performance.now();
        // Both sides see every mailbox once before measuring: Dovecot builds its index and cache files, Steadymail its size cache.
        await runLoad({ kind: 'warm', pop3Port: sm.ports.get('pop3')!, imapPort: sm.ports.get('imap')!, users: all });
        await runLoad({ kind: 'warm', pop3Port: dovecot.pop3Port, imapPort: dovecot.imapPort, users: all });
        log(`warmed up in ${((performance.now() - t) / 1000).toFixed(0)} s`);
      }
      if (id === 'smtp') await smtpSection(sides);
      else if (id === 'pop3') await pop3Section(sides, all);
      else if (id === 'imap') await imapSection(sides, all);
      else if (id === 'idle') await idleSection(sides, all);
      else throw new Error(`unknown section ${id}; known: smtp, pop3, imap, idle`);
    } finally {
      await sm.stop();
      postfix?.stop();
      await dovecot.stop();
      cleanups.length = before;
    }
  }

  const versions = `Dovecot ${dovecotVersion()} · Postfix ${SECTIONS.includes("smtp") ? postfixVersion() : "(not run)"}`;
  const tbl = table();
  // Every run's figures, for comparisons (before/after a change): PEERS_RESULTS or .tmp/peers-results.json.
  const resultsFile = env.PEERS_RESULTS ?? join(ROOT, '.tmp', 'peers-results.json');
  mkdirSync(dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, JSON.stringify({ started, figures }, null, 2));
  const body = [
    `Machine: ${machineLine()} · ${load} · ${versions} · ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Produced by \`npm run bench:peers\` (${RUNS} run${RUNS === 1 ? "" : "s"} of each workload, alternating which side goes first; each figure is the median; time-boxed runs last ${SECONDS} s). Debian's Dovecot and Postfix run as throwaway instances with configurations and data of their own in a temporary directory, on loopback ports; Steadymail is the real \`bin/steadymail serve\` (SQLite, default configuration) in its own process. The clients run in a separate process on the same 2 cores. Ratio is Steadymail/peer: for rates above 1 is better for Steadymail, for times, CPU and memory below 1 is.`,
    '',
    `Data: ${USERS} users, each with the same ${MESSAGES} messages (seeded sizes 2–60 KiB, a text part and a base64 attachment, ${(mailBytes / 1e6).toFixed(1)} MB per user): Maildir files for Dovecot (with S= and W= sizes in their names), the same bytes through the store for Steadymail (structure and search text computed as at delivery). Before the POP3 and IMAP runs every mailbox is opened once on both sides (POP3 LIST, IMAP SELECT, FETCH FLAGS ENVELOPE, SEARCH SUBJECT), so Dovecot's index and cache files exist as they would on a live server.`,
    '',
    'Workloads: **SMTP** — N senders, one connection each, MAIL/RCPT/DATA in turn, each message a short text part and a random base64 attachment (no two alike); a message counts at its `250`. Postfix answers `250` once its queue file is fsynced and then delivers over LMTP into Dovecot (which fsyncs the Maildir file); its CPU and memory are those of Postfix and Dovecot together, counted until the queue is empty. Steadymail answers `250` once the body is durable (a 10 KiB one in the database, through the group commit and its WAL fsync; a 1 MiB one as a file, fsynced with its directory) and the metadata committed in its store, after SPF/DKIM/DMARC verification (against a loopback DNS server), the inbound filter (greylisting skips loopback) and full-text indexing; Postfix as configured here checks none of these. **POP3** — each user logs in (USER/PASS), LISTs, RETRs all messages one at a time, QUITs; both mark messages \\Seen. **IMAP mixed** — each client its own user: SELECT INBOX, FETCH 20 (FLAGS ENVELOPE), FETCH one BODY.PEEK[], STORE ±\\Flagged, SEARCH SUBJECT (header search: Dovecot has no full-text index configured, Steadymail answers from its own), APPEND of a 10 KiB message shaped like the SMTP ones (durable before OK on both), UID STORE \\Deleted, UID EXPUNGE; each command is one unit. **IDLE** — the connections log in (spread over the users), SELECT INBOX and IDLE; memory is taken 2 s after the last one is in. Dovecot runs one imap process per connection; for this its configuration raises `default_process_limit`, the imap/imap-login `process_limit` (5,000), `default_client_limit` and `mail_max_userip_connections`.',
    '',
    'CPU and memory: the server\'s process tree, read from /proc (bench/peers/procs.ts). CPU is the sum of utime + stime + cutime + cstime over the live processes of the tree (a reaped child\'s time is in its parent\'s cutime), at the end of the run minus at its start. Memory is sampled every 100 ms, the peak of the samples: the tree\'s PSS (proportional set size: a page shared by n processes counts 1/n in each), and its RSS summed over the processes, which counts Dovecot\'s and Postfix\'s shared libraries once per process and so overstates a tree of many processes. Steadymail is one process: its RSS is its RSS.',
    '',
    ...tbl,
  ];
  if (env.PEERS_DOC !== '0') await writeDoc('Side by side with Dovecot and Postfix', body);
  console.log(`\n${tbl.join('\n')}\n`);
} finally {
  await cleanup();
}
