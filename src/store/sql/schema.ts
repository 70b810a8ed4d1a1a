// Row types of the metadata database, as Kysely sees them. Times are epoch
// milliseconds; booleans are 0/1 integers so SQLite and PostgreSQL agree.

import type { Generated } from 'kysely';

export interface DomainsTable {
  id: Generated<number>;
  name: string;
  created_at: number;
}

export interface AccountsTable {
  id: Generated<number>;
  address: string;
  domain_id: number;
  password_hash: string;
  quota_bytes: number;
  used_bytes: number;
  disabled: number;
  /** The last UIDVALIDITY handed to one of this account's mailboxes. */
  last_uid_validity: number;
  created_at: number;
}

export interface AliasesTable {
  id: Generated<number>;
  source: string;
  domain_id: number;
  /** JSON array of target addresses. */
  targets: string;
}

export interface MailboxesTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  special_use: string | null;
  subscribed: number;
  uid_validity: number;
  uid_next: number;
  highest_modseq: number;
  messages: number;
  unseen: number;
  bytes: number;
  /** RFC 3501 \Recent: the first UID no session has claimed as recent yet (migration 0008). */
  first_recent_uid: Generated<number>;
}

export interface MessagesTable {
  id: Generated<number>;
  mailbox_id: number;
  uid: number;
  message_id: string;
  modseq: number;
  /** Bit set of system flags, see FLAG_BITS. */
  flags: number;
  /** JSON array of keywords. */
  keywords: string;
  internal_date: number;
  size: number;
  blob_id: string;
  /** JSON of the cached MIME structure. */
  structure: string;
}

export interface TombstonesTable {
  mailbox_id: number;
  uid: number;
  modseq: number;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  actor: string;
  action: string;
  account_id: number | null;
  subject: string;
  reason: string;
  detail: string;
}

export interface LeasesTable {
  key: string;
  holder: string;
  expires_at: number;
}

export interface QueueTable {
  id: Generated<number>;
  blob_id: string;
  size: number;
  mail_from: string;
  domain: string;
  /** JSON array of recipient addresses at `domain`. */
  recipients: string;
  account_id: number | null;
  state: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  lease_holder: string | null;
  lease_expires_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface FilterGreylistTable {
  triplet: string;
  first_seen: number;
  last_seen: number;
  passed_at: number | null;
}

export interface FilterAccountsTable {
  account_id: number;
  junk_score: number | null;
}

export interface FilterListsTable {
  account_id: number;
  /** 'allow' | 'block' */
  kind: string;
  pattern: string;
  created_at: number;
}

export interface FilterSendersTable {
  account_id: number;
  sender: string;
  spam: number;
  ham: number;
  updated_at: number;
}

export interface AuthFailuresTable {
  /** `ip:<address>` or `login:<address>`. */
  key: string;
  count: number;
  /** When the counting window began (ms since the epoch). */
  first_at: number;
}

export interface MtaStsPoliciesTable {
  domain: string;
  policy_id: string;
  mode: string;
  /** JSON array of the policy's mx patterns. */
  mx: string;
  max_age: number;
  fetched_at: number;
  expires_at: number;
}

export interface SieveScriptsTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  content: string;
  /** 1 for the account's active script (at most one). */
  active: number;
  updated_at: number;
}

export interface SieveRepliesTable {
  account_id: number;
  /** The vacation :handle. */
  handle: string;
  /** Lower-cased address the reply went to. */
  sender: string;
  expires_at: number;
}

export interface MonitorProbesTable {
  id: Generated<number>;
  node: string;
  component: string;
  at: number;
  ok: number;
  ms: number;
  /** Steps run; equal to the failed ones: nothing answered. */
  steps: number;
  /** JSON array of the names of the steps that failed. */
  failed_steps: string;
}

export interface MonitorProbeDaysTable {
  node: string;
  component: string;
  /** Days since 1970-01-01 UTC. */
  day: number;
  runs: number;
  failures: number;
  total_ms: number;
}

export interface MonitorIncidentsTable {
  id: Generated<number>;
  title: string;
  impact: string;
  /** JSON array of component ids. */
  components: string;
  stage: string;
  /** JSON array of { title, state }. */
  issues: string;
  automatic: number;
  created_at: number;
  updated_at: number;
  resolved_at: number | null;
}

export interface MonitorIncidentUpdatesTable {
  id: Generated<number>;
  incident_id: number;
  at: number;
  stage: string;
  body: string;
  author: string;
}

export interface MonitorMaintenanceTable {
  id: Generated<number>;
  title: string;
  description: string;
  /** JSON array of component ids; empty: every component. */
  components: string;
  starts_at: number;
  ends_at: number;
  cancelled_at: number | null;
  created_at: number;
}

export interface MonitorAlertStateTable {
  component: string;
  status: string;
  since: number;
  notified_status: string | null;
  notified_at: number | null;
}

export interface SchemaVersionTable {
  version: number;
  name: string;
  applied_at: number;
}

