#!/usr/bin/env node
// `npm run soak`: the reliability and security suites at soak size, then their figures in
// docs/reliability.md. SOAK_KILLS (default 300) SIGKILLs under mixed load, SOAK_FUZZ_RUNS
// (default 1000) fuzzed sessions per protocol; `npm run build` must have run (the suites
// start the built server).
import { spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';

const kills = Number(process.env.SOAK_KILLS ?? 300);
const fuzzRuns = Number(process.env.SOAK_FUZZ_RUNS ?? 1000);
const started = Date.now();

function run(files, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['scripts/run-tests.mjs', ...files], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d.toString();
      process.stdout.write(d);
    });
    child.on('exit', (code) => resolve({ code: code ?? 1, out }));
  });
}

const result = await run(['test/reliability', 'test/security'], { KILLS: String(kills), FUZZ_RUNS: String(fuzzRuns) });
const figure = (re) => re.exec(result.out)?.[1];
const killLine = /# kill-mixed: (\d+) kills, (\{.*\})/.exec(result.out);
const ops = killLine ? JSON.parse(killLine[2]) : {};
const pass = figure(/^ℹ pass (\d+)/m) ?? '0';
const fail = figure(/^ℹ fail (\d+)/m) ?? '?';
const minutes = ((Date.now() - started) / 60000).toFixed(1);
const date = new Date().toISOString().slice(0, 10);
const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';

const doc = `# Reliability and security

The standing suites are \`test/reliability/\` and \`test/security/\`; \`npm test\` runs them at CI
size (50 kills, 60 fuzzed sessions per protocol), \`npm run soak\` at the size below and
rewrites this page.

## What the suites prove

- **SIGKILL under mixed load** (\`kill-mixed.test.ts\`): SMTP deliveries, IMAP APPEND / STORE /
  MOVE / EXPUNGE, POP3 DELE + QUIT and webmail sends (\`POST /api/send\`) run while the server
  is killed at random moments and restarted. Every acknowledged delivery, append, flag
  change, move, expunge and webmail send holds (a send: delivered once and in Sent once); a
  message is never in two places nor stored twice; a POP3 QUIT whose reply was lost deleted
  all of its messages or none; \`steadymail check\` finds the store consistent.
- **Disk full and write errors** (\`disk-full.test.ts\`, run as root: it mounts one small
  tmpfs for the data directory and another for the blob store): with the blob store full,
  the database's file system full, or the blob store remounted read-only, SMTP inbound and
  submission answer 451 4.3.0, IMAP APPEND \`NO [UNAVAILABLE]\`, POP3 QUIT
  \`-ERR [SYS/TEMP]\` (deleting nothing), webmail send 503 \`unavailable\`; nothing is
  half-stored (no temp file left, \`steadymail check\` clean) and every path works again,
  without a restart, once space returns.
- **Database unavailable in farm mode** (\`pg-outage.test.ts\`): a private PostgreSQL cluster
  (initdb + pg_ctl in a temp directory) is stopped with \`-m immediate\` under two nodes in
  the middle of SMTP traffic: SMTP 4xx, IMAP \`NO\`/\`BYE [UNAVAILABLE]\`, POP3
  \`-ERR [SYS/TEMP]\`, \`/readyz\` 503 and a failing \`store\` probe; after the restart both
  nodes serve again unrestarted and every message that got a 250 is stored exactly once.
- **Configuration errors and misuse** (\`config-errors.test.ts\`): unknown keys, bad values,
  malformed, unresolvable or taken listen addresses, missing or malformed certificates,
  a \`data_dir\` that is not a writable directory, unknown commands and options: one line
  naming the key or path, the documented exit code, no "is running", data untouched.
- **Workers and farm nodes** (\`test/e2e/workers.test.ts\`, \`test/e2e/farm-kill.test.ts\`): a worker
  SIGKILLed under SMTP load, and a farm node killed while it holds an outbound queue lease
  and takes inbound mail: nothing acknowledged is lost, the queue entry is delivered once.
- **Slow and stuck clients** (\`slow-clients.test.ts\`): slowloris connections on every port are
  cut at \`limits.command_timeout_seconds\` while others are served; clients that never read
  a large RETR or FETCH do not make the server buffer it.
- **Bad input** (\`fuzz.test.ts\`, \`mime-bombs.test.ts\`): fuzzed SMTP, POP3 and IMAP sessions
  (fast-check) leave the server up, answering and without logged errors; deep nesting,
  50,000 parts, megabytes of headers and base64 garbage are delivered and read back over
  IMAP and POP3 in bounded time and memory.
- **Security** (\`test/security/protocols.test.ts\`, \`test/e2e/login-throttle.test.ts\`, the webmail
  API and browser tests): STARTTLS command injection refused on SMTP, POP3 and IMAP; no open
  relay however the recipient is disguised; no IMAP name, wildcard or namespace reaches
  another account; failed logins counted across protocols and worker processes; webmail
  isolation, CSRF, cookie flags and hostile HTML in Chromium.

## Last soak run

${date} · ${cpus().length} × ${cpu} · ${Math.round(totalmem() / 2 ** 30)} GiB RAM · Node.js ${process.version} · ${minutes} minutes

| figure | value |
|---|---:|
| SIGKILLs survived under mixed load | ${killLine ? killLine[1] : 'not run'} |
| acknowledged SMTP deliveries | ${ops.smtp ?? '–'} |
| acknowledged IMAP APPENDs | ${ops.appends ?? '–'} |
| acknowledged MOVEs / EXPUNGEs / STOREs | ${ops.moves ?? '–'} / ${ops.expunges ?? '–'} / ${ops.stores ?? '–'} |
| acknowledged webmail sends | ${ops.webmailSends ?? '–'} |
| acknowledged POP3 QUITs (with DELE) | ${ops.pop3Quits ?? '–'} |
| fuzzed sessions per protocol (SMTP, POP3, IMAP) | ${fuzzRuns} |
| tests passed / failed | ${pass} / ${fail} |
| acknowledged operations lost | ${result.code === 0 ? '0' : 'see the failures above'} |
`;
writeFileSync('docs/reliability.md', doc);
console.log(`docs/reliability.md written (${result.code === 0 ? 'all passed' : 'FAILURES'})`);
process.exit(result.code);
