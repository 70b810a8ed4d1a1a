// Entry point of bin/steadymail.
import cluster from 'node:cluster';
import { runCli } from './program.js';

const code = await runCli(process.argv);
process.exitCode = code;
// A worker that failed to start would be kept alive by its IPC channel (and closing
// the channel makes Node exit it with 0), so it exits here, with its code.
if (code !== 0 && cluster.isWorker) process.exit(code);
