// What a protocol server implements to be started by server.ts. Kept apart from
// server.ts so that importing the shape does not load every protocol.
import { formatAddress, type Config, type ListenAddress, type ListenerName } from './config/index.js';
import type { HttpFeature } from './http/app.js';
import type { Logger } from './log.js';
import { searchTextExtractor } from './mime/search-text.js';
import type { SearchTextExtractor } from './store/types.js';
import type { Store } from './store/store.js';
import type { FilterService } from './filter/index.js';
import type { MessageCounters } from './monitor/counters.js';
import type { ServerCertificate } from './tls/index.js';
import type { CertificateStore } from './tls/cert-store.js';
import type { SessionRecorder } from './sessions/recorder.js';

export interface Listener {
  readonly name: ListenerName;
  /** Binds and starts accepting; resolves with the address actually bound (port 0 → the real port). */
  start(): Promise<ListenAddress>;
  /** Stops accepting at once; in-flight work may finish within graceMs, then is cut off. */
  stop(graceMs: number): Promise<void>;
  /** Open client connections, for metrics; undefined when the server does not count them. */
  connections?(): number | undefined;
}

export interface ServerContext {
  config: Config;
  logger: Logger;
  store: Store;
  /** The certificate loaded at start (the default then). */
  certificate: ServerCertificate;
  /** Every certificate, chosen by SNI and reloaded; what TLS listeners use. */
  certificates: CertificateStore;
  /** Extra routes for the HTTP listener (the monitor's). */
  httpFeatures?: HttpFeature[];
  /** The addresses listeners bound so far (port 0 → the real port). */
  boundAddresses?: () => ReadonlyMap<ListenerName, ListenAddress>;
  /** Inbound spam/virus filtering and Junk learning ([filter]); absent when disabled. */
  filter?: FilterService;
  /** Session history, traces and protocol counters shared by every listener of the process. */
  sessions?: SessionRecorder;
  /** Message and outbound delivery figures of this process, for /metrics. */
  counters?: MessageCounters;
}

/** A listener could not bind its address (in use, not permitted, no such address). */
export class ListenError extends Error {
  readonly listener: ListenerName;
  constructor(listener: ListenerName, address: ListenAddress, cause: unknown) {
    super(`cannot listen for ${listener} on ${formatAddress(address)}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ListenError';
    this.listener = listener;
  }
}

/** The options openStore() takes, from the configuration (with the search index's text extractor). */
export function storeOptions(
  config: Config,
): ({ driver: 'sqlite'; dataDir: string; inlineBlobMax: number } | { driver: 'postgres'; url: string; dataDir: string }) & { searchText: SearchTextExtractor } {
  return config.store.driver === 'postgres'
    ? { driver: 'postgres', url: config.store.url, dataDir: config.dataDir, searchText: searchTextExtractor }
    : { driver: 'sqlite', dataDir: config.dataDir, inlineBlobMax: config.store.inlineBlobMax, searchText: searchTextExtractor };
}
