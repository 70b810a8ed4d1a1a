// The ManageSieve server (RFC 5804): users upload, check and activate their
// Sieve scripts. Everything comes in by injection; listeners.ts wires it to the
// configuration.

import { ManageSieveListener, type ListenerConfig } from './server.js';

export type ManageSieveOptions = Omit<ListenerConfig, 'tlsAvailable'>;

export interface ManageSieveServer {
  listen(host: string, port: number): Promise<{ address: string; port: number }>;
  close(graceMs: number): Promise<void>;
  connections(): number;
}

export function createManageSieveServer(opts: ManageSieveOptions): ManageSieveServer {
  const listener = new ManageSieveListener({ ...opts, tlsAvailable: opts.tls !== undefined });
  return {
    listen: (host, port) => listener.listen(host, port),
    close: (graceMs) => listener.close(graceMs),
    connections: () => listener.connections(),
  };
}
