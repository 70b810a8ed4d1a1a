// Plain data shapes shared by every Store backend and every protocol.
// Nothing here does I/O. Ids are numbers (SQLite INTEGER / PostgreSQL BIGINT
// kept below 2^53), UIDs and modseqs are numbers too (RFC 9051 UIDs are 32-bit,
// modseqs are 63-bit but a mailbox will not see 2^53 changes).

export type SpecialUse = '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive' | '\\All' | '\\Flagged';

/** RFC 9051 2.3.2 system flags. \Recent is session state and is not stored. */
export type SystemFlag = '\\Seen' | '\\Answered' | '\\Flagged' | '\\Deleted' | '\\Draft';
export const SYSTEM_FLAGS: readonly SystemFlag[] = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'];

export interface Domain {
  id: number;
  name: string; // lower-case, IDNA A-label form
  createdAt: Date;
}

export interface Account {
  id: number;
  address: string; // lower-case full address: the login name
  domainId: number;
  passwordHash: string; // argon2id PHC string
  quotaBytes: number; // 0 = unlimited
  usedBytes: number;
  disabled: boolean;
  createdAt: Date;
}

export interface Alias {
  id: number;
  /** `user@domain`, or `@domain` for the domain's catch-all. */
  source: string;
  domainId: number;
  targets: string[];
}

export interface Mailbox {
  id: number;
  accountId: number;
  /** UTF-8 name, `/` as hierarchy delimiter; INBOX is always spelled `INBOX`. */
  name: string;
  specialUse: SpecialUse | null;
  subscribed: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** Number of messages and their total size, maintained by every write. */
  messages: number;
  unseen: number;
  bytes: number;
}

/** One node of a parsed MIME tree, computed once at delivery time (mime/). */
export interface StoredStructure {
  /** Opaque to the store: the mime/ module defines and reads it. */
  readonly [key: string]: unknown;
}

export interface MessageMeta {
  mailboxId: number;
  uid: number;
  /** Stable for the life of this message and never reused, even across mailboxes (POP3 UIDL). A copy gets a new one. */
  messageId: string;
  modseq: number;
  flags: SystemFlag[];
  keywords: string[];
  internalDate: Date;
  size: number;
  blobId: string;
  /** Opaque cached structure (envelope, bodystructure, search headers). */
  structure: StoredStructure;
}

/** What a delivery or APPEND hands the store. The blob is already durable. */
export interface NewMessage {
  blobId: string;
  size: number;
  internalDate: Date;
  flags?: SystemFlag[];
  keywords?: string[];
  structure: StoredStructure;
}

export interface AppendResult {
  mailboxId: number;
  uid: number;
  uidValidity: number;
  modseq: number;
  messageId: string;
}

export type FlagOperation = 'add' | 'remove' | 'set';

export interface FlagChange {
  uid: number;
  modseq: number;
  flags: SystemFlag[];
  keywords: string[];
}

export interface CopyResult {
  uidValidity: number;
  /** Pairs of (source uid, destination uid), in source order. */
  mapping: Array<[number, number]>;
}

export interface ChangesSince {
  highestModseq: number;
  changed: MessageMeta[];
  /** UIDs expunged after the given modseq (from tombstones). */
  vanished: number[];
}

export interface AuditEntry {
  id: number;
  at: Date;
  actor: string; // 'user:alice@example.com', 'admin:root', 'system:quota', 'pop3:alice@…'
  action: string; // 'message.expunge', 'account.delete', …
  accountId: number | null;
  subject: string; // what was acted upon, human readable
  reason: string;
  detail: Record<string, unknown>;
}

/** Who is doing a removal, and why; every server-side removal needs one. */
export interface AuditContext {
  actor: string;
  reason: string;
}

export type RecipientResolution =
  | { kind: 'account'; account: Account }
  | { kind: 'alias'; alias: Alias; targets: string[] }
  | { kind: 'unknown-domain' }
  | { kind: 'unknown-user' };

export const DEFAULT_MAILBOXES: ReadonlyArray<{ name: string; specialUse: SpecialUse | null }> = [
  { name: 'INBOX', specialUse: null },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Trash', specialUse: '\\Trash' },
  { name: 'Junk', specialUse: '\\Junk' },
  { name: 'Archive', specialUse: '\\Archive' },
];

export type QueueState = 'queued' | 'delivered' | 'failed';

