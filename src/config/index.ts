// Loads steadymail.toml, applies STEADYMAIL_* environment overrides and validates the
// result. Precedence: environment > file > built-in default. Anything unknown or
// malformed stops start-up with a ConfigError naming the key and what it accepts.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, hostname as osHostname } from 'node:os';
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { parse as parseToml } from 'smol-toml';
import type { z } from 'zod';
import { parseDnsServer, parseListen, type ListenAddress } from './listen.js';
import { fileSchema, KEYS, keysOf, LISTENER_NAMES, PUBLISHED_LISTENERS, SECTIONS, type EnvKind, type ListenerName, type PublishedListener } from './schema.js';

export { LISTENER_NAMES, PUBLISHED_LISTENERS, type ListenerName, type PublishedListener } from './schema.js';
export { formatAddress, type ListenAddress } from './listen.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  hostname: string;
  /** Absolute path. */
  dataDir: string;
  server: { workers: number; shutdownGraceSeconds: number };
  /** null = `off`. */
  listen: Record<ListenerName, ListenAddress | null>;
  /** inlineBlobMax: SQLite only, bodies of at most this many bytes are kept in the database. */
  store: { driver: 'sqlite'; url: null; inlineBlobMax: number } | { driver: 'postgres'; url: string; inlineBlobMax: number };
  limits: {
    maxMessageBytes: number;
    maxLineBytes: number;
    maxLiteralBytes: number;
    maxConnectionsPerIp: number;
    idleTimeoutSeconds: number;
    commandTimeoutSeconds: number;
    authFailuresBeforeDelay: number;
    mimeMaxParts: number;
    mimeMaxDepth: number;
    mimeMaxHeaderBytes: number;
    /** RFC 5464 METADATA limits. */
    imapMetadataMaxEntryBytes: number;
    imapMetadataMaxEntries: number;
    imapNotifyMaxPending: number;
  };
  /** Both null: use (or generate) the self-signed certificate in dataDir/tls/. */
  tls: {
    cert: string | null;
    key: string | null;
    /** Scanned for certificate/key pairs (docs/tls.md); null: none. */
    certsDir: string | null;
    /** Absolute paths; `key` equal to `cert` for a file holding both. */
    extraCerts: Array<{ cert: string; key: string }>;
    /** 0: only fs.watch and SIGHUP. */
    reloadIntervalSeconds: number;
    expiryWarningDays: number;
    /** Listeners that also accept TLS 1.0 and 1.1 (docs/tls.md: the risk). */
    legacyVersionsOn: ListenerName[];
  };
  auth: {
    allowPlaintextWithoutTls: boolean;
    maxFailuresPerIp: number;
    maxFailuresPerAccount: number;
    failureWindowSeconds: number;
    maxFailureDelayMs: number;
  };
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
  monitor: {
    probeIntervalSeconds: number;
    probe: { account: string; password: string } | null;
    /** This node's name in the shared probe history (default: the OS host name). */
    nodeName: string;
    probeHistoryDays: number;
    uptimeDays: number;
    alertWebhook: string | null;
    alertEmail: string | null;
    alertAfterSeconds: number;
    alertMinIntervalSeconds: number;
    /** 0: no automatic incidents. */
    autoIncidentMinutes: number;
    /** Addresses told by email about every incident update. */
    subscribers: string[];
    /** Deliveries tried per alert (network errors and 5xx answers are retried with backoff). */
    alertWebhookAttempts: number;
    /** The first retry's delay; each next one waits twice as long. */
    alertWebhookRetrySeconds: number;
  };
  /** Session history and protocol traces (src/sessions). */
  sessions: {
    historyDays: number;
    historyMaxPerAccount: number;
    traceDefaultMinutes: number;
    traceMaxBytes: number;
    traceTotalMaxBytes: number;
    /** How long a trace's lines stay readable after it ended. */
    traceKeepHours: number;
  };
  /** The SNMP agent on listen.snmp; it runs only with a community or a v3 user. */
  snmp: { community: string | null; v3: { user: string; authPassword: string; privPassword: string | null } | null };
  /** Empty: the system resolvers. */
  dns: { servers: ListenAddress[] };
  outbound: {
    enabled: boolean;
    /** Smarthost: all outbound mail goes there. */
    relay: { host: string; port: number; auth: { user: string; pass: string } | null; requireTls: boolean } | null;
    /** Port of remote MX hosts. */
    port: number;
    maxAgeHours: number;
    leaseSeconds: number;
    concurrency: number;
    maxPerDestination: number;
    dkimSelector: string;
    /** Extra trusted CA certificates (PEM file) for verified outbound TLS and MTA-STS fetches. */
    tlsCaFile: string | null;
    idleConnectionSeconds: number;
    maxMessagesPerConnection: number;
    /** MTA-STS (RFC 8461); null: not applied. */
    mtaSts: { port: number; timeoutSeconds: number; maxPolicyBytes: number } | null;
  };
  /** Sieve filtering and ManageSieve limits. */
  sieve: {
    maxScriptBytes: number;
    maxScripts: number;
    maxActions: number;
    maxRedirects: number;
    maxExecutionMs: number;
    vacationMinDays: number;
    vacationMaxDays: number;
    vacationDefaultDays: number;
    /** null: the secret kept in data_dir/srs.secret. */
    srsSecret: string | null;
  };
  log: { level: LogLevel };
  /** Inbound filtering (src/filter, docs/filtering.md). */
  filter: FilterConfig;
  /** Certificates from an ACME CA (RFC 8555) for `names` and `domainNames` applied to every hosted domain. */
  acme: {
    enabled: boolean;
    directoryUrl: string;
    email: string | null;
    termsAgreed: boolean;
    /** Lower-case host names. */
    names: string[];
    /** Templates with `{domain}`, e.g. `mail.{domain}`. */
    domainNames: string[];
    renewDaysBefore: number;
    checkIntervalSeconds: number;
    retryMinSeconds: number;
    retryMaxSeconds: number;
    keyType: 'rsa' | 'ecdsa';
    /** Absolute path of a PEM CA trusted for the directory's HTTPS (a test CA); null: the system's. */
    caFile: string | null;
  };
  /** Client auto-configuration (docs/autoconfig.md). */
  autoconfig: {
    enabled: boolean;
    /** The host name clients connect to; null: `hostname`. */
    host: string | null;
    /** The provider's name shown by clients; null: the mail domain. */
    displayName: string | null;
    /** Largest Autodiscover request body accepted. */
    maxRequestBytes: number;
    /** Per listener: the port published to clients (a port mapping), 'off' (not announced), or null (the listening port). */
    ports: Record<PublishedListener, number | 'off' | null>;
  };
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
  /** The operator console at /admin and its API under /api/admin/ (docs/admin.md). */
  admin: {
    enabled: boolean;
    /** An admin session ends this many hours after sign-in. */
    sessionHours: number;
    /** Rows one CSV account import may have. */
    importMaxRows: number;
    /** Per DNS query of the domain records check. */
    dnsTimeoutMs: number;
  };
  /** The file the configuration was read from, or null when only defaults and environment apply. */
  file: string | null;
}

