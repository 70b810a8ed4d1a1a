// The shape of steadymail.toml, snake_case as the operator writes it. Every object is
// strict: an unknown key is an error, never silently ignored. docs/configuration.md
// documents every key here; keep them in step.
import { z } from 'zod';
import { DNS_SERVER_FORMAT, LISTEN_FORMAT, parseDnsServer, parseListen } from './listen.js';

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
  managesieve: 'off',
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const listenValue = z.string().refine((v) => parseListen(v) !== undefined, { message: `expected ${LISTEN_FORMAT}` });
const dnsServer = z.string().refine((v) => parseDnsServer(v) !== undefined, { message: `expected ${DNS_SERVER_FORMAT}` });
const positiveInt = z.number().int().min(1);
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
      workers: positiveInt.default(1),
      shutdown_grace_seconds: nonNegativeInt.default(10),
    })
    .prefault({}),
  listen: z.strictObject(listenShape).prefault({}),
  store: z
    .strictObject({
      driver: z.enum(['sqlite', 'postgres']).default('sqlite'),
      url: z.string().min(1).optional(),
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
    })
    .prefault({}),
  tls: z
    .strictObject({
      cert: z.string().min(1).optional(),
      key: z.string().min(1).optional(),
    })
    .prefault({})
    .refine((t) => (t.cert === undefined) === (t.key === undefined), {
      message: 'set both tls.cert and tls.key, or neither (a self-signed certificate is then generated)',
      path: ['cert'],
    }),
  auth: z.strictObject({ allow_plaintext_without_tls: z.boolean().default(false) }).prefault({}),
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
    })
    .prefault({})
    .refine((m) => (m.probe_account === undefined) === (m.probe_password === undefined), {
      message: 'set both monitor.probe_account and monitor.probe_password, or neither',
      path: ['probe_account'],
    }),
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
      concurrency: positiveInt.default(16),
      max_per_destination: positiveInt.default(4),
      dkim_selector: z.string().regex(/^[a-z0-9][a-z0-9-]*$/i).default('steadymail'),
    })
    .prefault({}),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault({}),
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
});

export type FileConfig = z.output<typeof fileSchema>;

/** How an environment variable's text is turned into a value for a key. */
export type EnvKind = 'string' | 'integer' | 'boolean' | 'list';

/** Every key that can be set, as `section.key` (or `key` at the top), with its kind. */
export const KEYS: Record<string, EnvKind> = {
  hostname: 'string',
  data_dir: 'string',
  'server.workers': 'integer',
  'server.shutdown_grace_seconds': 'integer',
  ...Object.fromEntries(LISTENER_NAMES.map((n) => [`listen.${n}`, 'string' as const])),
  'store.driver': 'string',
  'store.url': 'string',
  'limits.max_message_bytes': 'integer',
  'limits.max_line_bytes': 'integer',
  'limits.max_literal_bytes': 'integer',
  'limits.max_connections_per_ip': 'integer',
  'limits.idle_timeout_seconds': 'integer',
  'limits.command_timeout_seconds': 'integer',
  'limits.auth_failures_before_delay': 'integer',
  'tls.cert': 'string',
  'tls.key': 'string',
  'auth.allow_plaintext_without_tls': 'boolean',
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
  'dns.servers': 'list',
  'outbound.enabled': 'boolean',
  'outbound.relay': 'string',
  'outbound.relay_user': 'string',
  'outbound.relay_password': 'string',
  'outbound.relay_require_tls': 'boolean',
  'outbound.port': 'integer',
  'outbound.max_age_hours': 'integer',
  'outbound.concurrency': 'integer',
  'outbound.max_per_destination': 'integer',
  'outbound.dkim_selector': 'string',
  'log.level': 'string',
  'webmail.enabled': 'boolean',
  'webmail.session_hours': 'integer',
  'webmail.secure_cookies': 'boolean',
  'webmail.max_upload_bytes': 'integer',
  'webmail.max_display_bytes': 'integer',
  'webmail.search_max_scanned': 'integer',
  'webmail.trusted_proxies': 'list',
};

export const SECTIONS = ['server', 'listen', 'store', 'limits', 'tls', 'auth', 'smtp', 'pop3', 'monitor', 'dns', 'outbound', 'log', 'webmail'] as const;

/** The keys allowed inside `section` (or at the top level for ''), for error messages. */
export function keysOf(section: string): string[] {
  if (section === '') return [...Object.keys(KEYS).filter((k) => !k.includes('.')), ...SECTIONS.map((s) => `[${s}]`)];
  return Object.keys(KEYS)
    .filter((k) => k.startsWith(`${section}.`))
    .map((k) => k.slice(section.length + 1));
}
