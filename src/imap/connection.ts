// One client connection: socket in, framer, session, socket out.
//
// Rules:
// - Commands run one at a time, in order. While one runs, further input stays
//   in the framer and the socket is paused (input backpressure); output waits
//   for 'drain' (output backpressure).
// - Only this file writes to the socket. Handlers yield bytes; the connection
//   batches them per command and flushes before every wait for the client.
// - STARTTLS drops whatever the client pipelined before the handshake
//   (CVE-2011-0411 class).
// - IDLE (RFC 2177): changes are pushed as they happen, `* OK Still here`
//   keeps NAT state alive, the inactivity limit is at least 30 minutes
//   (RFC 9051 5.4), and the tagged OK comes after DONE.
// - NOTIFY (RFC 5465): queued notifications are pushed while no command runs
//   (the connection is then busy for the push, so no command sees an MSN change
//   half-way), during IDLE, and otherwise before the running command's tagged reply.
// - An unexpected exception ends this connection with a logged error, never the process.

import net from 'node:net';
import tls from 'node:tls';
import type { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { Framer, tryParseCommand, type FrameEvent, type FramerMode, type ImapCommand } from './parser/index.js';
import { ProtocolError, bad } from './errors.js';
import type { CommandContext } from './handler.js';
import type { ImapOptions, ImapTls } from './options.js';
import { continuation, parseErrorResponse, saslChallenge, tagged, untaggedStatus } from './respond.js';
import { Session } from './session.js';
import { capabilities } from './capabilities.js';
import { LineDeadline } from '../net/line-deadline.js';
import { clip, maskImap, MASK } from '../sessions/mask.js';
import type { SessionObserver } from '../sessions/recorder.js';

const FLUSH_BYTES = 64 * 1024;
const MIN_IDLE_TIMEOUT_MS = 31 * 60_000;
const DEFAULT_KEEPALIVE_MS = 2 * 60_000;

/** RFC 2177 3: `DONE` ends IDLE. In command mode it frames as a bare, tag-only line. */
function isDone(ev: FrameEvent): boolean {
  return ev.type === 'command' && ev.bytes.length === 4 && ev.bytes.toString('latin1').toUpperCase() === 'DONE';
}

export interface ConnectionHooks {
  /** The default certificate's context now (it may have been reloaded); null: no TLS. */
  secureContext(): tls.SecureContext | null;
  /** Certificate selection by SNI name, when offered. */
  SNICallback?: ImapTls['SNICallback'];
  onClose(): void;
}

export class Connection {
  private socket: net.Socket;
  /** Where responses go: the socket, or the deflate stream in front of it (RFC 4978). */
  private output: Writable;
  private readonly framer: Framer;
  private readonly deadline: LineDeadline | undefined;
  readonly session: Session;
  private readonly ctx: CommandContext;
  private readonly observer: SessionObserver | undefined;
  /** The tag of the command running, for counting its NO/BAD. */
  private runningTag: string | undefined;
  private busy = false;
  private closed = false;
  private idling = false;
  private shuttingDown = false;
  private waiter: ((ev: FrameEvent | null) => void) | null = null;
  private out: Buffer[] = [];
  private outBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private keepalive: NodeJS.Timeout | null = null;
  private idleChain: Promise<void> = Promise.resolve();
  /** During IDLE: pushes the changes now. */
  private idlePush: (() => void) | null = null;
  /** A NOTIFY event arrived while a command ran: push once it is done. */
  private notifyPending = false;
  private readonly onData = (chunk: Buffer): void => this.received(chunk);
  private readonly onError = (err: Error): void => this.options.logger.debug({ err: err.message, remote: this.session.remoteAddress }, 'imap socket error');
  private readonly onClosed = (): void => this.closedBySocket();

  constructor(
    socket: net.Socket,
    private readonly options: ImapOptions,
    private readonly hooks: ConnectionHooks,
    secure: boolean,
  ) {
    this.socket = socket;
    this.output = socket;
    const limits = options.limits;
    this.framer = new Framer({
      maxLineBytes: limits.maxLineBytes,
      maxLiteralBytes: limits.maxLiteralBytes,
      maxCommandBytes: limits.maxLiteralBytes + limits.maxLineBytes * 4,
    });
    this.session = new Session(options, { secure, remoteAddress: socket.remoteAddress ?? 'unknown' });
    this.deadline =
      limits.commandTimeoutMs === undefined
        ? undefined
        : new LineDeadline(
            limits.commandTimeoutMs,
            () => {
              this.observer?.hint('timeout');
              this.bye('Command not completed in time');
            },
            () => this.framer.readingLiteral,
          );
    this.ctx = { session: this.session, store: options.store, options, challenge: (data) => this.challenge(data) };
    const raw = socket;
    this.observer = options.sessions?.open('imap', {
      clientIp: this.session.remoteAddress,
      tls: socket instanceof tls.TLSSocket ? socket.getProtocol() : null,
      bytes: () => ({ in: raw.bytesRead, out: raw.bytesWritten }),
      onKill: () => this.bye('Session ended by the administrator'),
    });
    this.session.observer = this.observer;
    this.session.onMailboxChange = () => this.changed();
    this.session.notifyWake = () => this.changed();
  }

  /** The selected mailbox changed elsewhere, or a NOTIFY event was queued. */
  private changed(): void {
    if (this.idlePush) this.idlePush();
    else this.wakeNotify();
  }

  /** NOTIFY: pushes queued notifications now when no command runs, else once it finished. */
  private wakeNotify(): void {
    if (this.closed || !this.session.notifier) return;
    // Not between a command's `+` and its literal either: that command is under way.
    if (this.busy || this.framer.readingLiteral) {
      this.notifyPending = true;
      return;
    }
    this.busy = true;
    this.notifyPending = false;
    this.sendUpdates(this.session.background(this.ctx))
      .then(async (ok) => {
        if (ok) await this.flush();
      })
      .catch((err: unknown) => this.fail(err))
      .finally(() => {
        this.busy = false;
        // Input that arrived meanwhile waits in the framer.
        if (!this.closed) void this.pump();
      });
  }

  /** Sends the greeting (RFC 9051 7.1.1) and starts reading. */
  start(): void {
    this.attach(this.socket);
    this.touch();
    const caps = capabilities(this.session).join(' ');
    const greeting = untaggedStatus('OK', `${this.options.hostname} Steadymail IMAP ready`, `CAPABILITY ${caps}`);
    this.observer?.reply(() => greeting.toString('utf8'));
    this.socket.write(greeting);
  }

  /** Graceful shutdown: BYE now if waiting for the client, else after the running command. */
  shutdown(): void {
    this.shuttingDown = true;
    this.observer?.hint('shutdown');
    if (!this.busy || this.idling || this.waiter) this.bye('Server shutting down');
  }

  destroy(): void {
    this.socket.destroy();
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClosed);
  }

  private detach(socket: net.Socket): void {
    socket.off('data', this.onData);
    socket.off('close', this.onClosed);
  }

  private received(chunk: Buffer): void {
    if (this.closed) return;
    this.deadline?.feed(chunk);
    this.touch();
    this.framer.push(chunk);
    if (this.waiter) {
      const ev = this.framer.next();
      if (ev) {
        const w = this.waiter;
        this.waiter = null;
        w(ev);
      }
      return;
    }
    if (this.busy) this.socket.pause();
    else void this.pump();
  }

  private async pump(): Promise<void> {
    this.busy = true;
    try {
      while (!this.closed) {
        const ev = this.framer.next();
        if (!ev) break;
        await this.handle(ev);
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.busy = false;
      if (!this.closed) {
        if (this.shuttingDown) this.bye('Server shutting down');
        else {
          this.socket.resume();
          if (this.notifyPending) this.wakeNotify();
        }
      }
    }
  }

  private async handle(ev: FrameEvent): Promise<void> {
    switch (ev.type) {
      case 'command': {
        const parsed = tryParseCommand(ev.bytes, this.session.parserOptions());
        const obs = this.observer;
        if (obs) {
          const bytes = ev.bytes;
          obs.command(parsed.ok ? parsed.command.name : 'other', () => maskImap(bytes, obs.bodies));
          if (parsed.ok && parsed.command.name === 'ID') obs.setClientId(clientIdOf(parsed.command.params));
        }
        if (!parsed.ok) {
          await this.send(parseErrorResponse(parsed.error));
          await this.flush();
          return;
        }
        await this.run(parsed.command);
        return;
      }
      case 'literal-request': {
        // RFC 9051 7.5: refuse the literal of a command that cannot run in this state.
        const name = ev.command?.startsWith('UID ') && ev.command !== 'UID EXPUNGE' ? ev.command.slice(4) : ev.command;
        if (!this.session.allowsCommand(name)) {
          this.framer.refuseLiteral();
          const text = `${ev.command ?? 'Command'} not allowed now`;
          await this.send(ev.tag === undefined ? untaggedStatus('BAD', text) : tagged(ev.tag, 'BAD', text));
        } else {
          await this.send(continuation());
        }
        await this.flush();
        return;
      }
      case 'error':
        await this.send(parseErrorResponse(ev.error));
        await this.flush();
        return;
      default:
        // DONE or a SASL line outside IDLE/AUTHENTICATE cannot be framed as such.
        return;
    }
  }

  private async run(cmd: ImapCommand): Promise<void> {
    this.runningTag = cmd.tag;
    const gen = this.session.execute(cmd, this.ctx);
    let r = await gen.next();
    while (!r.done) {
      await this.send(r.value);
      if (this.closed) {
        // Stop the handler (and any blob stream it holds) instead of computing output nobody reads.
        await gen.return(undefined);
        return;
      }
      r = await gen.next();
    }
    await this.flush();
    const done = r.value;
    if (done?.after === 'starttls') this.startTls();
    else if (done?.after === 'compress') this.startCompress();
    else if (done?.after === 'logout') {
      this.observer?.hint('quit');
      this.end();
    }
    else if (done?.after === 'idle') await this.runIdle(cmd.tag);
  }

  private async send(buf: Buffer): Promise<void> {
    if (this.observer) this.observe(buf);
    this.out.push(buf);
    this.outBytes += buf.length;
    if (this.outBytes >= FLUSH_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.out.length === 0) return;
    const data = this.out.length === 1 ? (this.out[0] as Buffer) : Buffer.concat(this.out);
    this.out = [];
    this.outBytes = 0;
    if (this.closed) return;
    const ok = this.output.write(data);
    // RFC 4978 4: every response is flushed so the client can decompress it now.
    if (this.output instanceof zlib.DeflateRaw) this.output.flush(zlib.constants.Z_SYNC_FLUSH);
    if (ok) return;
    const socket = this.output;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
    this.touch();
  }

  /** The next framer event, read in `mode`; null when the connection closed. */
  private nextEvent(mode: FramerMode = 'command'): Promise<FrameEvent | null> {
    this.framer.setMode(mode);
    const ev = this.framer.next();
    if (ev) return Promise.resolve(ev);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.socket.resume();
    });
  }

  /** Counts a tagged NO/BAD of the running command (and an untagged BAD); traces the reply. */
  private observe(buf: Buffer): void {
    const obs = this.observer!;
    const head = buf.toString('latin1', 0, Math.min(buf.length, 64));
    const m = /^(\S+) (NO|BAD) /.exec(head);
    const error = m && (m[1] === '*' ? m[2] === 'BAD' : m[1] === this.runningTag) ? m[2] : undefined;
    obs.reply(() => clip(buf.toString('utf8')), error);
  }

  private async challenge(data: Buffer): Promise<Buffer> {
    await this.send(saslChallenge(data));
    await this.flush();
    const ev = await this.nextEvent('authenticate');
    this.observer?.clientLine(() => (ev?.type === 'auth-cancel' ? '*' : MASK));
    if (ev?.type === 'auth-response') return ev.response;
    if (ev?.type === 'auth-cancel') throw bad('Authentication cancelled');
    if (ev?.type === 'error') throw bad(ev.error.message);
    throw new ProtocolError('bad', 'Authentication exchange failed');
  }

  private async runIdle(tag: string): Promise<void> {
    this.idling = true;
    this.touch();
    const push = (): void => {
      this.idleChain = this.idleChain.then(() => this.pushUpdates()).catch((err: unknown) => this.fail(err));
    };
    this.idlePush = push;
    this.keepalive = setInterval(() => {
      this.idleChain = this.idleChain
        .then(async () => {
          await this.send(untaggedStatus('OK', 'Still here'));
          await this.flush();
        })
        .catch((err: unknown) => this.fail(err));
    }, this.options.limits.idleKeepaliveMs ?? DEFAULT_KEEPALIVE_MS);
    push(); // anything that changed between the IDLE command and now
    // The framer stays in command mode: `DONE` arrives as a one-word line, and a
    // client that sends a command instead of DONE (old Outlook) gets its IDLE
    // ended and the command run, rather than an error.
    const ev = await this.nextEvent();
    this.idling = false;
    this.idlePush = null;
    if (this.keepalive) clearInterval(this.keepalive);
    this.keepalive = null;
    await this.idleChain;
    this.touch();
    if (ev === null || this.closed) return;
    if (!(await this.sendUpdates(this.session.updates(true, this.ctx)))) return;
    await this.send(tagged(tag, 'OK', 'IDLE terminated'));
    await this.flush();
    if (!isDone(ev)) await this.handle(ev);
  }

  private async pushUpdates(): Promise<void> {
    if (!this.idling || this.closed) return;
    if (await this.sendUpdates(this.session.updates(true, this.ctx))) await this.flush();
  }

  /** Queues pending changes; false when the session had to end (selected mailbox deleted). */
  private async sendUpdates(updates: AsyncGenerator<Buffer, void, undefined>): Promise<boolean> {
    try {
      for await (const b of updates) await this.send(b);
      return true;
    } catch (err) {
      if (!(err instanceof ProtocolError) || err.kind !== 'bye') throw err;
      await this.flush();
      this.bye(err.message);
      return false;
    }
  }

  private startTls(): void {
    const secureContext = this.hooks.secureContext();
    if (!secureContext || this.closed) return;
    // Bytes sent before the handshake never run as commands.
    this.framer.takeBuffered();
    const raw = this.socket;
    this.detach(raw);
    const sni = this.hooks.SNICallback;
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext, ...(sni ? { SNICallback: sni } : {}) });
    secure.on('close', () => raw.destroy());
    this.session.secure = true;
    secure.once('secure', () => this.observer?.setTls(secure.getProtocol()));
    this.attach(secure);
    this.output = secure;
  }

  /** RFC 4978 COMPRESS=DEFLATE: both directions raw deflate from the byte after the tagged OK. */
  private startCompress(): void {
    if (this.closed) return;
    const pending = this.framer.takeBuffered();
    const socket = this.socket;
    const inflate = zlib.createInflateRaw();
    const deflate = zlib.createDeflateRaw();
    const onError = (err: Error): void => {
      this.options.logger.debug({ err: err.message, remote: this.session.remoteAddress }, 'imap compression error');
      socket.destroy();
    };
    inflate.on('error', onError);
    deflate.on('error', onError);
    socket.off('data', this.onData);
    socket.on('data', (chunk: Buffer) => inflate.write(chunk));
    inflate.on('data', this.onData);
    deflate.pipe(socket);
    this.output = deflate;
    this.session.compressed = true;
    if (pending.length > 0) inflate.write(pending);
  }

  /** (Re)arms the inactivity timer (RFC 9051 5.4 autologout). */
  private touch(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.closed) return;
    const base = this.options.limits.idleTimeoutMs;
    const ms = this.idling ? Math.max(base, MIN_IDLE_TIMEOUT_MS) : base;
    this.timer = setTimeout(() => {
      this.observer?.hint('timeout');
      this.bye('Autologout; idle for too long');
    }, ms);
  }

  private bye(text: string): void {
    if (this.closed) return;
    this.out = [];
    this.observer?.reply(() => `* BYE ${text}`);
    this.output.write(untaggedStatus('BYE', text));
    this.end();
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    this.output.end();
    // A client that never reads must not keep the socket forever.
    setTimeout(() => this.socket.destroy(), 5000).unref();
    this.cleanup();
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    this.options.logger.error({ err: err instanceof Error ? (err.stack ?? err.message) : String(err), remote: this.session.remoteAddress }, 'imap session failed');
    this.observer?.hint('error');
    this.bye('Internal server error, closing connection');
  }

  private closedBySocket(): void {
    this.closed = true;
    this.cleanup();
    this.hooks.onClose();
  }

  private cleanupDone = false;

  private cleanup(): void {
    this.deadline?.stop();
    if (this.timer) clearTimeout(this.timer);
    if (this.keepalive) clearInterval(this.keepalive);
    this.timer = null;
    this.keepalive = null;
    const w = this.waiter;
    this.waiter = null;
    w?.(null);
    if (this.cleanupDone) return;
    this.cleanupDone = true;
    this.session.close();
    this.observer?.end('dropped');
  }
}

/** RFC 2971: the client's "name" and "version" from an ID command, or its other fields. */
function clientIdOf(params: Array<[string, string | null]> | null): string {
  if (!params) return 'NIL';
  const field = (key: string) => params.find(([k]) => k.toLowerCase() === key)?.[1] ?? undefined;
  const name = field('name');
  if (name) return [name, field('version')].filter(Boolean).join(' ');
  return params.map(([k, v]) => `${k}=${v ?? 'NIL'}`).join(' ');
}
