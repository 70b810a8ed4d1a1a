// The shape of steadymail.toml, snake_case as the operator writes it. Every object is
// strict: an unknown key is an error, never silently ignored. docs/configuration.md
// documents every key here; keep them in step.
import { z } from 'zod';
import { DEFAULT_INLINE_BLOB_MAX, MAX_INLINE_BLOB } from '../store/blobs/blob-store.js';
import { DNS_SERVER_FORMAT, LISTEN_FORMAT, parseCidr, parseDnsServer, parseListen } from './listen.js';

export const MiB = 1024 * 1024;

export const LISTENER_NAMES = [
  'smtp',
  'submission',
  'submissions',
  'pop3',
  'pop3s',
  'imap',
  'imaps',
  'http',
  'snmp',
  'managesieve',
] as const;
export type ListenerName = (typeof LISTENER_NAMES)[number];

export const DEFAULT_LISTEN: Record<ListenerName, string> = {
  smtp: '0.0.0.0:2525',
  submission: '0.0.0.0:2587',
  submissions: '0.0.0.0:2465',
  pop3: '0.0.0.0:2110',
  pop3s: '0.0.0.0:2995',
  imap: '0.0.0.0:2143',
  imaps: '0.0.0.0:2993',
  http: '0.0.0.0:8080',
  snmp: '0.0.0.0:1161',
  managesieve: '0.0.0.0:4190',
};

/** The listeners mail clients connect to, as client auto-configuration announces them. */
export const PUBLISHED_LISTENERS = ['imaps', 'imap', 'pop3s', 'pop3', 'submissions', 'submission'] as const;
export type PublishedListener = (typeof PUBLISHED_LISTENERS)[number];
/** A published port, or "off": the listener runs but is not announced to clients. */
const publishedPort = z.union([z.number().int().min(1).max(65535), z.literal('off')], { error: 'expected a port (1-65535) or "off"' });

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const listenValue = z.string().refine((v) => parseListen(v) !== undefined, { message: `expected ${LISTEN_FORMAT}` });
const dnsServer = z.string().refine((v) => parseDnsServer(v) !== undefined, { message: `expected ${DNS_SERVER_FORMAT}` });
const positiveInt = z.number().int().min(1);
const cidr = z.string().refine((v) => parseCidr(v) !== undefined, { message: 'expected an address or network, e.g. "192.0.2.0/24" or "2001:db8::/32"' });
/** A DNS list zone, optionally with a weight: "zen.example.org" or "zen.example.org*3". */
export const WEIGHTED_ZONE = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(\*-?\d+(\.\d+)?)?$/i;
const weightedZone = z.string().regex(WEIGHTED_ZONE, { message: 'expected a DNS zone, optionally with a weight: "list.example.org" or "list.example.org*3"' });
const httpUrl = z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, { message: 'expected an http:// or https:// URL' });
const nonNegativeInt = z.number().int().min(0);

const listenShape = Object.fromEntries(LISTENER_NAMES.map((name) => [name, listenValue.default(DEFAULT_LISTEN[name])])) as Record<
  ListenerName,
  z.ZodDefault<typeof listenValue>
>;

