// SNMP with several workers: the agent answers with the node's counters, not only those
// of the worker that happens to answer. The real server with two workers; messages sent
// over several SMTP connections (spread over both workers); Debian's snmpget reads them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { ENTERPRISE_OID } from '../../src/snmp/agent.js';
import { cli, serve, tempDataDir, type Running } from './serve.js';

const run = promisify(execFile);
const COMMUNITY = 'workers-ro';
let dataDir: string;
let server: Running;
const deliveredBy = new Set<number>();

before(async () => {
  dataDir = tempDataDir();
  assert.equal((await cli(dataDir, ['domain', 'add', 'e2e.test'])).code, 0);
  assert.equal((await cli(dataDir, ['user', 'add', 'alice@e2e.test', '--password-stdin'], 'alice-secret\n')).code, 0);
  server = await serve(
    dataDir,
    {
      STEADYMAIL_SERVER_WORKERS: '2',
      STEADYMAIL_LISTEN_SNMP: '127.0.0.1:0',
      STEADYMAIL_SNMP_COMMUNITY: COMMUNITY,
      STEADYMAIL_LISTEN_MANAGESIEVE: 'off',
      STEADYMAIL_LISTEN_SUBMISSIONS: 'off',
      STEADYMAIL_LISTEN_POP3S: 'off',
      STEADYMAIL_LISTEN_IMAPS: 'off',
      STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '3',
      STEADYMAIL_LOG_LEVEL: 'debug',
    },
    ['smtp', 'http', 'snmp'],
  );
  createInterface({ input: server.child.stdout! }).on('line', (line) => {
    if (!line.includes('smtp delivered')) return;
    const entry = JSON.parse(line) as { pid?: number };
    if (typeof entry.pid === 'number') deliveredBy.add(entry.pid);
  });
});

after(async () => {
  const code = await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  assert.equal(code, 0);
});

test('smMessagesReceived and mtaReceivedMessages count the messages of both workers', async () => {
  let N = 0;
  // One connection per message, until both workers have delivered some (the kernel spreads connections).
  for (let i = 0; i < 30 && (N < 4 || deliveredBy.size < 2); i++, N++) {
    // One connection per message: the kernel spreads them over the workers.
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.ports.get('smtp'), secure: false, ignoreTLS: true });
    await transport.sendMail({ from: 'sender@remote.test', to: 'alice@e2e.test', subject: `m${i}`, text: 'hello' });
    transport.close();
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(deliveredBy.size, 2, 'both workers delivered messages');
  const get = async (oid: string): Promise<number> => {
    const { stdout } = await run('snmpget', ['-v2c', '-c', COMMUNITY, '-Oqv', '-t', '3', '-r', '1', `127.0.0.1:${server.ports.get('snmp')}`, oid]);
    return Number(stdout.trim());
  };
  // The agent refreshes its values every 5 s.
  let received = 0;
  for (let i = 0; i < 40 && received !== N; i++) {
    await new Promise((r) => setTimeout(r, 500));
    received = await get(`${ENTERPRISE_OID}.1.4.1.0`);
  }
  assert.equal(received, N, 'smMessagesReceived: every worker’s messages');
  assert.equal(await get('1.3.6.1.2.1.28.1.1.1.1'), N, 'mtaReceivedMessages');
});
