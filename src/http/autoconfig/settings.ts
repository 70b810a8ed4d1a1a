// What a mail client must be told, derived from the live configuration: which of
// our client listeners run, on which host and port clients reach them, and how TLS
// starts there. Thunderbird autoconfig, Outlook Autodiscover and the Apple profile
// all render this one list, so they cannot disagree.
//
// Rules:
// - A listener set to `off` is not announced; neither is one whose published port
//   is `off` ([autoconfig] <listener>_port).
// - The port is the published one ([autoconfig] <listener>_port, for NAT or port
//   mapping), else the port actually bound (port 0 in tests), else the configured one.
// - imaps, pop3s and submissions are implicit TLS (RFC 8314); imap, pop3 and
//   submission always offer STARTTLS (every listener has a certificate), and clients
//   are told to use it: plaintext is never announced.
// - The login is always the full address; the password is sent inside TLS only.
// - Preference: implicit TLS before STARTTLS (RFC 8314 3.3, 4.1), IMAP before POP3.

import { PUBLISHED_LISTENERS, type Config, type ListenAddress, type ListenerName, type PublishedListener } from '../../config/index.js';

export type Protocol = 'imap' | 'pop3' | 'smtp';
export type Security = 'tls' | 'starttls';

export interface ServerSetting {
  listener: PublishedListener;
  protocol: Protocol;
  host: string;
  port: number;
  security: Security;
}

export interface ClientSettings {
  /** The domain of the address being configured (A-label form). */
  domain: string;
  displayName: string;
  /** Preferred first. */
  incoming: ServerSetting[];
  outgoing: ServerSetting[];
}

const KIND: Record<PublishedListener, { protocol: Protocol; security: Security }> = {
  imaps: { protocol: 'imap', security: 'tls' },
  imap: { protocol: 'imap', security: 'starttls' },
  pop3s: { protocol: 'pop3', security: 'tls' },
  pop3: { protocol: 'pop3', security: 'starttls' },
  submissions: { protocol: 'smtp', security: 'tls' },
  submission: { protocol: 'smtp', security: 'starttls' },
};

/** The addresses listeners actually bound, when the server has started them. */
export type BoundAddresses = () => ReadonlyMap<ListenerName, ListenAddress>;

/** The host name clients connect to. */
export function publicHost(config: Config): string {
  return config.autoconfig.host ?? config.hostname;
}

/** The settings announced for mail addresses of `domain`. */
export function clientSettings(config: Config, domain: string, bound?: BoundAddresses): ClientSettings {
  const host = publicHost(config);
  const addresses = bound?.();
  const servers: ServerSetting[] = [];
  for (const listener of PUBLISHED_LISTENERS) {
    const configured = config.listen[listener];
    const published = config.autoconfig.ports[listener];
    if (configured === null || published === 'off') continue;
    const port = published ?? addresses?.get(listener)?.port ?? configured.port;
    // Port 0 not yet bound: nothing a client could connect to.
    if (port === 0) continue;
    servers.push({ listener, host, port, ...KIND[listener] });
  }
  return {
    domain,
    displayName: config.autoconfig.displayName ?? domain,
    incoming: servers.filter((s) => s.protocol !== 'smtp'),
    outgoing: servers.filter((s) => s.protocol === 'smtp'),
  };
}
