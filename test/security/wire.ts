// A raw line-oriented client for the security and reliability tests: writes exact
// bytes (pipelined commands, garbage), reads replies, upgrades to TLS in place.
import net from 'node:net';
import tls from 'node:tls';

export class Wire {
  private buf = '';
  private waiters: Array<() => void> = [];
  closed = false;
  private constructor(private socket: net.Socket | tls.TLSSocket) {
    this.attach(socket);
  }

  static connect(port: number): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Wire(s)));
      s.once('error', reject);
    });
  }

  private attach(s: net.Socket | tls.TLSSocket): void {
    s.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      for (const w of this.waiters.splice(0)) w();
    });
    s.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    s.on('error', () => undefined);
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** Waits until the received text matches `re` (or the connection closes / time runs out). */
  async until(re: RegExp, timeoutMs = 5000): Promise<string> {
    const end = Date.now() + timeoutMs;
    while (!re.test(this.buf)) {
      if (this.closed) throw new Error(`connection closed before ${re}; got: ${this.buf.slice(-500)}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${re}; got: ${this.buf.slice(-500)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    const m = re.exec(this.buf)!;
    const upTo = m.index + m[0].length;
    const out = this.buf.slice(0, upTo);
    this.buf = this.buf.slice(upTo);
    return out;
  }

  /** What arrived and was not consumed yet, after waiting `ms`. */
  async rest(ms: number): Promise<string> {
    await new Promise((r) => setTimeout(r, ms));
    const out = this.buf;
    this.buf = '';
    return out;
  }

  /** Upgrades the connection to TLS (after the server said go ahead). */
  async startTls(): Promise<void> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
  }

  close(): void {
    this.socket.destroy();
  }
}