export const fileSchema = z.strictObject({
  hostname: z.string().min(1).optional(),
  data_dir: z.string().min(1).default('./data'),
  server: z
    .strictObject({
      workers: z.union([positiveInt, z.literal('auto')], { error: 'expected a number of processes (1 or more) or "auto" (one per CPU core)' }).default(1),
      shutdown_grace_seconds: nonNegativeInt.default(10),
    })
    .prefault({}),
  listen: z.strictObject(listenShape).prefault({}),
  store: z
    .strictObject({
      driver: z.enum(['sqlite', 'postgres']).default('sqlite'),
      url: z.string().min(1).optional(),
      inline_blob_max: nonNegativeInt.max(MAX_INLINE_BLOB, { error: `at most ${MAX_INLINE_BLOB} bytes (256 KiB); larger bodies are files` }).default(DEFAULT_INLINE_BLOB_MAX),
    })
    .prefault({})
    .refine((s) => s.driver !== 'postgres' || s.url !== undefined, {
      message: 'required when store.driver is "postgres" (e.g. "postgres://user:pass@host/db")',
      path: ['url'],
    }),
  limits: z
    .strictObject({
      max_message_bytes: positiveInt.default(50 * MiB),
      max_line_bytes: z.number().int().min(1000).default(65536),
      max_literal_bytes: positiveInt.optional(),
      max_connections_per_ip: positiveInt.default(50),
      idle_timeout_seconds: positiveInt.default(1800),
      command_timeout_seconds: positiveInt.default(300),
      auth_failures_before_delay: nonNegativeInt.default(5),
      mime_max_parts: positiveInt.default(2000),
      mime_max_depth: positiveInt.default(50),
      mime_max_header_bytes: z.number().int().min(1024).default(256 * 1024),
      imap_metadata_max_entry_bytes: positiveInt.default(65536),
      imap_metadata_max_entries: positiveInt.default(100),
      imap_notify_max_pending: positiveInt.default(1000),
    })
    .prefault({}),
  tls: z
    .strictObject({
      cert: z.string().min(1).optional(),
      key: z.string().min(1).optional(),
      certs_dir: z.string().min(1).optional(),
      // A path is a file holding both the chain and the key; a table names the two files.
      extra_certs: z.array(z.union([z.string().min(1), z.strictObject({ cert: z.string().min(1), key: z.string().min(1) })])).default([]),
      reload_interval_seconds: nonNegativeInt.default(60),
      expiry_warning_days: positiveInt.default(14),
      // Off by default: TLS 1.0/1.1 are broken protocols (RFC 8996); only for very old clients.
      legacy_versions_on: z.array(z.enum(['smtp', 'submission', 'submissions', 'pop3', 'pop3s', 'imap', 'imaps'])).default([]),
    })
    .prefault({})
    .refine((t) => (t.cert === undefined) === (t.key === undefined), {
      message: 'set both tls.cert and tls.key, or neither (a self-signed certificate is then generated)',
      path: ['cert'],
    }),
  auth: z
    .strictObject({
      allow_plaintext_without_tls: z.boolean().default(false),
      max_failures_per_ip: positiveInt.default(20),
      max_failures_per_account: positiveInt.default(50),
      failure_window_seconds: positiveInt.default(900),
      max_failure_delay_ms: nonNegativeInt.default(15_000),
    })
    .prefault({}),
  smtp: z
    .strictObject({
      max_recipients: positiveInt.default(100),
      max_received_headers: z.number().int().min(10).default(50),
      max_connections_per_ip_per_minute: nonNegativeInt.default(120),
      dmarc_reject: z.boolean().default(false),
      copy_to_sent: z.boolean().default(false),
      postmaster: z.string().min(3).optional(),
    })
    .prefault({}),
  pop3: z
    .strictObject({
      mark_seen: z.boolean().default(true),
      login_delay_seconds: nonNegativeInt.default(0),
    })
    .prefault({}),
  monitor: z
    .strictObject({
      probe_interval_seconds: z.number().int().min(5).default(30),
      probe_account: z.string().min(3).optional(),
      probe_password: z.string().min(1).optional(),
      node_name: z.string().min(1).max(100).optional(),
      probe_history_days: z.number().int().min(1).max(400).default(7),
      uptime_days: z.number().int().min(1).max(400).default(90),
      alert_webhook: z.url({ protocol: /^https?$/ }).optional(),
      alert_email: z.string().min(3).includes('@').optional(),
      alert_after_seconds: nonNegativeInt.default(60),
      alert_min_interval_seconds: nonNegativeInt.default(300),
      alert_webhook_attempts: z.number().int().min(1).max(20).default(4),
      alert_webhook_retry_seconds: z.number().min(0.01).max(3600).default(2),
      auto_incident_minutes: nonNegativeInt.default(5),
      subscribers: z.array(z.string().min(3).max(254).includes('@')).max(1000).default([]),
    })
    .prefault({})
    .refine((m) => (m.probe_account === undefined) === (m.probe_password === undefined), {
      message: 'set both monitor.probe_account and monitor.probe_password, or neither',
      path: ['probe_account'],
    }),
  sessions: z
    .strictObject({
      history_days: z.number().int().min(1).max(400).default(30),
      history_max_per_account: z.number().int().min(10).max(1_000_000).default(1000),
      trace_default_minutes: z.number().int().min(1).max(7 * 24 * 60).default(60),
      trace_max_bytes: z.number().int().min(1024).default(10 * MiB),
      trace_total_max_bytes: z.number().int().min(1024).default(200 * MiB),
      trace_keep_hours: z.number().int().min(1).max(24 * 90).default(72),
    })
    .prefault({}),
  snmp: z
    .strictObject({
      community: z.string().min(1).max(64).optional(),
      v3_user: z.string().min(1).max(32).optional(),
      v3_auth_password: z.string().min(8).optional(),
      v3_priv_password: z.string().min(8).optional(),
    })
    .prefault({})
    .refine((s) => s.v3_user === undefined || s.v3_auth_password !== undefined, {
      message: 'snmp.v3_user needs snmp.v3_auth_password (at least 8 characters)',
      path: ['v3_auth_password'],
    })
    .refine((s) => s.v3_priv_password === undefined || s.v3_user !== undefined, { message: 'snmp.v3_priv_password needs snmp.v3_user', path: ['v3_priv_password'] }),
  dns: z.strictObject({ servers: z.array(dnsServer).default([]) }).prefault({}),
  outbound: z
    .strictObject({
      enabled: z.boolean().default(true),
      relay: listenValue.optional(),
      relay_user: z.string().min(1).optional(),
      relay_password: z.string().min(1).optional(),
      relay_require_tls: z.boolean().default(false),
      port: positiveInt.max(65535).default(25),
      max_age_hours: positiveInt.default(120),
      lease_seconds: z.number().int().min(2).default(600),
      concurrency: positiveInt.default(16),
      max_per_destination: positiveInt.default(4),
      dkim_selector: z.string().regex(/^[a-z0-9][a-z0-9-]*$/i).default('steadymail'),
      tls_ca_file: z.string().min(1).optional(),
      idle_connection_seconds: nonNegativeInt.max(300).default(5),
      max_messages_per_connection: positiveInt.default(100),
      mta_sts: z.boolean().default(true),
      mta_sts_port: positiveInt.max(65535).default(443),
      mta_sts_timeout_seconds: positiveInt.max(60).default(20),
      mta_sts_max_policy_bytes: positiveInt.default(64 * 1024),
    })
    .prefault({}),
  sieve: z
    .strictObject({
      max_script_bytes: positiveInt.default(64 * 1024),
      max_scripts: positiveInt.default(20),
      max_actions: positiveInt.default(32),
      max_redirects: nonNegativeInt.default(4),
      max_execution_ms: positiveInt.default(500),
      vacation_min_days: positiveInt.default(1),
      vacation_max_days: positiveInt.default(90),
      vacation_default_days: positiveInt.default(7),
      srs_secret: z.string().min(16).optional(),
    })
    .prefault({})
    .refine((s) => s.vacation_min_days <= s.vacation_default_days && s.vacation_default_days <= s.vacation_max_days, {
      message: 'needs vacation_min_days <= vacation_default_days <= vacation_max_days',
      path: ['vacation_default_days'],
    }),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault({}),
  filter: z
    .strictObject({
      enabled: z.boolean().default(true),
      junk_score: z.number().default(5),
      reject_score: z.number().min(0).default(15),
      trusted_networks: z.array(cidr).default(['127.0.0.0/8', '::1/128']),
      max_messages_per_ip_per_minute: nonNegativeInt.default(60),
      max_scan_bytes: positiveInt.default(20 * MiB),
      dnsbl: z
        .strictObject({
          lists: z.array(weightedZone).default([]),
          domain_lists: z.array(weightedZone).default([]),
          timeout_ms: positiveInt.default(2000),
        })
        .prefault({}),
      greylist: z
        .strictObject({
          enabled: z.boolean().default(true),
          delay_seconds: nonNegativeInt.default(300),
          retry_window_hours: positiveInt.default(24),
          pass_days: positiveInt.default(36),
        })
        .prefault({}),
      rspamd: z
        .strictObject({
          url: httpUrl.optional(),
          controller_url: httpUrl.optional(),
          password: z.string().min(1).optional(),
          timeout_ms: positiveInt.default(10_000),
          fail_open: z.boolean().default(true),
          on_reject: z.enum(['reject', 'junk']).default('reject'),
        })
        .prefault({}),
      clamav: z
        .strictObject({
          socket: z.string().min(1).optional(),
          address: listenValue.optional(),
          timeout_ms: positiveInt.default(30_000),
          fail_open: z.boolean().default(false),
        })
        .prefault({})
        .refine((c) => c.socket === undefined || c.address === undefined, {
          message: 'set filter.clamav.socket (unix socket) or filter.clamav.address (host:port), not both',
          path: ['socket'],
        }),
    })
    .prefault({}),
  acme: z
    .strictObject({
      enabled: z.boolean().default(false),
      directory_url: z.url().default('https://acme-v02.api.letsencrypt.org/directory'),
      email: z.string().min(3).optional(),
      terms_agreed: z.boolean().default(false),
      names: z.array(z.string().min(1)).default([]),
      domain_names: z
        .array(z.string().refine((v) => v.includes('{domain}'), { message: 'must contain {domain}' }))
        .default([]),
      renew_days_before: positiveInt.default(30),
      check_interval_seconds: z.number().int().min(10).default(3600),
      retry_min_seconds: positiveInt.default(300),
      retry_max_seconds: positiveInt.default(86400),
      key_type: z.enum(['rsa', 'ecdsa']).default('rsa'),
      ca_file: z.string().min(1).optional(),
    })
    .prefault({})
    .refine((a) => !a.enabled || a.terms_agreed, {
      message: "set acme.terms_agreed = true to accept the CA's terms of service (required when acme.enabled)",
      path: ['terms_agreed'],
    }),
  webmail: z
    .strictObject({
      enabled: z.boolean().default(true),
      session_hours: positiveInt.max(24 * 90).default(24),
      secure_cookies: z.boolean().default(false),
      max_upload_bytes: positiveInt.default(25 * MiB),
      max_display_bytes: z.number().int().min(4096).default(2 * MiB),
      search_max_scanned: positiveInt.default(2000),
      trusted_proxies: z.array(z.string().regex(/^[0-9a-fA-F:.]+(?:\/\d{1,3})?$/, 'expected an IP address or CIDR range')).default([]),
    })
    .prefault({}),
  autoconfig: z
    .strictObject({
      enabled: z.boolean().default(true),
      host: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/, { message: 'expected a host name, e.g. "mail.example.com"' }).optional(),
      display_name: z.string().min(1).max(200).optional(),
      max_request_bytes: z.number().int().min(1024).max(1024 * 1024).default(16 * 1024),
      ...(Object.fromEntries(PUBLISHED_LISTENERS.map((n) => [`${n}_port`, publishedPort.optional()])) as Record<`${PublishedListener}_port`, z.ZodOptional<typeof publishedPort>>),
    })
    .prefault({}),
  admin: z
    .strictObject({
      enabled: z.boolean().default(true),
      session_hours: positiveInt.max(24 * 7).default(8),
      import_max_rows: positiveInt.max(100_000).default(5000),
      dns_timeout_ms: positiveInt.max(60_000).default(5000),
    })
    .prefault({}),
});

