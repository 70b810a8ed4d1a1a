// Loads steadymail.toml, applies STEADYMAIL_* environment overrides and validates the
// result. Precedence: environment > file > built-in default. Anything unknown or
// malformed stops start-up with a ConfigError naming the key and what it accepts.
import { existsSync, readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { parse as parseToml } from 'smol-toml';
import type { z } from 'zod';
import { parseDnsServer, parseListen, type ListenAddress } from './listen.js';
import { fileSchema, KEYS, keysOf, LISTENER_NAMES, SECTIONS, type EnvKind, type ListenerName } from './schema.js';

export { LISTENER_NAMES, type ListenerName } from './schema.js';
export { formatAddress, type ListenAddress } from './listen.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  hostname: string;
  /** Absolute path. */
  dataDir: string;
  server: { workers: number; shutdownGraceSeconds: number };
  /** null = `off`. */
  listen: Record<ListenerName, ListenAddress | null>;
  store: { driver: 'sqlite'; url: null } | { driver: 'postgres'; url: string };
  limits: {
    maxMessageBytes: number;
    maxLineBytes: number;
    maxLiteralBytes: number;
    maxConnectionsPerIp: number;
    idleTimeoutSeconds: number;
    commandTimeoutSeconds: number;
    authFailuresBeforeDelay: number;
  };
  /** Both null: use (or generate) the self-signed certificate in dataDir/tls/. */
  tls: { cert: string | null; key: string | null };
  auth: { allowPlaintextWithoutTls: boolean };
  smtp: {
    maxRecipients: number;
    maxReceivedHeaders: number;
    /** 0: no limit. */
    maxConnectionsPerIpPerMinute: number;
    dmarcReject: boolean;
    copyToSent: boolean;
    /** Where postmaster@ of every hosted domain goes; null: the first account of that domain is not assumed. */
    postmaster: string | null;
  };
  pop3: { markSeen: boolean; loginDelaySeconds: number };
  /** Self-monitoring; probe.account null: no login or round-trip probes. */
  monitor: { probeIntervalSeconds: number; probe: { account: string; password: string } | null };
  /** Empty: the system resolvers. */
  dns: { servers: ListenAddress[] };
  outbound: {
    enabled: boolean;
    /** Smarthost: all outbound mail goes there. */
    relay: { host: string; port: number; auth: { user: string; pass: string } | null; requireTls: boolean } | null;
    /** Port of remote MX hosts. */
    port: number;
    maxAgeHours: number;
    concurrency: number;
    maxPerDestination: number;
    dkimSelector: string;
  };
  log: { level: LogLevel };
  /** The webmail API (docs/webmail.md). */
  webmail: {
    enabled: boolean;
    /** A session ends after this many hours without a request. */
    sessionHours: number;
    /** Mark the session cookie Secure even on plain HTTP (TLS ends at a proxy in front). */
    secureCookies: boolean;
    maxUploadBytes: number;
    /** Text or HTML of one message shown at most; the rest is cut with a notice. */
    maxDisplayBytes: number;
    /** A body search reads at most this many messages. */
    searchMaxScanned: number;
    /**
     * Reverse proxies (IPs or CIDR ranges) whose X-Forwarded-For / -Proto the HTTP
     * listener believes: the client address for throttling, and TLS for the cookie.
     */
    trustedProxies: string[];
  };
  /** The file the configuration was read from, or null when only defaults and environment apply. */
  file: string | null;
}

export class ConfigError extends Error {
  /** `section.key` as written in the file (`listen.imap`), or the file itself. */
  readonly key: string;
  /** Where the bad value came from: a file path or an environment variable. */
  readonly source: string;
  constructor(key: string, source: string, message: string, options?: { cause?: unknown }) {
    super(`configuration error: ${key} (${source}): ${message}`, options);
    this.name = 'ConfigError';
    this.key = key;
    this.source = source;
  }
}