export interface FilterConfig {
  enabled: boolean;
  /** Default score from which mail goes to Junk (an account may set its own). */
  junkScore: number;
  /** Built-in score from which mail is refused with 550 5.7.1 (0: never). */
  rejectScore: number;
  /** Networks whose mail is not filtered ("ip/prefix"). */
  trustedNetworks: string[];
  /** 0: no limit. */
  maxMessagesPerIpPerMinute: number;
  /** Larger messages are not sent to rspamd or ClamAV (the built-in layer still runs). */
  maxScanBytes: number;
  dnsbl: { lists: Array<{ zone: string; weight: number }>; domainLists: Array<{ zone: string; weight: number }>; timeoutMs: number };
  greylist: { enabled: boolean; delaySeconds: number; retryWindowHours: number; passDays: number };
  /** null: rspamd not used. */
  rspamd: { url: string; controllerUrl: string; password: string | null; timeoutMs: number; failOpen: boolean; onReject: 'reject' | 'junk' } | null;
  /** null: no virus scanning. */
  clamav: { target: { socket: string } | { host: string; port: number }; timeoutMs: number; failOpen: boolean } | null;
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
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text.trim()) : text;
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
      // A key of a nested section: STEADYMAIL_FILTER_RSPAMD_URL → filter.rspamd.url.
      if (KEYS[key] === undefined) key = Object.keys(KEYS).find((k) => k.startsWith(`${section}.`) && k.replace(/\./g, '_') === rest) ?? key;
      if (KEYS[key] === undefined) {
        throw new ConfigError(key, name, `unknown key; [${section}] allows: ${keysOf(section).join(', ')}`);
      }
    }
    if (key === undefined) continue;
    const kind = KEYS[key] ?? 'string';
    sources.set(key, name);
    const path = key.split('.');
    const last = path.pop() ?? key;
    let table = values;
    for (const part of path) {
      const next = isTable(table[part]) ? table[part] : {};
      table[part] = next;
      table = next;
    }
    table[last] = envValue(kind, text);
  }
  return { values, sources };
}

