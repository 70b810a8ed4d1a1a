// One POP3 client connection: reads lines, runs them through the session one
// at a time, sends the Responses, upgrades to TLS on STLS. See server.ts for
// the rules it keeps.

import type net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { LineParser, type ParsedLine } from './parser.js';
import { LineDeadline } from '../net/line-deadline.js';
import { dispatch } from './commands.js';
import { Pop3Session, type Response } from './session.js';
import { WireEncoder } from './wire.js';
import type { Pop3Listener } from './server.js';
import { maskPop3 } from '../sessions/mask.js';
import type { SessionObserver } from '../sessions/recorder.js';

const MAX_BAD_COMMANDS = 20;
const MAX_QUEUED_LINES = 64;
const WRITE_SLICE = 16 * 1024;

export class Connection {
  private socket: net.Socket;
  private readonly parser: LineParser;
  private pumping: Promise<void> = Promise.resolve();
  private readonly deadline: LineDeadline | undefined;
  private readonly queue: ParsedLine[] = [];
  private readonly session: Pop3Session;
  private busy = false;
  private closed = false;
  private paused = false;
  private shuttingDown = false;
  private timer: NodeJS.Timeout | undefined;
  private drainWaiter: (() => void) | undefined;
  private resolveDone!: () => void;
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));
  private readonly onData = (chunk: Buffer): void => this.received(chunk);
  private readonly onClose = (): void => void this.cleanup();
  private readonly onDrain = (): void => this.drainWaiter?.();

  constructor(
    private readonly listener: Pop3Listener,
    socket: net.Socket,
    private readonly ip: string,
    secure: boolean,
  ) {
    this.socket = socket;
    this.parser = new LineParser(listener.config.maxLineBytes);
    const commandTimeout = listener.config.commandTimeoutMs;
    this.deadline =
      commandTimeout === undefined
        ? undefined
        : new LineDeadline(commandTimeout, () => {
            this.log.debug({ session: this.session.conn.id }, 'POP3 command timeout');
            this.observer?.hint('timeout');
            this.notice('-ERR [SYS/TEMP] Command not completed in time; nothing was deleted');
            this.end();
          });
    const id = randomBytes(6).toString('hex');
    this.session = new Pop3Session(listener.config, { id, remoteAddress: ip, secure });
    const raw = socket;
    this.observer = listener.config.sessions?.open('pop3', {
      clientIp: ip,
      tls: socket instanceof tls.TLSSocket ? socket.getProtocol() : null,
      bytes: () => ({ in: raw.bytesRead, out: raw.bytesWritten }),
      onKill: () => {
        this.notice('-ERR [SYS/TEMP] Session ended by the administrator; nothing was deleted');
        this.end();
      },
    });
    this.session.observer = this.observer;
  }

  private readonly observer: SessionObserver | undefined;

  private get log() {
    return this.listener.config.logger;
  }

  start(): void {
    this.attach(this.socket);
    this.log.debug({ session: this.session.conn.id, remote: this.ip, secure: this.session.conn.secure }, 'POP3 connection');
    // RFC 1939 4: the greeting. No APOP timestamp: APOP is not offered.
    this.write(`+OK ${this.listener.config.hostname} Steadymail POP3 server ready\r\n`);
    this.armIdle();
  }

  /** Server shutdown: close now if waiting for a command, else after the current one. */
  shutdown(): void {
    this.shuttingDown = true;
    this.observer?.hint('shutdown');
    if (!this.busy && !this.closed) {
      this.notice('-ERR [SYS/TEMP] Server shutting down; nothing was deleted, please reconnect later');
      this.end();
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
  }

  private detach(): void {
    this.socket.removeListener('data', this.onData);
    this.socket.removeListener('close', this.onClose);
    this.socket.removeListener('drain', this.onDrain);
  }

  private received(chunk: Buffer): void {
    if (this.closed) return;
    this.deadline?.feed(chunk);
    for (const line of this.parser.push(chunk)) this.queue.push(line);
    // Input backpressure: a client pipelining faster than we answer waits in TCP.
    if (this.queue.length >= MAX_QUEUED_LINES && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    if (this.queue.length > 0 && !this.busy) {
      this.disarm();
      this.pumping = this.pump();
    }
  }

  private async pump(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        if (this.shuttingDown) {
          this.shutdown();
          return;
        }
        const item = this.queue.shift()!;
        await this.handle(item);
      }
    } catch (err) {
      this.log.error({ session: this.session.conn.id, remote: this.ip, err }, 'POP3 session failed; closing it');
      this.observer?.hint('error');
      this.notice('-ERR [SYS/TEMP] Internal server error; closing the connection (nothing was deleted)');
      this.end();
    } finally {
      this.busy = false;
    }
    if (this.paused && !this.closed) {
      this.paused = false;
      this.socket.resume();
    }
    if (!this.closed) {
      if (this.shuttingDown) this.shutdown();
      else this.armIdle();
    }
  }

  private async handle(item: ParsedLine): Promise<void> {
    if (item.kind === 'too-long') {
      this.session.badCommands++;
      this.observer?.command('other', () => '[command line too long]');
      this.observer?.reply(() => '-ERR Command line too long', '-ERR');
      this.write('-ERR Command line too long\r\n');
    } else {
      const obs = this.observer;
      const inSasl = this.session.state.kind === 'authorization' && this.session.state.sasl !== undefined;
      const keyword = inSasl ? '' : (/^\S*/.exec(item.text)?.[0] ?? '').toUpperCase();
      if (obs) {
        const text = item.text;
        if (inSasl) obs.clientLine(() => maskPop3(text, true));
        else obs.command(keyword, () => maskPop3(text, false));
      }
      const response = await dispatch(this.session, item.text);
      if (obs) {
        obs.reply(() => (response.message ? `${response.status} <message ${response.message.msg.number}, ${response.message.msg.size} bytes>` : response.lines ? `${response.status} <${response.lines.length} lines>` : response.status), response.status.startsWith('-ERR') ? '-ERR' : undefined);
        if (keyword === 'QUIT' && response.then === 'close') obs.hint('quit');
      }
      if (response.delayMs && response.delayMs > 0) await sleep(response.delayMs);
      if (this.closed) return;
      await this.send(response);
      if (response.then === 'starttls') return this.startTls();
      if (response.then === 'close') return this.end();
    }
    if (this.session.badCommands >= MAX_BAD_COMMANDS) {
      this.observer?.hint('error');
      this.notice('-ERR Too many bad commands; closing the connection');
      this.end();
    }
  }

  private async send(r: Response): Promise<void> {
    if (r.message) return this.sendMessage(r);
    this.socket.cork();
    this.write(`${r.status}\r\n`);
    if (r.lines) {
      // RFC 1939 3: multi-line replies are byte-stuffed and end with ".".
      for (const line of r.lines) this.write(`${line.startsWith('.') ? '.' : ''}${line}\r\n`);
      this.write('.\r\n');
    }
    this.socket.uncork();
  }

  private async sendMessage(r: Response): Promise<void> {
    const { msg, maildrop, topLines, markSeen } = r.message!;
    const stream = maildrop.store.blobs.createReadStream(msg.blobId);
    try {
      // Open before "+OK": a missing blob is still a clean -ERR then.
      await once(stream, 'ready');
    } catch (err) {
      stream.destroy();
      this.log.error({ session: this.session.conn.id, blobId: msg.blobId, err }, 'POP3 cannot open a message blob');
      this.write(`-ERR [SYS/TEMP] Message ${msg.number} cannot be read right now\r\n`);
      return;
    }
    const enc = new WireEncoder(topLines);
    try {
      this.socket.cork();
      this.write(`${r.status}\r\n`);
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (this.closed) return;
        const out = enc.write(chunk);
        // Small writes, so that each wait for 'drain' is short for a client
        // that is reading, and the stall timer below measures real progress.
        for (let off = 0; off < out.length && !this.closed; off += WRITE_SLICE) {
          if (!this.socket.write(out.subarray(off, off + WRITE_SLICE))) {
            this.socket.uncork();
            await this.drained();
            this.socket.cork();
          }
        }
        if (enc.finished) break;
      }
      if (this.closed) return;
      this.write(enc.end());
      this.write('.\r\n');
    } finally {
      stream.destroy();
      this.socket.uncork();
    }
    if (markSeen && this.session.state.kind === 'transaction') this.session.state.seen.add(msg.uid);
  }

  /**
   * Waits for the socket to drain. A client that keeps reading, however
   * slowly, is waited for; one that took nothing for a whole idle period
   * (no write completed) is dropped.
   */
  private drained(): Promise<void> {
    const idle = this.listener.config.idleTimeoutMs;
    // Bytes the kernel has accepted: written minus still queued in Node and libuv.
    const flushed = (): number => this.socket.bytesWritten - this.socket.writableLength;
    return new Promise<void>((resolve) => {
      let last = flushed();
      const finish = (): void => {
        this.drainWaiter = undefined;
        this.disarm();
        resolve();
      };
      const check = (): void => {
        const now = flushed();
        if (now > last) {
          last = now;
          this.timer = setTimeout(check, idle);
          return;
        }
        this.log.debug({ session: this.session.conn.id }, 'POP3 client stopped reading');
        this.socket.destroy();
        finish();
      };
      this.drainWaiter = finish;
      this.timer = setTimeout(check, idle);
    });
  }

  private async startTls(): Promise<void> {
    const ctx = this.listener.tlsContext;
    if (!ctx) return this.end();
    // Throw away whatever was pipelined after STLS (RFC 2595 4, CVE-2011-0411).
    this.queue.length = 0;
    this.parser.reset();
    this.detach();
    const plain = this.socket;
    const sni = this.listener.sniCallback;
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: ctx, ...(sni ? { SNICallback: sni } : {}) });
    secure.on('error', (err: Error) => this.log.debug({ err, session: this.session.conn.id }, 'POP3 STLS socket error'));
    this.attach(secure);
    if (this.paused) {
      this.paused = false;
      plain.resume();
    }
    const ok = await new Promise<boolean>((resolve) => {
      secure.once('secure', () => resolve(true));
      secure.once('close', () => resolve(false));
      secure.once('error', () => resolve(false));
    });
    if (!ok) {
      secure.destroy();
      return;
    }
    this.session.tlsStarted();
    this.observer?.setTls(secure.getProtocol());
    this.queue.length = 0;
    this.parser.reset();
  }

  /** A reply of the connection itself (not a command's): counted and traced, then sent. */
  private notice(line: string): void {
    if (this.closed || this.socket.destroyed) return;
    this.observer?.reply(() => line, '-ERR');
    this.write(`${line}\r\n`);
  }

  private write(data: string | Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(data);
  }

  private end(): void {
    if (this.closed) return;
    this.disarm();
    this.socket.end();
    // A peer that never closes its side must not keep us around.
    setTimeout(() => this.socket.destroy(), 5000).unref();
    this.closed = true;
    this.queue.length = 0;
  }

  private armIdle(): void {
    this.disarm();
    this.timer = setTimeout(() => {
      if (this.busy || this.closed) return;
      this.log.debug({ session: this.session.conn.id }, 'POP3 idle timeout');
      this.observer?.hint('timeout');
      // RFC 1939 3: the autologout timer closes without entering UPDATE.
      this.notice('-ERR Disconnected for inactivity; nothing was deleted');
      this.end();
    }, this.listener.config.idleTimeoutMs);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async cleanup(): Promise<void> {
    this.closed = true;
    this.deadline?.stop();
    this.disarm();
    // A transfer waiting for the socket to drain gives up now…
    this.drainWaiter?.();
    // …and a command still running (a login taking the maildrop lock) finishes first, so
    // that the session is closed and its lock released before the connection stops counting.
    await this.pumping;
    try {
      await this.session.close();
    } catch (err) {
      this.log.warn({ session: this.session.conn.id, err }, 'POP3 session cleanup failed');
    }
    this.log.debug({ session: this.session.conn.id }, 'POP3 connection closed');
    this.observer?.end('dropped');
    this.resolveDone();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
