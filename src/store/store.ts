// The Store: the only way any part of Steadymail reads or changes persistent state.
//
// Rules every implementation keeps (the contract suite in ./contract checks them):
// - A promise that resolves means the change is committed and durable.
// - `(mailbox, uid)` is unique; uidNext only grows; a UID is never reused while the
//   mailbox's uidValidity stays the same.
// - Every change to a message bumps the mailbox's highestModseq and sets the
//   message's modseq to it; expunged UIDs leave a tombstone with their modseq.
// - Account quota usage equals the sum of the sizes of its messages.
// - ChangeBus events are published only after the commit they describe.
// - Blobs are written (and fsynced) before the metadata that references them.

import type {
  Account,
  AppendResult,
  Alias,
  AuditContext,
  AuditEntry,
  ChangesSince,
  CopyResult,
  Domain,
  FlagChange,
  FlagOperation,
  Mailbox,
  MessageMeta,
  NewMessage,
  NewOutbound,
  QueueEntry,
  MtaStsPolicy,
  QueueState,
  AccountFilterSettings,
  FilterListKind,
  GreylistPolicy,
  GreylistResult,
  SenderReputation,
  SieveScript,
  SieveScriptInfo,
  RecipientResolution,
  SpecialUse,
  StoredStructure,
  SystemFlag,
  AcmeAccount,
  StoredCertificate,
  SearchText,
  TextFilter,
  TextSearchResult,
  MetadataEntry,
} from './types.js';
import type { BlobStore } from './blobs/blob-store.js';
import type { MonitoringStore } from './sql/monitoring.js';
import type { SessionStore } from './sql/sessions.js';
import type { WebmailStore } from './webmail.js';
import type { AdminStore } from './admin.js';

export interface MailboxEvent {
  accountId: number;
  mailboxId: number;
  /** What changed; listeners re-read from the store with changesSince(). */
  kind: 'exists' | 'expunge' | 'flags';
  modseq: number;
  /** The UIDs concerned, when short; listeners must not rely on it being complete. */
  uids?: number[];
}

export interface MailboxListEvent {
  accountId: number;
  kind: 'mailbox-created' | 'mailbox-deleted' | 'mailbox-renamed' | 'subscription';
  name: string;
  newName?: string;
}

/** RFC 5464 METADATA entries set or removed on a mailbox, or (mailbox '') on the server. */
export interface MetadataEvent {
  accountId: number;
  kind: 'metadata';
  mailbox: string;
  entries: string[];
}

export type ChangeEvent = MailboxEvent | MailboxListEvent | MetadataEvent;

/** Publishes committed changes to every session, in this process or (farm mode) any node. */
export interface ChangeBus {
  publish(event: ChangeEvent): void;
  /** Listen to one account's changes. Returns the unsubscribe function. */
  subscribe(accountId: number, listener: (event: ChangeEvent) => void): () => void;
  close(): Promise<void>;
}

export interface NewAccount {
  address: string;
  passwordHash: string;
  quotaBytes?: number;
}

export interface AccountUpdate {
  passwordHash?: string;
  quotaBytes?: number;
  disabled?: boolean;
}

export interface FlagUpdate {
  uids: number[];
  operation: FlagOperation;
  flags: SystemFlag[];
  keywords: string[];
  /** RFC 7162 CONDSTORE UNCHANGEDSINCE: messages with a higher modseq are not changed. */
  unchangedSince?: number;
}

export interface FlagUpdateResult {
  highestModseq: number;
  /** Messages whose flags changed (with their new state). */
  changed: FlagChange[];
  /** UIDs skipped because of unchangedSince (RFC 7162 MODIFIED). */
  modified: number[];
}

export interface ListMessagesOptions {
  /** Only messages with uid >= this. */
  fromUid?: number;
  /** Leave out the cached structure (smaller rows for POP3 / flag syncs). */
  withoutStructure?: boolean;
  /** Only messages of more than this many bytes. */
  largerThan?: number;
}

