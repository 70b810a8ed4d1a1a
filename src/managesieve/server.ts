// ManageSieve listener and connections (RFC 5804): sockets, STARTTLS, the
// idle timer, per-address connection limit, graceful shutdown.
//
// Rules:
// - Lines are handled one at a time in arrival order.
// - After STARTTLS, bytes pipelined before the handshake are thrown away
//   (the STARTTLS command-injection attack, CVE-2011-0411); the capabilities
//   are sent again once TLS is up (RFC 5804 2.2).
// - An unexpected exception ends that one connection with a logged error.

import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { LineParser, type ParsedLine } from './parser.js';
import { ConnectionsPerIp } from '../net/per-ip.js';
import { LineDeadline } from '../net/line-deadline.js';
import { ManageSieveSession, type SessionConfig } from './session.js';
import { describeManageSieve, describeManageSieveReply } from '../sessions/mask.js';
import type { SessionObserver, SessionRecorder } from '../sessions/recorder.js';

export interface ListenerConfig extends SessionConfig {
  tls?: { key: string | Buffer; cert: string | Buffer };
  idleTimeoutMs: number;
  /** A command line started and not completed within this ends the connection (slowloris). */
  commandTimeoutMs?: number;
  maxLineBytes: number;
  maxConnectionsPerIp: number;
  /** Session history, traces and protocol counters (src/sessions). */
  sessions?: SessionRecorder;
}

const MAX_BAD_COMMANDS = 20;

export class ManageSieveListener {
  private readonly server: net.Server;
  private readonly conns = new Set<Connection>();
  private readonly perIp: ConnectionsPerIp;
  readonly secureContext: tls.SecureContext | undefined;
  closing = false;

  constructor(readonly config: ListenerConfig) {
    this.perIp = new ConnectionsPerIp(config.maxConnectionsPerIp);
    if (config.tls) this.secureContext = tls.createSecureContext({ key: config.tls.key, cert: config.tls.cert });
    this.server = net.createServer((socket) => this.accept(socket));
    this.server.on('error', (err) => config.logger.warn({ err }, 'ManageSieve listener error'));
  }

  async listen(host: string, port: number): Promise<{ address: string; port: number }> {
    this.server.listen(port, host);
    await once(this.server, 'listening');
    const addr = this.server.address() as net.AddressInfo;
    return { address: addr.address, port: addr.port };
  }

  connections(): number {
    return this.conns.size;
  }

  async close(graceMs: number): Promise<void> {
    this.closing = true;
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const all = [...this.conns];
    for (const c of all) c.shutdown();
    const timer = setTimeout(() => {
      for (const c of this.conns) c.destroy();
    }, graceMs);
    await Promise.all(all.map((c) => c.done));
    clearTimeout(timer);
    await stopped;
  }

  private accept(socket: net.Socket): void {
    const ip = socket.remoteAddress ?? 'unknown';
    socket.on('error', (err) => this.config.logger.debug({ err, remote: ip }, 'ManageSieve socket error'));
    if (this.closing) {
      socket.end('BYE (TRYLATER) "Server shutting down"\r\n');
      return;
    }
    if (!this.perIp.tryOpen(ip)) {
      socket.end('BYE (TRYLATER) "Too many connections from your address"\r\n');
      return;
    }
    socket.setNoDelay(true);
    const conn = new Connection(this, socket, ip);
    this.conns.add(conn);
    void conn.done.then(() => {
      this.conns.delete(conn);
      this.perIp.close(ip);
    });
    conn.start();
  }
}

