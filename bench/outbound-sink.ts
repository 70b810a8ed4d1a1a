// An SMTP sink for the outbound benchmark, in its own process: accepts every message
// (no TLS, no AUTH), keeps nothing, prints its port and then, on stdin EOF, the count.
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

let messages = 0;
const server = new SMTPServer({
  disabledCommands: ['STARTTLS', 'AUTH'],
  authOptional: true,
  logger: false,
  size: 50 * 1024 * 1024,
  onData(stream, _session, callback) {
    stream.on('data', () => {});
    stream.on('end', () => {
      messages++;
      callback();
    });
  },
});
server.on('error', () => {});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.server.address() as AddressInfo).port })}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => {
  process.stdout.write(`${JSON.stringify({ messages })}\n`);
  server.close(() => process.exit(0));
});