export interface Lease {
  key: string;
  holder: string;
  expiresAt: Date;
}

export interface IntegrityProblem {
  kind:
    | 'mailbox-counters'
    | 'uid-next'
    | 'highest-modseq'
    | 'quota-usage'
    | 'orphan-messages'
    | 'orphan-mailboxes'
    | 'blob-missing'
    | 'blob-size'
    | 'blob-corrupt'
    | 'blob-unreferenced'
    | 'structure'
    | 'search-index';
  accountId?: number;
  mailbox?: string;
  blobId?: string;
  detail: string;
  /** Whether `repairIntegrity` fixes it without losing anything. */
  repairable: boolean;
}

export interface IntegrityCheckOptions {
  accountId?: number;
  /** 'exists' stats every referenced blob; 'hash' also re-hashes its bytes. */
  blobs?: 'none' | 'exists' | 'hash';
  /** Unreferenced blobs younger than this are normal (a delivery in flight). */
  blobGraceMs?: number;
  onProgress?: (done: number, total: number) => void;
}

/** One account as of one moment: what a single-account backup saves. */
export interface AccountSnapshot {
  account: Account;
  /** firstRecentUid: messages from this UID on are RFC 3501 \Recent (0: all of them). */
  mailboxes: Array<{ mailbox: Mailbox; firstRecentUid: number; messages: Array<Omit<MessageMeta, 'structure'>> }>;
}

export interface AuditQuery {
  accountId?: number;
  limit?: number;
  since?: Date;
  /** Only entries older than this id (paging backwards). */
  beforeId?: number;
  /** Exact actor, e.g. `admin:root` or `token:k3j4…`. */
  actor?: string;
  /** Exact action, or a prefix ending in `.` (`account.` matches every account action). */
  action?: string;
}

export interface StoreStats {
  domains: number;
  accounts: number;
  messages: number;
  bytes: number;
}

export interface Store {
  readonly driver: 'sqlite' | 'postgres';
  readonly blobs: BlobStore;
  readonly bus: ChangeBus;
  /** Sessions, settings, uploads and paged message queries of the webmail API. */
  readonly webmail: WebmailStore;
  /** Admin accounts, API tokens, admin sessions and hourly traffic of the operator console. */
  readonly admin: AdminStore;

  // Domains
  createDomain(name: string): Promise<Domain>;
  getDomain(name: string): Promise<Domain | undefined>;
  listDomains(): Promise<Domain[]>;
  /** Refuses while the domain still has accounts or aliases, unless `force`. */
  deleteDomain(name: string, audit: AuditContext, options?: { force?: boolean }): Promise<void>;

  // Accounts (each created with INBOX, Sent, Drafts, Trash, Junk, Archive)
  createAccount(account: NewAccount): Promise<Account>;
  getAccount(address: string): Promise<Account | undefined>;
  getAccountById(id: number): Promise<Account | undefined>;
  listAccounts(domain?: string): Promise<Account[]>;
  updateAccount(id: number, update: AccountUpdate): Promise<Account>;
  deleteAccount(id: number, audit: AuditContext): Promise<void>;

  // Aliases (`user@domain` or `@domain` catch-all → one or more addresses)
  addAlias(source: string, targets: string[]): Promise<Alias>;
  listAliases(domain?: string): Promise<Alias[]>;
  removeAlias(source: string): Promise<void>;
  /** Exact account, then exact alias, then the domain's catch-all. */
  resolveRecipient(address: string): Promise<RecipientResolution>;