class Connection {
  private socket: net.Socket;
  private readonly parser: LineParser;
  private readonly session: ManageSieveSession;
  private readonly queue: ParsedLine[] = [];
  private busy = false;
  private closed = false;
  private shuttingDown = false;
  private timer: NodeJS.Timeout | undefined;
  private resolveDone!: () => void;
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));
  private readonly onData = (chunk: Buffer): void => this.received(chunk);
  private readonly onClose = (): void => this.cleanup();
  private readonly deadline: LineDeadline | undefined;
  private readonly observer: SessionObserver | undefined;

  constructor(
    private readonly listener: ManageSieveListener,
    socket: net.Socket,
    private readonly ip: string,
  ) {
    this.socket = socket;
    const c = listener.config;
    // A literal may carry a script plus a little room; larger ones are skipped, not buffered.
    this.parser = new LineParser(c.maxLineBytes, c.maxScriptBytes + 1024);
    this.session = new ManageSieveSession(c, { id: randomBytes(6).toString('hex'), remoteAddress: ip, secure: false });
    this.deadline =
      c.commandTimeoutMs === undefined
        ? undefined
        : new LineDeadline(c.commandTimeoutMs, () => {
            this.observer?.hint('timeout');
            this.notice('BYE "Command not completed in time"');
            this.end();
          });
    const raw = socket;
    this.observer = c.sessions?.open('managesieve', {
      clientIp: ip,
      tls: null,
      bytes: () => ({ in: raw.bytesRead, out: raw.bytesWritten }),
      onKill: () => {
        this.notice('BYE "Session ended by the administrator"');
        this.end();
      },
    });
    this.session.observer = this.observer;
  }

  private get log() {
    return this.listener.config.logger;
  }

  start(): void {
    this.attach(this.socket);
    this.reply(this.session.greeting());
    this.armIdle();
  }

  shutdown(): void {
    this.shuttingDown = true;
    this.observer?.hint('shutdown');
    if (!this.busy && !this.closed) {
      this.notice('BYE (TRYLATER) "Server shutting down"');
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
  }

  private detach(): void {
    this.socket.removeListener('data', this.onData);
    this.socket.removeListener('close', this.onClose);
  }

  private received(chunk: Buffer): void {
    if (this.closed) return;
    this.deadline?.feed(chunk);
    for (const line of this.parser.push(chunk)) this.queue.push(line);
    if (this.queue.length > 0 && !this.busy) {
      this.disarm();
      void this.pump();
    }
  }

  private async pump(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.closed && !this.shuttingDown) {
        await this.handle(this.queue.shift()!);
      }
    } catch (err) {
      this.log.warn({ session: this.session.conn.id, remote: this.ip, err }, 'ManageSieve session failed; closing it');
      this.observer?.hint('error');
      this.notice('BYE "Internal server error"');
      this.end();
    } finally {
      this.busy = false;
    }
    if (this.closed) return;
    if (this.shuttingDown) this.shutdown();
    else this.armIdle();
  }

  private async handle(item: ParsedLine): Promise<void> {
    const obs = this.observer;
    if (item.kind === 'bad') {
      this.session.badCommands++;
      obs?.command('other', () => `[malformed line: ${item.message}]`);
      this.reply(`NO "${item.message}"\r\n`);
    } else if (item.kind === 'too-large') {
      this.session.badCommands++;
      obs?.command(item.command ?? 'other', () => `${item.command ?? '[command]'} [a literal of ${item.size} bytes over the limit, skipped]`);
      this.reply(`NO (QUOTA/MAXSIZE) "A literal of ${item.size} bytes is over the limit of ${this.listener.config.maxScriptBytes} bytes"\r\n`);
    } else {
      const state = this.session.state;
      const inSasl = state.kind === 'unauthenticated' && state.sasl !== undefined;
      const first = item.tokens[0];
      const name = first?.kind === 'atom' ? first.value.toUpperCase() : 'other';
      if (obs) {
        const tokens = item.tokens;
        if (inSasl) obs.clientLine(() => describeManageSieve(tokens, true, false));
        else obs.command(name, () => describeManageSieve(tokens, false, obs.bodies));
      }
      const r = await this.session.handle(item.tokens);
      if (!inSasl && name === 'LOGOUT' && r.then === 'close') obs?.hint('quit');
      if (r.delayMs && r.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, r.delayMs));
      if (this.closed) return;
      this.reply(r.text);
      if (r.then === 'close') return this.end();
      if (r.then === 'starttls') return this.startTls();
    }
    if (this.session.badCommands >= MAX_BAD_COMMANDS) {
      obs?.hint('error');
      this.notice('BYE "Too many bad commands"');
      this.end();
    }
  }

  private async startTls(): Promise<void> {
    const ctx = this.listener.secureContext;
    if (!ctx) return this.end();
    this.queue.length = 0;
    this.parser.reset();
    this.detach();
    const secure = new tls.TLSSocket(this.socket, { isServer: true, secureContext: ctx });
    secure.on('error', (err: Error) => this.log.debug({ err, session: this.session.conn.id }, 'ManageSieve TLS error'));
    this.attach(secure);
    const up = await new Promise<boolean>((resolve) => {
      secure.once('secure', () => resolve(true));
      secure.once('close', () => resolve(false));
      secure.once('error', () => resolve(false));
    });
    if (!up) {
      secure.destroy();
      return;
    }
    this.session.tlsStarted();
    this.observer?.setTls(secure.getProtocol());
    this.queue.length = 0;
    this.parser.reset();
    // RFC 5804 2.2: the capabilities again, now that TLS is up.
    this.reply(this.session.capabilities() + 'OK "TLS negotiation successful"\r\n');
  }

  /** A response (one or more lines, CRLF-terminated): counted and traced, then sent. */
  private reply(text: string): void {
    if (this.closed || this.socket.destroyed) return;
    const obs = this.observer;
    if (obs) {
      // The status line is the last one; NO and BYE count as errors.
      const status = /(?:^|\n)(NO|BYE)\b[^\n]*\r\n$/.exec(text)?.[1];
      obs.reply(() => describeManageSieveReply(text, obs.bodies), status);
    }
    this.write(text);
  }

  /** A line of the connection itself (BYE on timeout, kill, shutdown): counted and traced, then sent. */
  private notice(line: string): void {
    this.reply(`${line}\r\n`);
  }

  private write(text: string): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(text);
  }

  private end(): void {
    if (this.closed) return;
    this.disarm();
    this.closed = true;
    this.queue.length = 0;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  private armIdle(): void {
    this.disarm();
    this.timer = setTimeout(() => {
      if (this.busy || this.closed) return;
      this.observer?.hint('timeout');
      this.notice('BYE "Disconnected for inactivity"');
      this.end();
    }, this.listener.config.idleTimeoutMs);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private cleanup(): void {
    this.closed = true;
    this.disarm();
    this.deadline?.stop();
    this.session.state = { kind: 'closed' };
    this.observer?.end('dropped');
    this.resolveDone();
  }
}