export interface LoadConfigOptions {
  /** From --config; an explicit path that does not exist is an error. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

type Table = Record<string, unknown>;

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readFile(path: string): Table {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('--config', path, `cannot read the file: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseToml(text);
  } catch (err) {
    throw new ConfigError('file', path, `not valid TOML: ${(err as Error).message}`, { cause: err });
  }
}

function envValue(kind: EnvKind, text: string): unknown {
  switch (kind) {
    case 'string':
      return text;
    case 'integer':
      return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text;
    case 'boolean':
      return text === 'true' || text === '1' ? true : text === 'false' || text === '0' ? false : text;
    case 'list':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
  }
}

/**
 * STEADYMAIL_LISTEN_IMAP → listen.imap, STEADYMAIL_DATA_DIR → data_dir. A variable whose
 * first word names a known section but no known key is an error (a typo must not be
 * ignored); other STEADYMAIL_* variables (tools, tests) are left alone.
 */
function envOverrides(env: NodeJS.ProcessEnv): { values: Table; sources: Map<string, string> } {
  const values: Table = {};
  const sources = new Map<string, string>();
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith('STEADYMAIL_') || text === undefined) continue;
    const rest = name.slice('STEADYMAIL_'.length).toLowerCase();
    let key: string | undefined;
    if (KEYS[rest] !== undefined && !rest.includes('.')) key = rest;
    const section = SECTIONS.find((s) => rest.startsWith(`${s}_`));
    if (key === undefined && section !== undefined) {
      key = `${section}.${rest.slice(section.length + 1)}`;
      if (KEYS[key] === undefined) {
        throw new ConfigError(key, name, `unknown key; [${section}] allows: ${keysOf(section).join(', ')}`);
      }
    }
    if (key === undefined) continue;
    const kind = KEYS[key] ?? 'string';
    sources.set(key, name);
    const [head, tail] = key.split('.') as [string, string | undefined];
    if (tail === undefined) {
      values[head] = envValue(kind, text);
    } else {
      const table = isTable(values[head]) ? values[head] : {};
      table[tail] = envValue(kind, text);
      values[head] = table;
    }
  }
  return { values, sources };
}

function merge(file: Table, env: Table): Table {
  const out: Table = { ...file };
  for (const [k, v] of Object.entries(env)) {
    const existing = out[k];
    out[k] = isTable(v) && isTable(existing) ? { ...existing, ...v } : v;
  }
  return out;
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function toConfigError(error: z.ZodError, input: Table, sourceOf: (key: string) => string): ConfigError {
  const issue = error.issues[0];
  if (!issue) return new ConfigError('?', 'config', error.message);
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const section = path.map(String).join('.');
    const key = [section, issue.keys[0] ?? ''].filter((s) => s !== '').join('.');
    const where = section === '' ? 'the top level' : `[${section}]`;
    return new ConfigError(key, sourceOf(key), `unknown key; ${where} allows: ${keysOf(section).join(', ')}`);
  }
  const key = path.map(String).join('.');
  let value: unknown = input;
  for (const p of path) value = isTable(value) || Array.isArray(value) ? (value as Table)[p] : undefined;
  const got = value === undefined ? '' : ` (got ${describe(value)})`;
  let message = issue.message;
  if (issue.code === 'invalid_value' && 'values' in issue) message = `must be one of ${issue.values.map(describe).join(', ')}`;
  if (issue.code === 'invalid_type') message = `expected ${issue.expected}`;
  if (issue.code === 'too_small' && 'minimum' in issue) message = `must be at least ${String(issue.minimum)}`;
  return new ConfigError(key, sourceOf(key), `${message}${got}`);
}

