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

export interface SchemaVersionTable {
  version: number;
  name: string;
  applied_at: number;
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

export interface Database {
  domains: DomainsTable;
  accounts: AccountsTable;
  aliases: AliasesTable;
  mailboxes: MailboxesTable;
  messages: MessagesTable;
  tombstones: TombstonesTable;
  audit_log: AuditLogTable;
  leases: LeasesTable;
  queue: QueueTable;
  schema_version: SchemaVersionTable;
  webmail_sessions: WebmailSessionsTable;
  webmail_settings: WebmailSettingsTable;
  webmail_recipients: WebmailRecipientsTable;
  webmail_uploads: WebmailUploadsTable;
}