function merge(file: Table, env: Table): Table {
  const out: Table = { ...file };
  for (const [k, v] of Object.entries(env)) {
    const existing = out[k];
    out[k] = isTable(v) && isTable(existing) ? merge(existing, v) : v;
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
    raw.store.driver === 'postgres'
      ? { driver: 'postgres', url: raw.store.url ?? '', inlineBlobMax: raw.store.inline_blob_max }
      : { driver: 'sqlite', url: null, inlineBlobMax: raw.store.inline_blob_max };
  return {
    hostname: raw.hostname ?? osHostname(),
    dataDir: resolve(cwd, raw.data_dir),
    server: { workers: raw.server.workers === 'auto' ? availableParallelism() : raw.server.workers, shutdownGraceSeconds: raw.server.shutdown_grace_seconds },
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
      mimeMaxParts: raw.limits.mime_max_parts,
      mimeMaxDepth: raw.limits.mime_max_depth,
      mimeMaxHeaderBytes: raw.limits.mime_max_header_bytes,
      imapMetadataMaxEntryBytes: raw.limits.imap_metadata_max_entry_bytes,
      imapMetadataMaxEntries: raw.limits.imap_metadata_max_entries,
      imapNotifyMaxPending: raw.limits.imap_notify_max_pending,
    },
    tls: {
      cert: raw.tls.cert === undefined ? null : resolve(cwd, raw.tls.cert),
      key: raw.tls.key === undefined ? null : resolve(cwd, raw.tls.key),
      certsDir: raw.tls.certs_dir === undefined ? null : resolve(cwd, raw.tls.certs_dir),
      extraCerts: raw.tls.extra_certs.map((e) =>
        typeof e === 'string' ? { cert: resolve(cwd, e), key: resolve(cwd, e) } : { cert: resolve(cwd, e.cert), key: resolve(cwd, e.key) },
      ),
      reloadIntervalSeconds: raw.tls.reload_interval_seconds,
      expiryWarningDays: raw.tls.expiry_warning_days,
      legacyVersionsOn: [...new Set(raw.tls.legacy_versions_on)],
    },
    auth: {
      allowPlaintextWithoutTls: raw.auth.allow_plaintext_without_tls,
      maxFailuresPerIp: raw.auth.max_failures_per_ip,
      maxFailuresPerAccount: raw.auth.max_failures_per_account,
      failureWindowSeconds: raw.auth.failure_window_seconds,
      maxFailureDelayMs: raw.auth.max_failure_delay_ms,
    },
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
      nodeName: raw.monitor.node_name ?? osHostname(),
      probeHistoryDays: raw.monitor.probe_history_days,
      uptimeDays: raw.monitor.uptime_days,
      alertWebhook: raw.monitor.alert_webhook ?? null,
      alertEmail: raw.monitor.alert_email ?? null,
      alertAfterSeconds: raw.monitor.alert_after_seconds,
      alertMinIntervalSeconds: raw.monitor.alert_min_interval_seconds,
      autoIncidentMinutes: raw.monitor.auto_incident_minutes,
      subscribers: raw.monitor.subscribers,
      alertWebhookAttempts: raw.monitor.alert_webhook_attempts,
      alertWebhookRetrySeconds: raw.monitor.alert_webhook_retry_seconds,
    },
    sessions: {
      historyDays: raw.sessions.history_days,
      historyMaxPerAccount: raw.sessions.history_max_per_account,
      traceDefaultMinutes: raw.sessions.trace_default_minutes,
      traceMaxBytes: raw.sessions.trace_max_bytes,
      traceTotalMaxBytes: raw.sessions.trace_total_max_bytes,
      traceKeepHours: raw.sessions.trace_keep_hours,
    },
    snmp: {
      community: raw.snmp.community ?? null,
      v3:
        raw.snmp.v3_user !== undefined && raw.snmp.v3_auth_password !== undefined
          ? { user: raw.snmp.v3_user, authPassword: raw.snmp.v3_auth_password, privPassword: raw.snmp.v3_priv_password ?? null }
          : null,
    },
    dns: { servers: raw.dns.servers.map((s) => parseDnsServer(s)).filter((s): s is ListenAddress => s !== undefined) },
    outbound: {
      enabled: raw.outbound.enabled,
      relay: relayOf(raw.outbound),
      port: raw.outbound.port,
      maxAgeHours: raw.outbound.max_age_hours,
      leaseSeconds: raw.outbound.lease_seconds,
      concurrency: raw.outbound.concurrency,
      maxPerDestination: raw.outbound.max_per_destination,
      dkimSelector: raw.outbound.dkim_selector,
      tlsCaFile: raw.outbound.tls_ca_file === undefined ? null : resolve(cwd, raw.outbound.tls_ca_file),
      idleConnectionSeconds: raw.outbound.idle_connection_seconds,
      maxMessagesPerConnection: raw.outbound.max_messages_per_connection,
      mtaSts: raw.outbound.mta_sts ? { port: raw.outbound.mta_sts_port, timeoutSeconds: raw.outbound.mta_sts_timeout_seconds, maxPolicyBytes: raw.outbound.mta_sts_max_policy_bytes } : null,
    },
    sieve: {
      maxScriptBytes: raw.sieve.max_script_bytes,
      maxScripts: raw.sieve.max_scripts,
      maxActions: raw.sieve.max_actions,
      maxRedirects: raw.sieve.max_redirects,
      maxExecutionMs: raw.sieve.max_execution_ms,
      vacationMinDays: raw.sieve.vacation_min_days,
      vacationMaxDays: raw.sieve.vacation_max_days,
      vacationDefaultDays: raw.sieve.vacation_default_days,
      srsSecret: raw.sieve.srs_secret ?? null,
    },
    log: { level: raw.log.level },
    filter: filterOf(raw.filter, cwd),
    acme: {
      enabled: raw.acme.enabled,
      directoryUrl: raw.acme.directory_url,
      email: raw.acme.email ?? null,
      termsAgreed: raw.acme.terms_agreed,
      names: raw.acme.names.map((n) => n.trim().replace(/\.$/, '').toLowerCase()),
      domainNames: raw.acme.domain_names.map((n) => n.trim().toLowerCase()),
      renewDaysBefore: raw.acme.renew_days_before,
      checkIntervalSeconds: raw.acme.check_interval_seconds,
      retryMinSeconds: raw.acme.retry_min_seconds,
      retryMaxSeconds: raw.acme.retry_max_seconds,
      keyType: raw.acme.key_type,
      caFile: raw.acme.ca_file === undefined ? null : resolve(cwd, raw.acme.ca_file),
    },
    webmail: {
      enabled: raw.webmail.enabled,
      sessionHours: raw.webmail.session_hours,
      secureCookies: raw.webmail.secure_cookies,
      maxUploadBytes: raw.webmail.max_upload_bytes,
      maxDisplayBytes: raw.webmail.max_display_bytes,
      searchMaxScanned: raw.webmail.search_max_scanned,
      trustedProxies: raw.webmail.trusted_proxies,
    },
    autoconfig: {
      enabled: raw.autoconfig.enabled,
      host: raw.autoconfig.host?.toLowerCase() ?? null,
      displayName: raw.autoconfig.display_name ?? null,
      maxRequestBytes: raw.autoconfig.max_request_bytes,
      ports: Object.fromEntries(PUBLISHED_LISTENERS.map((n) => [n, raw.autoconfig[`${n}_port`] ?? null])) as Config['autoconfig']['ports'],
    },
    admin: {
      enabled: raw.admin.enabled,
      sessionHours: raw.admin.session_hours,
      importMaxRows: raw.admin.import_max_rows,
      dnsTimeoutMs: raw.admin.dns_timeout_ms,
    },
    file,
  };
}

