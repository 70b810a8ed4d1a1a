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
