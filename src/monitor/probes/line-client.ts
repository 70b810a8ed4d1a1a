// A minimal line-oriented client over node:net / node:tls, enough for the probes to
// speak SMTP, POP3 and IMAP to this node's own listeners: read CRLF lines, send a line,
// upgrade to TLS in place (STARTTLS / STLS). Every read has a deadline, so a listener
// that accepts but never answers fails the probe instead of hanging it.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';

export interface LineClientOptions {
  host: string;
  port: number;
  implicitTls?: boolean;
  timeoutMs: number;
}

export class ProbeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProbeError';
  }
}

export class LineClient {
  private socket: Socket;
  private buffer = '';
  private waiting: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private failure: Error | undefined;
  private readonly timeoutMs: number;

  private constructor(socket: Socket, timeoutMs: number) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
    this.attach(socket);
  }

  static async connect(options: LineClientOptions): Promise<LineClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s: Socket = options.implicitTls
        ? tlsConnect({ host: options.host, port: options.port, rejectUnauthorized: false }, () => resolve(s))
        : netConnect({ host: options.host, port: options.port }, () => resolve(s));
      s.once('error', reject);
      s.setTimeout(options.timeoutMs, () => {
        s.destroy();
        reject(new ProbeError(`connect to ${options.host}:${options.port} timed out`));
      });
    });
    socket.setTimeout(0);
    socket.removeAllListeners('error');
    return new LineClient(socket, options.timeoutMs);
  }

  private attach(socket: Socket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.wake();
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new ProbeError('connection closed by the server')));
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(this.failure);
  }

  /** The next line without its CRLF. */
  async readLine(): Promise<string> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const end = this.buffer.indexOf('\r\n');
      if (end >= 0) {
        const line = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        return line;
      }
      if (this.failure) throw this.failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new ProbeError('no reply within the timeout');
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.waiting = undefined;
          reject(new ProbeError('no reply within the timeout'));
        }, left);
        this.waiting = {
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
          reject: (err) => {
            clearTimeout(timer);
            reject(err);
          },
        };
      });
    }
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Upgrades the connection after the server agreed to STARTTLS; returns the server's certificate. */
  async startTls(): Promise<PeerCertificate> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    this.buffer = '';
    const secure = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: plain, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    secure.removeAllListeners('error');
    this.socket = secure;
    this.attach(secure);
    return secure.getPeerCertificate();
  }

  peerCertificate(): PeerCertificate | undefined {
    return 'getPeerCertificate' in this.socket ? (this.socket as TLSSocket).getPeerCertificate() : undefined;
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.destroy();
  }
}

/** Whole days until the certificate's notAfter (negative when expired). */
export function daysLeft(cert: PeerCertificate, now = Date.now()): number {
  return Math.floor((new Date(cert.valid_to).getTime() - now) / 86_400_000);
}

/** The address to connect to for a listener bound to `host` (a wildcard means this node). */
export function probeHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}
