// A small ManageSieve client for tests: sends raw lines and reads complete
// responses (everything up to and including the OK/NO/BYE line, literals
// included), exactly as a client sees them.

import net from 'node:net';
import tls from 'node:tls';

export class SieveTalk {
  private buf = '';
  private waiters: Array<() => void> = [];
  private constructor(private socket: net.Socket) {
    this.attach(socket);
  }

  static async connect(port: number): Promise<SieveTalk> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return new SieveTalk(socket);
  }

  private attach(socket: net.Socket): void {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
  }

  get closed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Sends one command line (CRLF added) and reads the response. */
  async command(line: string): Promise<string> {
    this.send(line + '\r\n');
    return this.response();
  }

  /** Reads up to a line starting with OK, NO or BYE (skipping over literals), or one challenge line. */
  async response(opts: { challenge?: boolean; timeoutMs?: number } = {}): Promise<string> {
    const deadline = Date.now() + (opts.timeoutMs ?? 5000);
    for (;;) {
      const end = this.completeAt(opts.challenge ?? false);
      if (end >= 0) {
        const r = this.buf.slice(0, end);
        this.buf = this.buf.slice(end);
        return r;
      }
      if (this.closed) return `closed: ${this.buf}`;
      if (Date.now() > deadline) throw new Error(`no response; buffered: ${JSON.stringify(this.buf)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  private completeAt(challenge: boolean): number {
    let i = 0;
    for (;;) {
      const lf = this.buf.indexOf('\n', i);
      if (lf < 0) return -1;
      const line = this.buf.slice(i, lf + 1);
      const lit = /\{(\d+)\}\r\n$/.exec(line);
      if (lit) {
        const n = Number(lit[1]);
        const bytes = Buffer.from(this.buf.slice(lf + 1), 'utf8');
        if (bytes.length < n) return -1;
        i = lf + 1 + bytes.subarray(0, n).toString('utf8').length;
        if (!/^(OK|NO|BYE)/.test(line)) continue;
        const after = this.buf.indexOf('\n', i);
        return after < 0 ? -1 : after + 1;
      }
      if (/^(OK|NO|BYE)\b/.test(line) || (challenge && i === 0)) return lf + 1;
      i = lf + 1;
    }
  }

  async startTls(): Promise<string> {
    const r = await this.command('STARTTLS');
    if (!r.startsWith('OK')) return r;
    this.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.buf = '';
    this.attach(secure);
    return this.response();
  }

  close(): void {
    this.socket.destroy();
  }
}

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** A literal argument ({n+}) for a script. */
export const literal = (s: string): string => `{${Buffer.byteLength(s, 'utf8')}+}\r\n${s}`;