  // Mailboxes
  listMailboxes(accountId: number): Promise<Mailbox[]>;
  getMailbox(accountId: number, name: string): Promise<Mailbox | undefined>;
  getMailboxById(mailboxId: number): Promise<Mailbox | undefined>;
  createMailbox(accountId: number, name: string, options?: { specialUse?: SpecialUse | null; subscribed?: boolean }): Promise<Mailbox>;
  /**
   * RFC 9051 6.3.6: renames the mailbox and its children. Renaming INBOX moves
   * its messages into a new mailbox and leaves INBOX empty.
   */
  renameMailbox(accountId: number, oldName: string, newName: string): Promise<void>;
  /** Deletes the mailbox and its messages (audited). INBOX cannot be deleted. */
  deleteMailbox(accountId: number, name: string, audit: AuditContext): Promise<void>;
  setSubscribed(accountId: number, name: string, subscribed: boolean): Promise<void>;

  // Messages
  /** Adds one message; the blob must already be durable in `blobs`. */
  appendMessage(mailboxId: number, message: NewMessage): Promise<AppendResult>;
  /**
   * Delivers one blob to several mailboxes (one per recipient) in one transaction.
   * With `ignoreQuota` false, a mailbox whose account is over quota is skipped and
   * reported with an OverQuota error in its slot.
   */
  deliverMessage(targets: number[], message: NewMessage): Promise<Array<AppendResult | Error>>;
  /**
   * RFC 3502 MULTIAPPEND: adds several messages to one mailbox in one transaction,
   * all or nothing (over quota, the mailbox gone: none is added). UIDs follow the order given.
   */
  appendMessages(mailboxId: number, messages: NewMessage[]): Promise<AppendResult[]>;
  listMessages(mailboxId: number, options?: ListMessagesOptions): Promise<MessageMeta[]>;
  getMessages(mailboxId: number, uids: number[]): Promise<MessageMeta[]>;
  updateFlags(mailboxId: number, update: FlagUpdate): Promise<FlagUpdateResult>;
  /** Removes the given UIDs (leaving tombstones); returns the UIDs actually removed. */
  expungeMessages(mailboxId: number, uids: number[], audit?: AuditContext): Promise<number[]>;
  copyMessages(fromMailboxId: number, uids: number[], toMailboxId: number): Promise<CopyResult>;
  /** RFC 6851 MOVE: copy + expunge in one transaction. */
  moveMessages(fromMailboxId: number, uids: number[], toMailboxId: number, audit?: AuditContext): Promise<CopyResult>;
  /**
   * Replaces a message's cached structure (re-indexed from its blob by repair). The
   * structure is derived data: no modseq change, no event, flags and UID untouched.
   */
  updateStructure(mailboxId: number, uid: number, structure: StoredStructure): Promise<void>;
  /** RFC 7162: messages changed and UIDs vanished after `modseq`. */
  changesSince(mailboxId: number, modseq: number): Promise<ChangesSince>;
  /**
   * RFC 3501 \Recent: the UIDs `from`..`to` (to = uidNext - 1; empty when from > to) are
   * recent. With `claim`, they are this caller's alone: the next caller gets only newer
   * UIDs. Without, nothing changes (EXAMINE, STATUS).
   */
  claimRecent(mailboxId: number, claim: boolean): Promise<{ from: number; to: number }>;

  // RFC 5464 METADATA: entries of a mailbox, or of the server (mailboxId null), per account.
  /** The entries named (case-insensitive), with those below them for depth '1' / 'infinity'. */
  getMetadata(accountId: number, mailboxId: number | null, names: string[], depth: '0' | '1' | 'infinity'): Promise<MetadataEntry[]>;
  /** Sets or (value null) removes entries, all or none; false (nothing changed) if more than maxEntries would remain. */
  setMetadata(accountId: number, mailboxId: number | null, entries: Array<{ name: string; value: Buffer | null }>, maxEntries: number): Promise<boolean>;

  // Full-text search index (IMAP SEARCH BODY/TEXT/HEADER). One row per blob, filled by
  // appendMessage/deliverMessage when the store was opened with a SearchTextExtractor,
  // and by indexSearchBacklog for older messages.
  /** Messages of the mailbox matching `filter`, and those not indexed yet. */
  searchText(mailboxId: number, filter: TextFilter): Promise<TextSearchResult>;
  /** Indexes one blob's text (idempotent), e.g. after a caller read it for a scan. */
  indexSearchText(blobId: string, text: SearchText): Promise<void>;
  /**
   * Indexes up to `limit` messages (by message row id, after `afterId`) that the index
   * lacks, with the store's extractor. Returns how many, and where to continue (null: done).
   */
  indexSearchBacklog(afterId: number, limit: number): Promise<{ indexed: number; next: number | null }>;

