// POP3 listener: plain (with STLS) or implicit TLS (pop3s), the per-address
// connection limit and graceful shutdown. Each client is a Connection
// (connection.ts), which feeds lines to the session and sends the replies.
//
// Rules (of this file and connection.ts):
// - Commands are handled one at a time in arrival order, so pipelined
//   commands (RFC 2449 6.6) get their replies in order.
// - After STLS, bytes the client pipelined before the handshake are thrown
//   away (RFC 2595 4; the STARTTLS command-injection attack, CVE-2011-0411).
// - The idle timer (RFC 1939 3) runs only while we wait for a command; while
//   we send, a client that keeps reading, however slowly, is never cut off;
//   one that stops reading for the idle period is.
// - Message bodies stream from the blob with backpressure; a socket is never
//   written while corked and waiting for drain.
// - An unexpected exception ends that one connection with a logged error.

import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { Connection } from './connection.js';
import type { SessionConfig } from './session.js';
import { ConnectionsPerIp } from '../net/per-ip.js';

/**
 * The certificate: key/cert is the default (clients without SNI); SNICallback, when
 * given, chooses by the requested name; onDefaultChange reports a reloaded default.
 */
export interface Pop3Tls {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  SNICallback?: (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => void;
  onDefaultChange?: (listener: () => void) => () => void;
  /** Legacy clients (tls.legacy_versions_on): the lowest version and the cipher list. */
  minVersion?: tls.SecureVersion;
  ciphers?: string;
}

/** The context options of the default certificate, with the listener's version range. */
function contextOptions(material: Pop3Tls): tls.SecureContextOptions {
  return {
    key: material.key,
    cert: material.cert,
    ...(material.minVersion ? { minVersion: material.minVersion } : {}),
    ...(material.ciphers ? { ciphers: material.ciphers } : {}),
  };
}

export interface ServerConfig extends SessionConfig {
  tls?: Pop3Tls;
  implicitTls: boolean;
  idleTimeoutMs: number;
  commandTimeoutMs?: number;
  maxLineBytes: number;
  maxConnectionsPerIp: number;
}


export class Pop3Listener {
  private readonly server: net.Server;
  private readonly conns = new Set<Connection>();
  private readonly perIp: ConnectionsPerIp;
  private secureContext: tls.SecureContext | undefined;
  private readonly stopWatchingTls: (() => void) | undefined;
  closing = false;

  constructor(readonly config: ServerConfig) {
    this.perIp = new ConnectionsPerIp(config.maxConnectionsPerIp);
    const material = config.tls;
    if (material) this.secureContext = tls.createSecureContext(contextOptions(material));
    const sni = material?.SNICallback ? { SNICallback: material.SNICallback } : {};
    if (config.implicitTls) {
      if (!material) throw new Error('POP3S (implicit TLS) needs a certificate and key');
      const server = tls.createServer({ ...contextOptions(material), ...sni });
      server.on('secureConnection', (socket: tls.TLSSocket) => this.accept(socket, true));
      server.on('tlsClientError', (err, socket) => {
        config.logger.debug({ err, remote: socket.remoteAddress }, 'POP3S handshake failed');
        socket.destroy();
      });
      this.server = server;
    } else {
      this.server = net.createServer((socket) => this.accept(socket, false));
    }
    this.server.on('error', (err) => config.logger.error({ err }, 'POP3 listener error'));
    // A reloaded default certificate is used from the next handshake on.
    this.stopWatchingTls = material?.onDefaultChange?.(() => {
      try {
        this.secureContext = tls.createSecureContext(contextOptions(material));
        if (this.server instanceof tls.Server) this.server.setSecureContext(contextOptions(material));
      } catch (err) {
        config.logger.error({ err }, 'cannot use the reloaded TLS certificate; keeping the previous one');
      }
    });
  }

  get tlsContext(): tls.SecureContext | undefined {
    return this.secureContext;
  }

  /** SNI selection for STLS, when the certificate store offers it. */
  get sniCallback(): Pop3Tls['SNICallback'] {
    return this.config.tls?.SNICallback;
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

  /** Stops accepting; idle sessions are told and closed, busy ones get `graceMs` to finish. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    this.stopWatchingTls?.();
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

  private accept(socket: net.Socket, secure: boolean): void {
    const ip = socket.remoteAddress ?? 'unknown';
    socket.on('error', (err) => this.config.logger.debug({ err, remote: ip }, 'POP3 socket error'));
    if (this.closing) {
      socket.end('-ERR [SYS/TEMP] Server shutting down\r\n');
      return;
    }
    if (!this.perIp.tryOpen(ip)) {
      // RFC 3206 4: a temporary condition; the client should retry later.
      socket.end('-ERR [SYS/TEMP] Too many connections from your address\r\n');
      return;
    }
    // Replies are batched with cork/uncork; Nagle would hold back the last
    // small segment of each reply for the client's delayed ACK (~40 ms).
    socket.setNoDelay(true);
    const conn = new Connection(this, socket, ip, secure);
    this.conns.add(conn);
    void conn.done.then(() => {
      this.conns.delete(conn);
      this.perIp.close(ip);
    });
    conn.start();
  }
}
