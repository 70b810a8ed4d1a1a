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
  MOVE / EXPUNGE and POP3 DELE + QUIT run while the server is killed at random moments and
  restarted. Every acknowledged delivery, append, flag change, move and expunge holds; a
  message is never in two places nor stored twice; a POP3 QUIT whose reply was lost deleted
  all of its messages or none; \`steadymail check\` finds the store consistent.
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
| acknowledged POP3 QUITs (with DELE) | ${ops.pop3Quits ?? '–'} |
| fuzzed sessions per protocol (SMTP, POP3, IMAP) | ${fuzzRuns} |
| tests passed / failed | ${pass} / ${fail} |
| acknowledged operations lost | ${result.code === 0 ? '0' : 'see the failures above'} |
`;
writeFileSync('docs/reliability.md', doc);
console.log(`docs/reliability.md written (${result.code === 0 ? 'all passed' : 'FAILURES'})`);
process.exit(result.code);
