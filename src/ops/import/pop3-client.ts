// A small POP3 client (RFC 1939, STLS from RFC 2595) for importing: USER/PASS, UIDL,
// LIST, RETR, QUIT. It never sends DELE: mail stays on the source. Multi-line replies
// are dot-unstuffed and bounded by the caller's size limit.

import net from 'node:net';
import tls from 'node:tls';

export class Pop3Error extends Error {
  constructor(
    message: string,
    /** The server answered -ERR (as opposed to a lost connection). */
    readonly refused: boolean,
  ) {
    super(message);
    this.name = 'Pop3Error';
  }
}

export interface Pop3ClientOptions {
  host: string;
  port: number;
  security: 'tls' | 'starttls' | 'plain';
  verifyCertificate: boolean;
  timeoutMs: number;
}

export class Pop3Client {
  private socket: net.Socket | tls.TLSSocket | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;

  constructor(private readonly options: Pop3ClientOptions) {}

  async connect(): Promise<void> {
    const { host, port } = this.options;
    const socket =
      this.options.security === 'tls'
        ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: this.options.verifyCertificate })
        : net.connect({ host, port });
    this.attach(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once(this.options.security === 'tls' ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    await this.status();
    if (this.options.security === 'starttls') {
      await this.command('STLS');
      const secure = tls.connect({ socket, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: this.options.verifyCertificate });
      this.attach(secure);
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', () => resolve());
        secure.once('error', reject);
      });
    }
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    socket.setTimeout(this.options.timeoutMs, () => socket.destroy(new Error(`no answer from ${this.options.host} for ${this.options.timeoutMs} ms`)));
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('error', (err) => {
      this.failure ??= err;
      this.wake();
    });
    socket.on('close', () => {
      this.failure ??= new Error(`the connection to ${this.options.host} was closed`);
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private async readLine(): Promise<string> {
    for (;;) {
      const nl = this.buffer.indexOf(0x0a);
      if (nl !== -1) {
        const line = this.buffer.subarray(0, nl).toString('latin1').replace(/\r$/, '');
        this.buffer = this.buffer.subarray(nl + 1);
        return line;
      }
      if (this.failure) throw this.failure;
      if (this.buffer.length > 8192) throw new Error('the POP3 server sent an over-long line');
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  private async status(): Promise<string> {
    const line = await this.readLine();
    if (line.startsWith('+OK')) return line.slice(3).trim();
    throw new Pop3Error(line.startsWith('-ERR') ? line.slice(4).trim() || 'refused' : `unexpected reply: ${line.slice(0, 200)}`, true);
  }

  async command(line: string): Promise<string> {
    if (!this.socket || this.failure) throw this.failure ?? new Error('not connected');
    this.socket.write(`${line}\r\n`);
    return this.status();
  }

  /** A multi-line reply's lines (dot-unstuffed), after a +OK. */
  private async lines(): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const line = await this.readLine();
      if (line === '.') return out;
      out.push(line.startsWith('.') ? line.slice(1) : line);
    }
  }

  async login(user: string, password: string): Promise<void> {
    await this.command(`USER ${user}`);
    await this.command(`PASS ${password}`);
  }

  /** Message number → UIDL (RFC 1939 7). */
  async uidl(): Promise<Map<number, string>> {
    await this.command('UIDL');
    const map = new Map<number, string>();
    for (const line of await this.lines()) {
      const m = /^(\d+)\s+(\S+)/.exec(line);
      if (m) map.set(Number(m[1]), m[2]!);
    }
    return map;
  }

  /** Message number → size in octets. */
  async list(): Promise<Map<number, number>> {
    await this.command('LIST');
    const map = new Map<number, number>();
    for (const line of await this.lines()) {
      const m = /^(\d+)\s+(\d+)/.exec(line);
      if (m) map.set(Number(m[1]), Number(m[2]));
    }
    return map;
  }

  /** The whole message, CRLF line ends, dot-unstuffed; refuses to hold more than maxBytes. */
  async retr(n: number, maxBytes: number): Promise<Buffer> {
    await this.command(`RETR ${n}`);
    const parts: Buffer[] = [];
    let size = 0;
    for (;;) {
      let nl = this.buffer.indexOf(0x0a);
      while (nl === -1) {
        if (this.failure) throw this.failure;
        await new Promise<void>((r) => (this.waiter = r));
        nl = this.buffer.indexOf(0x0a);
      }
      let line = this.buffer.subarray(0, nl + 1);
      this.buffer = this.buffer.subarray(nl + 1);
      if (line.length <= 3 && line[0] === 0x2e && (line.length === 2 || line[1] === 0x0d)) return Buffer.concat(parts, size);
      if (line[0] === 0x2e) line = line.subarray(1);
      size += line.length;
      if (size > maxBytes) throw new Error(`message ${n} is larger than ${maxBytes} bytes`);
      parts.push(Buffer.from(line));
    }
  }

  /** QUIT without DELE: nothing is removed from the source. */
  async quit(): Promise<void> {
    try {
      await this.command('QUIT');
    } catch {
      // Leaving anyway.
    }
    this.close();
  }

  close(): void {
    this.socket?.destroy();
  }
}
