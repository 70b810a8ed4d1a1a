// What the webmail API keeps in the store besides mail: sessions (so that a session
// works on every worker and node), per-account settings, past recipients for address
// autocomplete, pending uploads, and the paged / filtered message queries the message
// list and search need on large mailboxes.

import type { MessageMeta } from './types.js';

export interface WebmailSession {
  id: number;
  /** Not secret: names the session in capability URLs (inline images of a sandboxed body). */
  publicId: string;
  accountId: number;
  csrfToken: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  /** The client's address at sign-in. */
  remoteAddress: string;
}

export interface NewWebmailSession {
  tokenHash: string;
  publicId: string;
  accountId: number;
  csrfToken: string;
  expiresAt: Date;
  remoteAddress: string;
}

export interface WebmailSettings {
  displayName: string;
  signature: string;
}

export interface WebmailRecipient {
  address: string;
  name: string;
  uses: number;
}

export interface WebmailUpload {
  id: string;
  accountId: number;
  blobId: string;
  filename: string;
  contentType: string;
  size: number;
  createdAt: Date;
}

export type MessageSortKey = 'date' | 'from' | 'subject' | 'size';

export interface MessagePageQuery {
  sort: MessageSortKey;
  descending: boolean;
  offset: number;
  limit: number;
  unread?: boolean;
  flagged?: boolean;
}

export interface MessageFilter {
  /** Case-insensitive substrings of the decoded headers. */
  from?: string;
  to?: string;
  subject?: string;
  /** Any of from, to, cc, subject (header part of a text search). */
  headerText?: string;
  after?: Date;
  before?: Date;
  hasAttachment?: boolean;
  unread?: boolean;
  flagged?: boolean;
}

/** What threading a folder needs of one message (read from its cached MIME index). */
export interface ThreadHeaders {
  uid: number;
  /** The cached index's format version (null when it has none): the caller decides whether it can use the rest. */
  indexVersion: number | null;
  /** Internal date, milliseconds since the epoch. */
  internalDate: number;
  size: number;
  /** The index's sort keys (RFC 5256 base subject; first sender); '' when absent. */
  subject: string;
  from: string;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
}

export interface WebmailStore {
  createSession(session: NewWebmailSession): Promise<WebmailSession>;
  /** The unexpired session with this token hash. */
  getSession(tokenHash: string): Promise<WebmailSession | undefined>;
  getSessionByPublicId(publicId: string): Promise<WebmailSession | undefined>;
  touchSession(id: number, expiresAt: Date): Promise<void>;
  deleteSession(id: number): Promise<void>;
  /** Signs the account out everywhere except `keepId` (after a password change). */
  deleteSessionsOf(accountId: number, keepId?: number): Promise<number>;
  deleteExpiredSessions(): Promise<number>;

  getSettings(accountId: number): Promise<WebmailSettings>;
  putSettings(accountId: number, settings: Partial<WebmailSettings>): Promise<WebmailSettings>;

  recordRecipients(accountId: number, recipients: Array<{ address: string; name: string }>): Promise<void>;
  suggestRecipients(accountId: number, prefix: string, limit: number): Promise<WebmailRecipient[]>;

  addUpload(upload: WebmailUpload): Promise<void>;
  getUpload(accountId: number, id: string): Promise<WebmailUpload | undefined>;
  deleteUpload(accountId: number, id: string): Promise<void>;
  /** Forgets uploads older than `before` (their blobs are left to garbage collection). */
  deleteUploadsBefore(before: Date): Promise<number>;

  /** One page of a mailbox in the given order, by indexed queries; with the count of matches. */
  pageMessages(mailboxId: number, query: MessagePageQuery): Promise<{ messages: MessageMeta[]; total: number }>;
  /**
   * Messages of the given mailboxes matching the filter, newest first, `offset`/`limit`
   * applied; `total` is the number of matches, counted up to `maxMatches` (default 10,000).
   */
  filterMessages(mailboxIds: number[], filter: MessageFilter, offset: number, limit: number, maxMatches?: number): Promise<{ messages: MessageMeta[]; total: number }>;
  /**
   * The threading headers of every message in the mailbox (unread / flagged only when
   * asked), by uid, extracted from the cached structures in the database: no structure
   * is carried whole or parsed in the process.
   */
  threadHeaders(mailboxId: number, only?: { unread?: boolean; flagged?: boolean }): Promise<ThreadHeaders[]>;
  /** Like filterMessages, but yields candidates newest first in batches (for body search). */
  scanMessages(mailboxIds: number[], filter: MessageFilter, batchSize: number): AsyncIterable<MessageMeta[]>;
}
