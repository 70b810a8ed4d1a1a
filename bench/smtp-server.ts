// Child process for the SMTP benchmark: the inbound listener over a store in argv[2],
// with a loopback DNS server (every lookup NXDOMAIN, so SPF/DKIM/DMARC run but fast).
// Prints "port N"; answers "mem" on stdin with its RSS and peak RSS in bytes.
// argv[3], optional: "builtin" or an rspamd URL runs the inbound filter too.

import { readFileSync } from 'node:fs';
import { openStore } from '../src/store/open.js';
import { createSmtpListener } from '../src/smtp/index.js';
import { startDns } from '../test/smtp/dns-server.js';
import { loadConfig } from '../src/config/index.js';
import { InboundFilter } from '../src/filter/index.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: smtp-server.ts DATA_DIR');
const store = await openStore({ driver: 'sqlite', dataDir });
const dns = await startDns({});
const quiet = () => undefined;
const filterMode = process.argv[3];
// Greylisting with no delay records every triplet (the store write) but never defers.
const filterConfig = loadConfig({
  cwd: dataDir,
  env: {
    STEADYMAIL_FILTER_TRUSTED_NETWORKS: '',
    STEADYMAIL_FILTER_MAX_MESSAGES_PER_IP_PER_MINUTE: '0',
    STEADYMAIL_FILTER_GREYLIST_DELAY_SECONDS: '0',
    ...(filterMode && filterMode !== 'builtin' ? { STEADYMAIL_FILTER_RSPAMD_URL: filterMode } : {}),
  },
}).filter;
const filter = filterMode
  ? new InboundFilter({ store, logger: { info: quiet, warn: (o) => console.error(o), error: (o) => console.error(o), debug: quiet }, hostname: 'mx.bench.test', config: filterConfig, dnsServers: [dns.server] })
  : null;
const listener = createSmtpListener('inbound', {
  store,
  logger: { info: quiet, warn: quiet, error: (o) => console.error(o), debug: quiet },
  hostname: 'mx.bench.test',
  limits: { maxMessageBytes: 10 << 20, maxRecipients: 100, maxLineBytes: 2000, maxConnectionsPerIp: 1000, idleTimeoutMs: 60_000, maxReceivedHeaders: 30 },
  dnsServers: [dns.server],
  dmarcRejectEnforced: false,
  allowPlaintextAuth: () => false,
  authenticate: async () => ({ ok: false, reason: 'bad-credentials' }),
  ...(filter ? { filter: (input) => filter.check(input) } : {}),
});
const { port } = await listener.listen('127.0.0.1', 0);
process.stdout.write(`port ${port}\n`);

function kib(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => {
  if (d.includes('mem')) process.stdout.write(`mem ${kib('VmRSS') || process.memoryUsage().rss} ${kib('VmHWM')}\n`);
  if (d.includes('quit')) {
    void listener
      .close(1000)
      .then(() => store.close())
      .then(() => dns.close())
      .then(() => process.exit(0));
  }
});