function weighted(list: string[]): Array<{ zone: string; weight: number }> {
  return list.map((entry) => {
    const star = entry.indexOf('*');
    return star < 0 ? { zone: entry.toLowerCase(), weight: 3 } : { zone: entry.slice(0, star).toLowerCase(), weight: Number(entry.slice(star + 1)) };
  });
}

function filterOf(f: z.output<typeof fileSchema>['filter'], cwd: string): FilterConfig {
  const clamAddress = f.clamav.address === undefined ? null : parseListen(f.clamav.address);
  const rspamdUrl = f.rspamd.url;
  return {
    enabled: f.enabled,
    junkScore: f.junk_score,
    rejectScore: f.reject_score,
    trustedNetworks: f.trusted_networks,
    maxMessagesPerIpPerMinute: f.max_messages_per_ip_per_minute,
    maxScanBytes: f.max_scan_bytes,
    dnsbl: { lists: weighted(f.dnsbl.lists), domainLists: weighted(f.dnsbl.domain_lists), timeoutMs: f.dnsbl.timeout_ms },
    greylist: {
      enabled: f.greylist.enabled,
      delaySeconds: f.greylist.delay_seconds,
      retryWindowHours: f.greylist.retry_window_hours,
      passDays: f.greylist.pass_days,
    },
    rspamd:
      rspamdUrl === undefined
        ? null
        : {
            url: rspamdUrl,
            controllerUrl: f.rspamd.controller_url ?? rspamdUrl,
            password: f.rspamd.password ?? null,
            timeoutMs: f.rspamd.timeout_ms,
            failOpen: f.rspamd.fail_open,
            onReject: f.rspamd.on_reject,
          },
    clamav:
      f.clamav.socket !== undefined
        ? { target: { socket: resolve(cwd, f.clamav.socket) }, timeoutMs: f.clamav.timeout_ms, failOpen: f.clamav.fail_open }
        : clamAddress
          ? { target: { host: clamAddress.host, port: clamAddress.port }, timeoutMs: f.clamav.timeout_ms, failOpen: f.clamav.fail_open }
          : null,
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
export function plaintextAllowed(config: { auth: Pick<Config['auth'], 'allowPlaintextWithoutTls'> }, remoteAddress: string | undefined, secure: boolean): boolean {
  if (secure) return true;
  if (remoteAddress !== undefined && isLoopback(remoteAddress)) return true;
  return config.auth.allowPlaintextWithoutTls;
}
