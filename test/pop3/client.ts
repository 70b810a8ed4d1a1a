// A tiny line-based POP3 client for tests: it sends exactly what it is told
// and returns exactly the bytes the server sent, so tests can compare replies
// byte for byte.

import net from 'node:net';
import tls from 'node:tls';

/** Commands whose +OK reply is multi-line (RFC 1939, RFC 2449 5, RFC 5034 bare AUTH). */
function isMultiLine(command: string, status: string): boolean {
  if (!status.startsWith('+OK')) return false;
  const [kw, ...args] = command.trim().split(/ +/);
  switch ((kw ?? '').toUpperCase()) {
    case 'CAPA':
    case 'RETR':
    case 'TOP':
      return true;
    case 'LIST':
    case 'UIDL':
    case 'AUTH':
      return args.length === 0;
    default:
      return false;
  }
}

export class Pop3TestClient {
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private ended = false;
  socket: net.Socket;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.listen(socket);
  }

  static async connect(port: number, options: { tls?: boolean } = {}): Promise<Pop3TestClient> {
    const socket = options.tls
      ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
      : net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once(options.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new Pop3TestClient(socket);
  }

  private listen(socket: net.Socket): void {
    socket.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async waitFor(test: () => number, timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = test();
      if (n >= 0) {
        const out = this.buffer.subarray(0, n);
        this.buffer = this.buffer.subarray(n);
        return out;
      }
      if (this.ended) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer.toString('latin1'))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; unread: ${JSON.stringify(this.buffer.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** One line, CRLF included. */
  async readLine(timeoutMs?: number): Promise<string> {
    const b = await this.waitFor(() => {
      const i = this.buffer.indexOf('\r\n');
      return i < 0 ? -1 : i + 2;
    }, timeoutMs);
    return b.toString('latin1');
  }

  /** Up to and including the terminating ".\r\n" of a multi-line reply. */
  async readMultiLineBody(): Promise<string> {
    const b = await this.waitFor(() => {
      if (this.buffer.subarray(0, 3).toString('latin1') === '.\r\n') return 3;
      const i = this.buffer.indexOf('\r\n.\r\n');
      return i < 0 ? -1 : i + 5;
    });
    return b.toString('latin1');
  }

  write(raw: string | Buffer): void {
    this.socket.write(raw);
  }

  /** Sends one command line and returns the complete reply, byte for byte. */
  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.reply(line);
  }

  /** Reads the reply to `line` (already sent). */
  async reply(line: string): Promise<string> {
    const status = await this.readLine();
    return isMultiLine(line, status) ? status + (await this.readMultiLineBody()) : status;
  }

  async greeting(): Promise<string> {
    return this.readLine();
  }

  async login(user: string, password: string): Promise<string> {
    await this.command(`USER ${user}`);
    return this.command(`PASS ${password}`);
  }

  /** RFC 2595 STLS: upgrade this client's socket. */
  async startTls(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.listen(secure);
  }

  /** Resolves when the server has closed the connection. */
  async closed(timeoutMs = 5000): Promise<void> {
    await this.waitFor(() => (this.ended ? 0 : -1), timeoutMs);
  }

  get isClosed(): boolean {
    return this.ended;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
