// The loopback DNS server Steadymail's SPF/DKIM/DMARC checks ask (every name NXDOMAIN),
// in a process of its own: the process sampling /proc must not delay its answers.
// Prints `dns <ip:port>`; exits when its stdin closes.
import { startDns } from '../../test/smtp/dns-server.js';

const dns = await startDns({});
process.stdout.write(`dns ${dns.server}\n`);
process.stdin.resume();
process.stdin.on('end', () => void dns.close().then(() => process.exit(0)));
