// A POP3 server in its own process, for tests that SIGKILL it.
// Usage: node --import tsx server-child.ts <dataDir>; prints "PORT <n>" when listening.

import { openStore } from '../../src/store/open.js';
import { createPop3Server } from '../../src/pop3/index.js';
import { collectingLogger, testOptions } from './harness.js';

const store = await openStore({ driver: 'sqlite', dataDir: process.argv[2]! });
const server = createPop3Server(testOptions(store, collectingLogger()));
const { port } = await server.listen('127.0.0.1', 0);
process.stdout.write(`PORT ${port}\n`);