  // Outbound queue (entries per recipient domain; delivery is smtp/queue's work)
  /** Queues a durable blob for remote recipients: one entry per recipient domain, in one transaction. */
  enqueueOutbound(message: NewOutbound): Promise<QueueEntry[]>;
  listQueue(options?: { state?: QueueState; limit?: number }): Promise<QueueEntry[]>;
  getQueueEntry(id: number): Promise<QueueEntry | undefined>;
  /** Leases up to `limit` due, unleased (or lease-expired) queued entries to `holder`, atomically. */
  claimQueueEntries(holder: string, limit: number, leaseMs: number): Promise<QueueEntry[]>;
  /** Delivered: counts the attempt, clears the lease. */
  completeQueueEntry(id: number): Promise<QueueEntry>;
  /** Temporary failure: counts the attempt, records the error, due again at `nextAttemptAt`. */
  deferQueueEntry(id: number, error: string, nextAttemptAt: Date): Promise<QueueEntry>;
  /** Permanent failure: counts the attempt, records the error; never attempted again. */
  failQueueEntry(id: number, error: string): Promise<QueueEntry>;
  /** Queued again and due now (operator retry or flush). */
  retryQueueEntry(id: number): Promise<QueueEntry>;
  /** Removes the entry (audited). */
  deleteQueueEntry(id: number, audit: AuditContext): Promise<void>;

  // Inbound filter state (src/filter decides; these only record)
  /** Records an attempt of a greylisting triplet; pass once the policy's delay has passed. */
  greylist(triplet: string, policy: GreylistPolicy, now?: number): Promise<GreylistResult>;
  /** Marks a triplet as passed (a sender that authenticated need not retry). */
  greylistPass(triplet: string, now?: number): Promise<void>;
  /** Forgets triplets not seen since `before`; returns how many. */
  pruneGreylist(before: Date): Promise<number>;
  getFilterSettings(accountId: number): Promise<AccountFilterSettings>;
  /** null: the server's default junk score applies. */
  setJunkScore(accountId: number, score: number | null): Promise<void>;
  /** Adds (present) or removes a sender address or domain on an allow or block list. */
  setFilterListEntry(accountId: number, kind: FilterListKind, pattern: string, present: boolean): Promise<void>;
  /** Counts one Junk move (spam) or move out of Junk (ham) of a sender's mail. */
  learnSender(accountId: number, sender: string, verdict: 'spam' | 'ham'): Promise<void>;
  senderReputation(accountId: number, sender: string): Promise<SenderReputation>;
  // Sieve scripts (RFC 5804 semantics: names per account, at most one active)
  listSieveScripts(accountId: number): Promise<SieveScriptInfo[]>;
  getSieveScript(accountId: number, name: string): Promise<SieveScript | undefined>;
  getActiveSieveScript(accountId: number): Promise<SieveScript | undefined>;
  /** Creates or replaces the script's text (an active script stays active). */
  putSieveScript(accountId: number, name: string, content: string): Promise<void>;
  renameSieveScript(accountId: number, oldName: string, newName: string): Promise<void>;
  /** Refuses the active script with an 'in-use' StoreError. */
  deleteSieveScript(accountId: number, name: string): Promise<void>;
  /** Makes `name` the only active script; null deactivates every script. */
  activateSieveScript(accountId: number, name: string | null): Promise<void>;
  /** Vacation (RFC 5230 4.1): true, and recorded, when no reply under `handle` went to `sender` within its period. */
  recordAutoReply(accountId: number, handle: string, sender: string, periodMs: number): Promise<boolean>;

