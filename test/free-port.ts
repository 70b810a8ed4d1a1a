// A TCP port on 127.0.0.1 that nothing listens on right now, for a program of the
// tests (or benchmarks) that must be told its port rather than bind port 0 itself.
import net from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