export type FileConfig = z.output<typeof fileSchema>;

/** How an environment variable's text is turned into a value for a key. */
export type EnvKind = 'string' | 'integer' | 'number' | 'boolean' | 'list';

/** Every key that can be set, as `section.key` (or `key` at the top), with its kind. */
export const KEYS: Record<string, EnvKind> = {
  hostname: 'string',
  data_dir: 'string',
  'server.workers': 'integer',
  'server.shutdown_grace_seconds': 'integer',
  ...Object.fromEntries(LISTENER_NAMES.map((n) => [`listen.${n}`, 'string' as const])),
  'store.driver': 'string',
  'store.url': 'string',
  'store.inline_blob_max': 'integer',
  'limits.max_message_bytes': 'integer',
  'limits.max_line_bytes': 'integer',
  'limits.max_literal_bytes': 'integer',
  'limits.max_connections_per_ip': 'integer',
  'limits.idle_timeout_seconds': 'integer',
  'limits.command_timeout_seconds': 'integer',
  'limits.auth_failures_before_delay': 'integer',
  'limits.mime_max_parts': 'integer',
  'limits.mime_max_depth': 'integer',
  'limits.mime_max_header_bytes': 'integer',
  'limits.imap_metadata_max_entry_bytes': 'integer',
  'limits.imap_metadata_max_entries': 'integer',
  'limits.imap_notify_max_pending': 'integer',
  'tls.cert': 'string',
  'tls.key': 'string',
  'tls.certs_dir': 'string',
  'tls.extra_certs': 'list',
  'tls.reload_interval_seconds': 'integer',
  'tls.expiry_warning_days': 'integer',
  'tls.legacy_versions_on': 'list',
  'auth.allow_plaintext_without_tls': 'boolean',
  'auth.max_failures_per_ip': 'integer',
  'auth.max_failures_per_account': 'integer',
  'auth.failure_window_seconds': 'integer',
  'auth.max_failure_delay_ms': 'integer',
  'smtp.max_recipients': 'integer',
  'smtp.max_received_headers': 'integer',
  'smtp.max_connections_per_ip_per_minute': 'integer',
  'smtp.dmarc_reject': 'boolean',
  'smtp.copy_to_sent': 'boolean',
  'smtp.postmaster': 'string',
  'pop3.mark_seen': 'boolean',
  'pop3.login_delay_seconds': 'integer',
  'monitor.probe_interval_seconds': 'integer',
  'monitor.probe_account': 'string',
  'monitor.probe_password': 'string',
  'monitor.node_name': 'string',
  'monitor.probe_history_days': 'integer',
  'monitor.uptime_days': 'integer',
  'monitor.alert_webhook': 'string',
  'monitor.alert_email': 'string',
  'monitor.alert_after_seconds': 'integer',
  'monitor.alert_min_interval_seconds': 'integer',
  'monitor.auto_incident_minutes': 'integer',
  'monitor.alert_webhook_attempts': 'integer',
  'monitor.alert_webhook_retry_seconds': 'number',
  'sessions.history_days': 'integer',
  'sessions.history_max_per_account': 'integer',
  'sessions.trace_default_minutes': 'integer',
  'sessions.trace_max_bytes': 'integer',
  'sessions.trace_total_max_bytes': 'integer',
  'sessions.trace_keep_hours': 'integer',
  'monitor.subscribers': 'list',
  'snmp.community': 'string',
  'snmp.v3_user': 'string',
  'snmp.v3_auth_password': 'string',
  'snmp.v3_priv_password': 'string',
  'dns.servers': 'list',
  'outbound.enabled': 'boolean',
  'outbound.relay': 'string',
  'outbound.relay_user': 'string',
  'outbound.relay_password': 'string',
  'outbound.relay_require_tls': 'boolean',
  'outbound.port': 'integer',
  'outbound.max_age_hours': 'integer',
  'outbound.lease_seconds': 'integer',
  'outbound.concurrency': 'integer',
  'outbound.max_per_destination': 'integer',
  'outbound.dkim_selector': 'string',
  'outbound.tls_ca_file': 'string',
  'outbound.idle_connection_seconds': 'integer',
  'outbound.max_messages_per_connection': 'integer',
  'outbound.mta_sts': 'boolean',
  'outbound.mta_sts_port': 'integer',
  'outbound.mta_sts_timeout_seconds': 'integer',
  'outbound.mta_sts_max_policy_bytes': 'integer',
  'sieve.max_script_bytes': 'integer',
  'sieve.max_scripts': 'integer',
  'sieve.max_actions': 'integer',
  'sieve.max_redirects': 'integer',
  'sieve.max_execution_ms': 'integer',
  'sieve.vacation_min_days': 'integer',
  'sieve.vacation_max_days': 'integer',
  'sieve.vacation_default_days': 'integer',
  'sieve.srs_secret': 'string',
  'log.level': 'string',
  'filter.enabled': 'boolean',
  'filter.junk_score': 'number',
  'filter.reject_score': 'number',
  'filter.trusted_networks': 'list',
  'filter.max_messages_per_ip_per_minute': 'integer',
  'filter.max_scan_bytes': 'integer',
  'filter.dnsbl.lists': 'list',
  'filter.dnsbl.domain_lists': 'list',
  'filter.dnsbl.timeout_ms': 'integer',
  'filter.greylist.enabled': 'boolean',
  'filter.greylist.delay_seconds': 'integer',
  'filter.greylist.retry_window_hours': 'integer',
  'filter.greylist.pass_days': 'integer',
  'filter.rspamd.url': 'string',
  'filter.rspamd.controller_url': 'string',
  'filter.rspamd.password': 'string',
  'filter.rspamd.timeout_ms': 'integer',
  'filter.rspamd.fail_open': 'boolean',
  'filter.rspamd.on_reject': 'string',
  'filter.clamav.socket': 'string',
  'filter.clamav.address': 'string',
  'filter.clamav.timeout_ms': 'integer',
  'filter.clamav.fail_open': 'boolean',
  'acme.enabled': 'boolean',
  'acme.directory_url': 'string',
  'acme.email': 'string',
  'acme.terms_agreed': 'boolean',
  'acme.names': 'list',
  'acme.domain_names': 'list',
  'acme.renew_days_before': 'integer',
  'acme.check_interval_seconds': 'integer',
  'acme.retry_min_seconds': 'integer',
  'acme.retry_max_seconds': 'integer',
  'acme.key_type': 'string',
  'acme.ca_file': 'string',
  'webmail.enabled': 'boolean',
  'webmail.session_hours': 'integer',
  'webmail.secure_cookies': 'boolean',
  'webmail.max_upload_bytes': 'integer',
  'webmail.max_display_bytes': 'integer',
  'webmail.search_max_scanned': 'integer',
  'webmail.trusted_proxies': 'list',
  'autoconfig.enabled': 'boolean',
  'autoconfig.host': 'string',
  'autoconfig.display_name': 'string',
  'autoconfig.max_request_bytes': 'integer',
  ...Object.fromEntries(PUBLISHED_LISTENERS.map((n) => [`autoconfig.${n}_port`, 'integer' as const])),
  'admin.enabled': 'boolean',
  'admin.session_hours': 'integer',
  'admin.import_max_rows': 'integer',
  'admin.dns_timeout_ms': 'integer',
};

export const SECTIONS = ['server', 'listen', 'store', 'limits', 'tls', 'auth', 'smtp', 'pop3', 'monitor', 'sessions', 'snmp', 'dns', 'outbound', 'sieve', 'log', 'filter', 'acme', 'webmail', 'autoconfig', 'admin'] as const;

/** The keys allowed inside `section` (or at the top level for ''), for error messages. */
export function keysOf(section: string): string[] {
  if (section === '') return [...Object.keys(KEYS).filter((k) => !k.includes('.')), ...SECTIONS.map((s) => `[${s}]`)];
  // A nested section ([filter.rspamd]) is listed as one entry of its parent.
  const inside = Object.keys(KEYS)
    .filter((k) => k.startsWith(`${section}.`))
    .map((k) => k.slice(section.length + 1))
    .map((k) => (k.includes('.') ? `[${section}.${k.slice(0, k.indexOf('.'))}]` : k));
  return [...new Set(inside)];
}