/** One outbound delivery: a message to the recipients at one domain. */
export interface QueueEntry {
  id: number;
  blobId: string;
  size: number;
  /** Envelope sender; '' for the null sender of bounces. */
  mailFrom: string;
  domain: string;
  recipients: string[];
  /** The submitting account, when the message came from submission. */
  accountId: number | null;
  state: QueueState;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewOutbound {
  blobId: string;
  size: number;
  mailFrom: string;
  recipients: string[];
  accountId?: number | null;
}

/** Greylisting (filter): how long an unknown triplet waits, and how long records live. */
/** An MTA-STS policy (RFC 8461 3.2) as fetched for a recipient domain. */
export interface MtaStsPolicy {
  /** The recipient domain (A-label, lower case). */
  domain: string;
  /** The `id` of the _mta-sts TXT record the policy was fetched for. */
  id: string;
  mode: 'enforce' | 'testing' | 'none';
  /** mx patterns: host names, or "*.example.net" for one leftmost label. */
  mx: string[];
  /** Seconds the policy may be cached. */
  maxAge: number;
  fetchedAt: Date;
  expiresAt: Date;
}

export interface GreylistPolicy {
  /** A retry is accepted once this long has passed since the first attempt. */
  delayMs: number;
  /** An unconfirmed triplet is forgotten after this long (the next attempt starts over). */
  retryWindowMs: number;
  /** A triplet that passed stays accepted this long after it was last seen. */
  passMs: number;
}

export type GreylistResult = { pass: true } | { pass: false; retryAfterMs: number };

export type FilterListKind = 'allow' | 'block';

/** One account's filter settings: junk threshold (null: the server default) and lists. */
export interface AccountFilterSettings {
  junkScore: number | null;
  /** Sender addresses or domains (lower case) whose mail is never junk / always junk. */
  allow: string[];
  block: string[];
}

/** What one account taught about one sender by moving its mail into or out of Junk. */
export interface SenderReputation {
  spam: number;
  ham: number;
}

/** A user's Sieve script (RFC 5804 names it; content is the script text). */
export interface SieveScriptInfo {
  name: string;
  active: boolean;
  /** Octets of the script text (UTF-8). */
  size: number;
  updatedAt: Date;
}

export interface SieveScript extends SieveScriptInfo {
  content: string;
}

/** An ACME account (RFC 8555 7.3): one key per CA directory, shared by every node. */
export interface AcmeAccount {
  directoryUrl: string;
  keyPem: string;
  /** The account URL the CA gave; null until registered. */
  accountUrl: string | null;
}

/** A host name's ACME certificate and its renewal state. */
export interface StoredCertificate {
  /** Lower-case host name. */
  name: string;
  /** Chain, leaf first; null until first issued. */
  certPem: string | null;
  keyPem: string | null;
  notAfter: Date | null;
  updatedAt: Date;
  /** Failed attempts since the last success. */
  failures: number;
  /** After a failure: not attempted again before this. */
  nextAttemptAt: Date | null;
  lastError: string | null;
}

/** The decoded text of a message, as the full-text search index keeps it. */
export interface SearchText {
  headers: string;
  body: string;
}

/**
 * Turns a message into its searchable text (mime/ provides the real one; the store
 * does not parse MIME). `version` names the extraction rules: a row written under
 * another version counts as not indexed, so a change of rules re-indexes.
 */
export interface SearchTextExtractor {
  readonly version: number;
  extract(raw: Buffer, structure: StoredStructure): SearchText;
}

/**
 * What SEARCH asks of the index: case-insensitive substrings (both sides lowercased
 * with String.prototype.toLowerCase, as IMAP's full scan does) of the headers, the
 * body, or either ('text'). The index keeps NUL and lone surrogates as U+FFFD, so a
 * value containing any of the three cannot be answered by it: searchText then
 * reports every message as unindexed.
 */
export type TextFilter =
  | { field: 'headers' | 'body' | 'text'; value: string }
  | { and: TextFilter[] }
  | { or: TextFilter[] };

export interface TextSearchResult {
  /** UIDs whose indexed text satisfies the filter exactly. */
  matched: number[];
  /** UIDs of messages the index does not cover yet: the caller checks them itself. */
  unindexed: number[];
}

/** One RFC 5464 METADATA entry: its name (lowercased) and value. */
export interface MetadataEntry {
  name: string;
  value: Buffer;
}
