// Child process for the crash test: the inbound listener over a store in argv[2].
// Prints "port N" once listening; the parent kills it with SIGKILL.

import { openStore } from '../../src/store/open.js';
import { createSmtpListener } from '../../src/smtp/index.js';
import { startDns } from './dns-server.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: crash-server.ts DATA_DIR');
const store = await openStore({ driver: 'sqlite', dataDir });
const dns = await startDns({});
const listener = createSmtpListener('inbound', {
  store,
  logger: { info() {}, warn() {}, error() {}, debug() {} },
  hostname: 'mx.example.org',
  limits: { maxMessageBytes: 1 << 20, maxRecipients: 10, maxLineBytes: 2000, maxConnectionsPerIp: 50, idleTimeoutMs: 30_000, maxReceivedHeaders: 30 },
  dnsServers: [dns.server],
  dmarcRejectEnforced: false,
  allowPlaintextAuth: () => false,
  authenticate: async () => ({ ok: false, reason: 'bad-credentials' }),
});
const { port } = await listener.listen('127.0.0.1', 0);
process.stdout.write(`port ${port}\n`);
