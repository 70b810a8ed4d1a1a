// Listening sockets for IMAP (port 143 style, with STARTTLS) and IMAPS
// (implicit TLS, RFC 8314), the per-IP connection limit, graceful close.

import net from 'node:net';
import tls from 'node:tls';
import { Connection } from './connection.js';
import type { ImapOptions, ImapTls } from './options.js';
import { untaggedStatus } from './respond.js';
import { ConnectionsPerIp } from '../net/per-ip.js';

export interface ImapServer {
  listen(host: string, port: number): Promise<{ address: string; port: number }>;
  /** Stops accepting, says BYE to every session, and destroys what is left after graceMs. */
  close(graceMs: number): Promise<void>;
  connections(): number;
}

export function createImapServer(opts: ImapOptions): ImapServer {
  if (opts.implicitTls && !opts.tls) throw new Error('implicitTls needs tls key and cert');
  const material = opts.tls;
  const contextOptions = (m: ImapTls): tls.SecureContextOptions => ({
    key: m.key,
    cert: m.cert,
    minVersion: m.minVersion ?? 'TLSv1.2',
    ...(m.ciphers ? { ciphers: m.ciphers } : {}),
  });
  let secureContext = material ? tls.createSecureContext(contextOptions(material)) : null;
  const open = new Set<Connection>();
  const perIp = new ConnectionsPerIp(opts.limits.maxConnectionsPerIp);
  let closing = false;

  const accept = (socket: net.Socket, secure: boolean): void => {
    const ip = socket.remoteAddress ?? 'unknown';
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    if (closing || !perIp.tryOpen(ip)) {
      socket.end(untaggedStatus('BYE', closing ? 'Server shutting down' : 'Too many connections from your address'));
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    const conn = new Connection(socket, opts, {
      secureContext: () => secureContext,
      ...(material?.SNICallback ? { SNICallback: material.SNICallback } : {}),
      onClose: () => {
        open.delete(conn);
        perIp.close(ip);
      },
    }, secure);
    open.add(conn);
    conn.start();
  };

  const server: net.Server = opts.implicitTls && material
    ? tls.createServer(
        { ...contextOptions(material), ...(material.SNICallback ? { SNICallback: material.SNICallback } : {}) },
        (socket) => accept(socket, true),
      )
    : net.createServer((socket) => accept(socket, false));
  server.on('tlsClientError', (err: Error) => opts.logger.debug({ err: err.message }, 'imaps handshake failed'));
  // A reloaded default certificate is used from the next handshake on.
  const stopWatchingTls = material?.onDefaultChange?.(() => {
    try {
      secureContext = tls.createSecureContext(contextOptions(material));
      if (server instanceof tls.Server) server.setSecureContext(contextOptions(material));
    } catch (err) {
      opts.logger.error({ err }, 'cannot use the reloaded TLS certificate; keeping the previous one');
    }
  });

  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address() as net.AddressInfo;
          resolve({ address: addr.address, port: addr.port });
        });
      });
    },
    async close(graceMs) {
      closing = true;
      stopWatchingTls?.();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of open) c.shutdown();
      const deadline = Date.now() + graceMs;
      while (open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const c of open) c.destroy();
      await stopped;
    },
    connections: () => open.size,
  };
}