/** Finds, reads, merges and validates the configuration. Throws ConfigError. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  let file: string | null = null;
  if (options.path !== undefined) {
    file = resolve(cwd, options.path);
    if (!existsSync(file)) throw new ConfigError('--config', file, 'the file does not exist');
  } else if (existsSync(resolve(cwd, 'steadymail.toml'))) {
    file = resolve(cwd, 'steadymail.toml');
  }
  const fromFile = file === null ? {} : readFile(file);
  const { values, sources } = envOverrides(env);
  const input = merge(fromFile, values);
  const sourceOf = (key: string): string => {
    for (let k = key; k !== ''; k = k.includes('.') ? k.slice(0, k.lastIndexOf('.')) : '') {
      const s = sources.get(k);
      if (s !== undefined) return s;
    }
    return file ?? 'built-in default';
  };

  const result = fileSchema.safeParse(input);
  if (!result.success) throw toConfigError(result.error, input, sourceOf);
  const raw = result.data;

  const listen = Object.fromEntries(LISTENER_NAMES.map((n) => [n, parseListen(raw.listen[n]) ?? null])) as Config['listen'];
  const store: Config['store'] =
    raw.store.driver === 'postgres' ? { driver: 'postgres', url: raw.store.url ?? '' } : { driver: 'sqlite', url: null };
  return {
    hostname: raw.hostname ?? osHostname(),
    dataDir: resolve(cwd, raw.data_dir),
    server: { workers: raw.server.workers, shutdownGraceSeconds: raw.server.shutdown_grace_seconds },
    listen,
    store,
    limits: {
      maxMessageBytes: raw.limits.max_message_bytes,
      maxLineBytes: raw.limits.max_line_bytes,
      maxLiteralBytes: raw.limits.max_literal_bytes ?? raw.limits.max_message_bytes,
      maxConnectionsPerIp: raw.limits.max_connections_per_ip,
      idleTimeoutSeconds: raw.limits.idle_timeout_seconds,
      commandTimeoutSeconds: raw.limits.command_timeout_seconds,
      authFailuresBeforeDelay: raw.limits.auth_failures_before_delay,
    },
    tls: {
      cert: raw.tls.cert === undefined ? null : resolve(cwd, raw.tls.cert),
      key: raw.tls.key === undefined ? null : resolve(cwd, raw.tls.key),
    },
    auth: { allowPlaintextWithoutTls: raw.auth.allow_plaintext_without_tls },
    smtp: {
      maxRecipients: raw.smtp.max_recipients,
      maxReceivedHeaders: raw.smtp.max_received_headers,
      maxConnectionsPerIpPerMinute: raw.smtp.max_connections_per_ip_per_minute,
      dmarcReject: raw.smtp.dmarc_reject,
      copyToSent: raw.smtp.copy_to_sent,
      postmaster: raw.smtp.postmaster ?? null,
    },
    pop3: { markSeen: raw.pop3.mark_seen, loginDelaySeconds: raw.pop3.login_delay_seconds },
    monitor: {
      probeIntervalSeconds: raw.monitor.probe_interval_seconds,
      probe:
        raw.monitor.probe_account !== undefined && raw.monitor.probe_password !== undefined
          ? { account: raw.monitor.probe_account, password: raw.monitor.probe_password }
          : null,
    },
    dns: { servers: raw.dns.servers.map((s) => parseDnsServer(s)).filter((s): s is ListenAddress => s !== undefined) },
    outbound: {
      enabled: raw.outbound.enabled,
      relay: relayOf(raw.outbound),
      port: raw.outbound.port,
      maxAgeHours: raw.outbound.max_age_hours,
      concurrency: raw.outbound.concurrency,
      maxPerDestination: raw.outbound.max_per_destination,
      dkimSelector: raw.outbound.dkim_selector,
    },
    log: { level: raw.log.level },
    webmail: {
      enabled: raw.webmail.enabled,
      sessionHours: raw.webmail.session_hours,
      secureCookies: raw.webmail.secure_cookies,
      maxUploadBytes: raw.webmail.max_upload_bytes,
      maxDisplayBytes: raw.webmail.max_display_bytes,
      searchMaxScanned: raw.webmail.search_max_scanned,
      trustedProxies: raw.webmail.trusted_proxies,
    },
    file,
  };
}

function relayOf(o: z.output<typeof fileSchema>['outbound']): Config['outbound']['relay'] {
  const address = o.relay === undefined ? undefined : parseListen(o.relay);
  if (!address) return null;
  const auth = o.relay_user !== undefined && o.relay_password !== undefined ? { user: o.relay_user, pass: o.relay_password } : null;
  return { host: address.host, port: address.port, auth, requireTls: o.relay_require_tls };
}

function isLoopback(address: string): boolean {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1';
}

/**
 * Whether a password may be sent over this connection: always over TLS, always from
 * loopback (local webmail, tests, monitoring), otherwise only when the operator allows it.
 */
export function plaintextAllowed(config: Pick<Config, 'auth'>, remoteAddress: string | undefined, secure: boolean): boolean {
  if (secure) return true;
  if (remoteAddress !== undefined && isLoopback(remoteAddress)) return true;
  return config.auth.allowPlaintextWithoutTls;
}
