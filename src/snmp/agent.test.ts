// The agent alone: a port already in use fails start() with the bind error (so the
// server refuses to start, like any listener), and stop() releases the port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Writable } from 'node:stream';
import { createLogger } from '../log.js';
import { createSnmpAgent, type SnmpSnapshot } from './agent.js';

const logger = createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() }));
const snapshot = (): Promise<SnmpSnapshot> =>
  Promise.resolve({
    components: [],
    connections: [],
    queue: { queued: 0, failed: 0, oldestAgeSeconds: 0 },
    store: { up: true, domains: 0, accounts: 0, messages: 0, bytes: 0 },
    messages: { received: 0, receivedBytes: 0, deliveredLocal: 0, transmitted: 0, transmittedBytes: 0, failed: 0, queued: 0 },
  });

test('a UDP port in use fails start(); stop() frees the port for the next agent', async () => {
  const taken = createSocket('udp4');
  await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
  const port = taken.address().port;
  const options = { community: 'c', v3: null, version: 'test', hostname: 'h', logger, snapshot };
  await assert.rejects(createSnmpAgent({ ...options, address: { host: '127.0.0.1', port } }).start(), /EADDRINUSE/);
  await new Promise<void>((r) => taken.close(() => r()));
  const agent = createSnmpAgent({ ...options, address: { host: '127.0.0.1', port } });
  assert.deepEqual(await agent.start(), { host: '127.0.0.1', port });
  await agent.stop();
  const again = createSnmpAgent({ ...options, address: { host: '127.0.0.1', port } });
  await again.start();
  await again.stop();
});