  // Audit log of removals and administrative actions
  audit(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void>;
  /** Newest first. */
  listAudit(options?: AuditQuery): Promise<AuditEntry[]>;

  // Leases: cross-process / cross-node exclusive holds (POP3 maildrop, queue claims)
  acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean>;
  renewLease(key: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease(key: string, holder: string): Promise<void>;

  // Failed-login counters (src/auth/throttle.ts), shared by every process and node.
  /**
   * Adds one failure to each key and returns each key's count within the window
   * (a key whose window began more than `windowMs` ago starts again at 1).
   */
  recordAuthFailures(keys: string[], windowMs: number): Promise<number[]>;
  /** Each key's failures within the window (0 when none or expired). */
  countAuthFailures(keys: string[], windowMs: number): Promise<number[]>;
  clearAuthFailures(keys: string[]): Promise<void>;
  /** Drops counters whose window ended; returns how many. */
  pruneAuthFailures(windowMs: number): Promise<number>;

  // MTA-STS policies the outbound queue fetched (RFC 8461 5.1), shared by every node.
  getMtaStsPolicy(domain: string): Promise<MtaStsPolicy | undefined>;
  /** Stores (or replaces) the cached policy of `policy.domain`. */
  putMtaStsPolicy(policy: MtaStsPolicy): Promise<void>;

  // TLS certificates from ACME (src/tls/acme.ts), shared by every node
  getAcmeAccount(directoryUrl: string): Promise<AcmeAccount | undefined>;
  /** Keeps the first account key stored for a directory (nodes racing to register end up with one); updates the URL for that key. */
  saveAcmeAccount(account: AcmeAccount): Promise<AcmeAccount>;
  listTlsCertificates(): Promise<StoredCertificate[]>;
  getTlsCertificate(name: string): Promise<StoredCertificate | undefined>;
  /** A newly issued certificate for `name`; clears its failure count. */
  saveTlsCertificate(name: string, certPem: string, keyPem: string, notAfter: Date): Promise<void>;
  /** A failed issuance: failures + 1, next attempt not before `nextAttemptAt`. */
  recordTlsCertificateFailure(name: string, error: string, nextAttemptAt: Date): Promise<StoredCertificate>;
  /** An HTTP-01 token any node answers until `expiresAt`. */
  putAcmeChallenge(token: string, keyAuthorization: string, name: string, expiresAt: Date): Promise<void>;
  getAcmeChallenge(token: string): Promise<string | undefined>;
  deleteAcmeChallenge(token: string): Promise<void>;

  // Maintenance
  /** Deletes blobs that no message references and that are older than `graceMs`. */
  collectGarbage(graceMs: number): Promise<{ examined: number; removed: number }>;
  stats(): Promise<StoreStats>;
  /** Read-only check of every store invariant; safe while serving. */
  checkIntegrity(options?: IntegrityCheckOptions): Promise<IntegrityProblem[]>;
  /** Fixes what checkIntegrity reports as repairable; returns what it did (audited). */
  repairIntegrity(audit: AuditContext, options?: { accountId?: number; blobGraceMs?: number }): Promise<string[]>;
  /**
   * SQLite only (undefined on PostgreSQL, which has pg_dump): writes a consistent
   * snapshot of the metadata database to `path` (a new file) while the store stays
   * in use. Blobs are not included; they are immutable files, copied separately.
   */
  readonly backupMetadata?: (path: string) => Promise<void>;
  /** Probe history, incidents, maintenance windows and alert state (src/monitor). */
  readonly monitoring: MonitoringStore;
  /** Session history, the live session list and per-account protocol traces (src/sessions). */
  readonly sessions: SessionStore;
  /**
   * One account's mailboxes and message metadata (without cached structures), read in
   * one snapshot while the store stays in use: for single-account backups.
   */
  snapshotAccount(address: string): Promise<AccountSnapshot | undefined>;
  /** Quick liveness check of the metadata database. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