export interface TlsCertificatesTable {
  name: string;
  cert_pem: string | null;
  key_pem: string | null;
  not_after: number | null;
  updated_at: number;
  failures: Generated<number>;
  next_attempt_at: number | null;
  last_error: string | null;
}

export interface AcmeAccountsTable {
  directory_url: string;
  key_pem: string;
  account_url: string | null;
  created_at: number;
}

export interface AcmeChallengesTable {
  token: string;
  key_authorization: string;
  name: string;
  expires_at: number;
}

export interface WebmailSessionsTable {
  id: Generated<number>;
  /** sha256 (hex) of the cookie token; the token itself is never stored. */
  token_hash: string;
  public_id: string;
  account_id: number;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  remote_address: string;
}

export interface WebmailSettingsTable {
  account_id: number;
  display_name: string;
  signature: string;
  updated_at: number;
}

export interface WebmailRecipientsTable {
  account_id: number;
  address: string;
  name: string;
  uses: number;
  last_used_at: number;
}

export interface WebmailUploadsTable {
  id: string;
  account_id: number;
  blob_id: string;
  filename: string;
  content_type: string;
  size: number;
  created_at: number;
}

export interface SessionHistoryTable {
  id: Generated<number>;
  session_id: string;
  account: string | null;
  protocol: string;
  node: string;
  client_ip: string;
  client_id: string | null;
  tls: string | null;
  /** 'ok', 'failed' or 'none' (no login attempted). */
  login: string;
  started_at: number;
  ended_at: number;
  end_reason: string;
  bytes_in: number;
  bytes_out: number;
  commands: number;
  traced: number;
}

export interface LiveSessionsTable {
  session_id: string;
  node: string;
  protocol: string;
  client_ip: string;
  client_id: string | null;
  tls: string | null;
  account: string | null;
  started_at: number;
  seen_at: number;
  kill_requested: number;
}

export interface TraceSwitchesTable {
  account: string;
  until_at: number;
  bodies: number;
  bytes: number;
  created_at: number;
}

export interface TraceLinesTable {
  id: Generated<number>;
  account: string;
  session_id: string;
  protocol: string;
  at: number;
  /** 'C' client, 'S' server, '*' a note of the recorder. */
  direction: string;
  line: string;
}

export interface AdminAccountsTable {
  id: Generated<number>;
  name: string;
  password_hash: string;
  created_at: number;
}

export interface AdminTokensTable {
  id: string;
  label: string;
  token_hash: string;
  created_by: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AdminSessionsTable {
  id: Generated<number>;
  token_hash: string;
  admin_id: number;
  csrf_token: string;
  created_at: number;
  expires_at: number;
  remote_address: string;
}

export interface TrafficHourlyTable {
  hour: number;
  received: number;
  delivered_local: number;
  transmitted: number;
  failed: number;
}

/** SQLite only (migration 0014): message bodies small enough to keep in the database. */
export interface InlineBlobsTable {
  id: string;
  size: number;
  touched_at: number;
  data: Buffer;
}

export interface Database {
  inline_blobs: InlineBlobsTable;
  session_history: SessionHistoryTable;
  live_sessions: LiveSessionsTable;
  trace_switches: TraceSwitchesTable;
  trace_lines: TraceLinesTable;
  admin_accounts: AdminAccountsTable;
  admin_tokens: AdminTokensTable;
  admin_sessions: AdminSessionsTable;
  traffic_hourly: TrafficHourlyTable;
  domains: DomainsTable;
  accounts: AccountsTable;
  aliases: AliasesTable;
  mailboxes: MailboxesTable;
  messages: MessagesTable;
  tombstones: TombstonesTable;
  audit_log: AuditLogTable;
  leases: LeasesTable;
  queue: QueueTable;
  filter_greylist: FilterGreylistTable;
  filter_accounts: FilterAccountsTable;
  filter_lists: FilterListsTable;
  filter_senders: FilterSendersTable;
  auth_failures: AuthFailuresTable;
  mta_sts_policies: MtaStsPoliciesTable;
  sieve_scripts: SieveScriptsTable;
  sieve_replies: SieveRepliesTable;
  monitor_probes: MonitorProbesTable;
  monitor_probe_days: MonitorProbeDaysTable;
  monitor_incidents: MonitorIncidentsTable;
  monitor_incident_updates: MonitorIncidentUpdatesTable;
  monitor_maintenance: MonitorMaintenanceTable;
  monitor_alert_state: MonitorAlertStateTable;
  schema_version: SchemaVersionTable;
  tls_certificates: TlsCertificatesTable;
  acme_accounts: AcmeAccountsTable;
  acme_challenges: AcmeChallengesTable;
  webmail_sessions: WebmailSessionsTable;
  webmail_settings: WebmailSettingsTable;
  webmail_recipients: WebmailRecipientsTable;
  webmail_uploads: WebmailUploadsTable;
}
