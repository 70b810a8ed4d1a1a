// The webmail JSON API contract, shared by the server (src/http/api/) and the SPA
// (webmail/, which imports it with `import type`). Types only: this file must never
// import anything at runtime.
//
// Conventions for every route below:
// - All routes live under /api/. Request and response bodies are JSON (UTF-8) unless a
//   route says otherwise.
// - Authentication: a session cookie (`steadymail_session`, HttpOnly, SameSite=Lax,
//   Secure when served over TLS) set by POST /api/session.
// - CSRF: every mutating request (POST, PUT, PATCH, DELETE) except POST /api/session must
//   carry the header `X-CSRF-Token: <SessionInfo.csrfToken>`; without it: 403 `csrf`.
// - Errors: a non-2xx status with an `ApiError` body. 401 `unauthenticated` when there is
//   no valid session. A folder, message, upload or part that does not exist or belongs to
//   another account is answered the same: 404 `not-found`.
// - Ids are opaque strings: `FolderId` and `MessageId` must not be parsed by the client.
// - Dates are ISO 8601 strings (UTC).
//
// Routes (method, path → request → response):
//
// Session
//   POST   /api/session                       LoginRequest → SessionInfo   (401 bad-credentials, 429 throttled, 403 disabled)
//   GET    /api/session                       → SessionInfo                 (401 when signed out)
//   DELETE /api/session                       → OkResponse                  (signs out; cookie cleared)
//
// Folders
//   GET    /api/folders                       → FolderListResponse
//   POST   /api/folders                       CreateFolderRequest → Folder  (409 exists, 400 invalid-name)
//   PATCH  /api/folders/:folderId             RenameFolderRequest → Folder  (children move along)
//   DELETE /api/folders/:folderId             → OkResponse                  (INBOX and special-use folders: 400 protected)
//   POST   /api/folders/:folderId/empty       → EmptyFolderResponse         (only the Trash and Junk folders; else 400 protected)
//
// Messages
//   GET    /api/folders/:folderId/messages    query MessageListQuery → MessagePage
//   GET    /api/messages/:messageId           query MessageGetQuery → MessageDetail  (never 500: see MessageDetail.notice)
//   GET    /api/messages/:messageId/body      query MessageGetQuery → text/html   (the sanitised HTML document for a
//                                             sandboxed iframe; served with a strict Content-Security-Policy)
//   GET    /api/messages/:messageId/raw       → message/rfc822 (text/plain; charset=utf-8 with ?view=1), the stored bytes
//   GET    /api/messages/:messageId/parts/:partId   query { inline?: '1' } → the decoded part bytes with its
//                                             Content-Type and an RFC 6266 Content-Disposition (attachment unless inline=1)
//   GET    /api/messages/:messageId/cid/:contentId  → an inline part by Content-ID (used by sanitised HTML `cid:` images)
//   POST   /api/messages/flags                FlagRequest → BulkResponse
//   POST   /api/messages/move                 MoveRequest → BulkResponse
//   POST   /api/messages/delete               DeleteRequest → BulkResponse  (to Trash; removed for good when already in Trash)
//   POST   /api/messages/junk                 JunkRequest → BulkResponse    (junk: to Junk, keyword $Junk; not junk: to INBOX, $NotJunk)
//
// Search
//   GET    /api/search                        query SearchQuery → MessagePage
//
// Compose
//   POST   /api/uploads?filename=<name>       raw bytes (Content-Type: the file's type) → Upload
//                                             (413 too-large above WebmailLimits.maxUploadBytes)
//   DELETE /api/uploads/:uploadId             → OkResponse
//   POST   /api/send                          ComposeRequest → SendResponse  (400 invalid-header / invalid-address,
//                                             403 sender-not-owned, 413 too-large)
//   POST   /api/drafts                        ComposeRequest → DraftResponse (saved to Drafts; replaces `draftId`)
//   GET    /api/recipients?q=<prefix>&limit=  → RecipientSuggestions (past recipients of this account)
//
// Settings
//   GET    /api/settings                      → Settings
//   PUT    /api/settings                      SettingsUpdate → Settings
//   POST   /api/settings/password             PasswordChangeRequest → OkResponse (403 bad-credentials)
//
// Filters, vacation reply and forwarding (one Sieve script the webmail owns; see docs/sieve.md)
//   GET    /api/filters                       → FiltersState
//   PUT    /api/filters                       FiltersUpdate → FiltersState (400 invalid-request; 400 invalid-script
//                                             with SieveErrorResponse when the compiler refuses the generated script)
//   POST   /api/filters/activate              → FiltersState (makes the webmail's script the active one)
//
// Live updates
//   GET    /api/events                        text/event-stream of ServerEvent (see below)
//

// ───────────────────────────── common ─────────────────────────────

export type FolderId = string;
export type MessageId = string;
export type UploadId = string;
/** A MIME part path inside one message, e.g. "2" or "1.3" (IMAP section numbering). */
export type PartId = string;

export type ApiErrorCode =
  | 'unauthenticated'
  | 'bad-credentials'
  | 'throttled'
  | 'disabled'
  | 'csrf'
  | 'not-found'
  | 'invalid-request'
  | 'invalid-name'
  | 'invalid-header'
  | 'invalid-address'
  | 'exists'
  | 'protected'
  | 'sender-not-owned'
  | 'too-large'
  | 'over-quota'
  | 'unavailable'
  | 'invalid-script'
  | 'internal';

export interface ApiError {
  error: ApiErrorCode;
  /** Human-readable English text; not for parsing. */
  message: string;
}

export interface OkResponse {
  ok: true;
}

export interface WebmailAddress {
  /** Decoded display name ('' when there is none). */
  name: string;
  address: string;
}

// ───────────────────────────── session ─────────────────────────────

export interface LoginRequest {
  username: string;
  password: string;
}

export interface WebmailLimits {
  /** Largest single upload in bytes. */
  maxUploadBytes: number;
  /** Largest message that can be sent (all attachments included), bytes. */
  maxMessageBytes: number;
}

export interface SessionInfo {
  address: string;
  displayName: string;
  /** Send as `X-CSRF-Token` on every mutating request. Stable for the life of the session. */
  csrfToken: string;
  /** When the session ends unless used again (sliding expiry). */
  expiresAt: string;
  limits: WebmailLimits;
}

// ───────────────────────────── folders ─────────────────────────────

export type SpecialUseName = 'inbox' | 'sent' | 'drafts' | 'trash' | 'junk' | 'archive' | 'all' | 'flagged';

export interface Folder {
  id: FolderId;
  /** Full name with `/` as the hierarchy delimiter, e.g. "Projects/2026". */
  name: string;
  /** Last component of the name, for display. */
  displayName: string;
  /** Full name of the parent folder, null at the top level. */
  parent: string | null;
  /** INBOX is 'inbox'; the others from RFC 6154 special-use. */
  specialUse: SpecialUseName | null;
  total: number;
  unread: number;
  bytes: number;
  subscribed: boolean;
}

export interface FolderListResponse {
  /** Special-use folders first (inbox, drafts, sent, archive, junk, trash), then the others by name. */
  folders: Folder[];
}

export interface CreateFolderRequest {
  /** Full name, `/`-delimited; missing parents are created. */
  name: string;
}

export interface RenameFolderRequest {
  /** The new full name. */
  name: string;
}

export interface EmptyFolderResponse {
  removed: number;
}

// ───────────────────────────── messages ─────────────────────────────

export type MessageFlag = 'seen' | 'answered' | 'flagged' | 'draft';

export type SortField = 'date' | 'from' | 'subject' | 'size';
export type SortOrder = 'asc' | 'desc';

export interface MessageListQuery {
  /** Default 'date'. 'date' is the arrival time (IMAP internal date). */
  sort?: SortField;
  /** Default 'desc'. */
  order?: SortOrder;
  /** 0-based position of the first item; default 0. */
  offset?: number;
  /** Default 50, at most 500. */
  limit?: number;
  /**
   * '1': the whole folder is threaded by Message-ID / In-Reply-To / References and listed
   * thread by thread (threads ordered by `sort`: by their newest message for 'date', else by
   * their first message); each thread's messages follow each other, oldest first.
   * offset/limit still count messages, so a long thread simply continues on the next page.
   */
  threads?: '1' | '0';
  /** '1': only unread messages. */
  unread?: '1' | '0';
  /** '1': only flagged messages. */
  flagged?: '1' | '0';
}

export interface MessageSummary {
  id: MessageId;
  folderId: FolderId;
  /** IMAP UID in its folder (useful for debugging; ids are what the API takes). */
  uid: number;
  from: WebmailAddress[];
  to: WebmailAddress[];
  cc: WebmailAddress[];
  subject: string;
  /** The Date header, or the arrival time when the header is missing or broken. */
  date: string;
  /** Arrival time (IMAP internal date). */
  receivedAt: string;
  size: number;
  flags: MessageFlag[];
  /** IMAP keywords such as $Junk, $Forwarded. */
  keywords: string[];
  hasAttachments: boolean;
  /** Up to ~200 characters of the text, when cheaply known; '' otherwise. */
  preview: string;
  /**
   * Thread key. With threads=1: the thread's first message's Message-ID (the same for every
   * message of the thread). Else the first References entry, In-Reply-To or the own Message-ID.
   */
  threadId: string;
  /** With threads=1: 0 for a thread's first message, 1+ for a reply (one deeper than what it answers). Else 0. */
  threadDepth: number;
  messageIdHeader: string | null;
}

export interface MessagePage {
  items: MessageSummary[];
  /** Total number of matching messages (the folder's count, or the search's). */
  total: number;
  offset: number;
  limit: number;
  /** The folder's IMAP highest modseq when the page was read (changes after it arrive as events). */
  modseq: number;
  /** With threads=1: the number of threads in the folder (`total` counts messages). */
  threads?: number;
}

export interface MessageGetQuery {
  /** '1': remote images are left as they are instead of replaced by a placeholder. */
  images?: '1' | '0';
  /** '0': do not mark the message read when opened. Default '1'. */
  markSeen?: '1' | '0';
}

export interface AttachmentInfo {
  partId: PartId;
  /** From Content-Disposition / Content-Type name, RFC 2231 and RFC 2047 decoded; a generated name when none. */
  filename: string;
  contentType: string;
  /** Decoded size estimate in bytes (transfer encoding removed). */
  size: number;
  /** Content-ID without angle brackets, when the part has one. */
  contentId: string | null;
  /** True when the part is shown inside the HTML body (referenced via cid:). */
  inline: boolean;
  /** GET this URL to download. */
  url: string;
}

export interface MessageHeaders {
  from: WebmailAddress[];
  sender: WebmailAddress[];
  replyTo: WebmailAddress[];
  to: WebmailAddress[];
  cc: WebmailAddress[];
  bcc: WebmailAddress[];
  subject: string;
  date: string | null;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
}

export interface MessageDetail {
  summary: MessageSummary;
  headers: MessageHeaders;
  /**
   * Sanitised HTML body (a fragment: no <html>, <head>, scripts, forms, event handlers or
   * external CSS), or null when the message has no HTML part. `cid:` images point to
   * /api/messages/:id/cid/:contentId. Display it in a sandboxed iframe (or use `htmlUrl`).
   */
  html: string | null;
  /** The same HTML as a complete document with a strict CSP header, for `<iframe sandbox src>`. */
  htmlUrl: string | null;
  /** Plain-text body (the text/plain part, or the HTML's text when there is none). */
  text: string | null;
  /** Number of remote images replaced by a placeholder (0 with images=1). */
  blockedRemoteImages: number;
  attachments: AttachmentInfo[];
  /**
   * Set when the message could not be shown normally (malformed, too large, unknown charset):
   * a sentence for the user. `text` then holds what could be shown (possibly the raw source).
   */
  notice: string | null;
  /** True when `text` is the raw source because nothing better could be shown. */
  rawFallback: boolean;
  rawUrl: string;
}

export interface FlagRequest {
  ids: MessageId[];
  add?: MessageFlag[];
  remove?: MessageFlag[];
  /** Keywords to add / remove (IMAP atoms, e.g. "$Important"). */
  addKeywords?: string[];
  removeKeywords?: string[];
}

export interface MoveRequest {
  ids: MessageId[];
  folderId: FolderId;
}

export interface DeleteRequest {
  ids: MessageId[];
}

export interface JunkRequest {
  ids: MessageId[];
  /** true: mark as junk (move to Junk); false: not junk (move to INBOX). */
  junk: boolean;
}

export interface BulkResponse {
  /** Messages acted upon; ids unknown to this account are silently ignored. */
  count: number;
  /** For moves: the new ids of the moved messages, in request order of those found. */
  moved?: Array<{ from: MessageId; to: MessageId }>;
}

// ───────────────────────────── search ─────────────────────────────

export interface SearchQuery {
  /** Folder to search; omitted: every folder except Trash and Junk. */
  folderId?: FolderId;
  /** Any of from/to/subject/body/text: case-insensitive substring match. */
  from?: string;
  to?: string;
  subject?: string;
  body?: string;
  /** Matches from, to, cc, subject or body. */
  text?: string;
  /** ISO date (YYYY-MM-DD or full ISO); arrival on or after. */
  after?: string;
  /** ISO date; arrival before. */
  before?: string;
  hasAttachment?: '1' | '0';
  unread?: '1' | '0';
  flagged?: '1' | '0';
  offset?: number;
  /** Default 50, at most 200. */
  limit?: number;
}

// ───────────────────────────── compose ─────────────────────────────

export interface Upload {
  id: UploadId;
  filename: string;
  contentType: string;
  size: number;
}

export interface ComposeRequest {
  /** Defaults to the account's own address; must be the account or one of its aliases. */
  from?: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  subject: string;
  /** Plain-text body (sent as text/plain when there is no `html`). */
  text: string;
  /**
   * Rich-text body: sanitised server-side (as received HTML is) and sent as
   * multipart/alternative with a text/plain part generated from the sanitised HTML.
   */
  html?: string;
  /** Message-ID header of the message replied to (reply / reply-all). */
  inReplyTo?: string;
  references?: string[];
  /** Uploaded files to attach. */
  attachments?: UploadId[];
  /** Messages to attach as message/rfc822 (forward as attachment). */
  forwardAttachments?: MessageId[];
  /** The draft this replaces; removed from Drafts after a successful send or a new save. */
  draftId?: MessageId;
  /** Sets the \Answered flag (reply) or the $Forwarded keyword (forward) on this message after sending. */
  replyTo?: { messageId: MessageId; kind: 'reply' | 'forward' };
}

export interface SendResponse {
  /** The Message-ID header of the sent message. */
  messageIdHeader: string;
  /** The copy in Sent, when one was stored. */
  sentId: MessageId | null;
  /** Recipients handed to the outbound queue (remote domains). */
  queued: number;
  /** Recipients delivered to local mailboxes. */
  delivered: number;
}

export interface DraftResponse {
  id: MessageId;
  messageIdHeader: string;
}

export interface RecipientSuggestions {
  suggestions: Array<WebmailAddress & { uses: number }>;
}

// ───────────────────────────── settings ─────────────────────────────

export interface Settings {
  address: string;
  displayName: string;
  /** Plain text, appended to new messages by the client. */
  signature: string;
}

export interface SettingsUpdate {
  displayName?: string;
  signature?: string;
}

export interface PasswordChangeRequest {
  currentPassword: string;
  newPassword: string;
}

// ───────────────────────────── filters (Sieve) ─────────────────────────────
//
// The webmail keeps the user's rules, vacation reply and forwarding address as one Sieve
// script (named FiltersState.scriptName) that every Sieve client sees. Only one script is
// active per account: when another one (uploaded over ManageSieve) is active, the webmail
// shows it read-only and saves its own without activating it unless asked to.

export type FilterTextField = 'from' | 'to' | 'subject' | 'header';
export type FilterMatchType = 'contains' | 'is' | 'matches' | 'regex';

export type FilterCondition =
  /** from: the From header; to: To and Cc; header: the named header. `matches` takes * and ? wildcards; `regex` a POSIX extended regular expression (checked by the Sieve compiler). */
  | { field: FilterTextField; header?: string; match: FilterMatchType; value: string }
  /** Message size over / under this many kilobytes (1 KB = 1024 bytes). */
  | { field: 'size'; comparison: 'over' | 'under'; kilobytes: number };

export type FilterAction =
  /** move: file into the folder (and not into INBOX); copy: file a copy, INBOX keeps one. */
  | { kind: 'move' | 'copy'; folder: string }
  | { kind: 'mark-read' }
  | { kind: 'flag' }
  /** Redirect; keepCopy: the message is also kept (redirect :copy). */
  | { kind: 'forward'; address: string; keepCopy: boolean }
  | { kind: 'discard' }
  /** Refuse with this reason (the sender gets a notice). */
  | { kind: 'reject'; reason: string };

export interface FilterRule {
  name: string;
  enabled: boolean;
  /** all: every condition must hold (allof); any: one is enough (anyof). */
  match: 'all' | 'any';
  conditions: FilterCondition[];
  actions: FilterAction[];
  /** Rules below this one are not applied to a message this rule matched. */
  stop: boolean;
}

export interface VacationSettings {
  enabled: boolean;
  subject: string;
  body: string;
  /** One reply per sender per this many days. */
  days: number;
  /** Further addresses of the user that mail to is answered (aliases). */
  addresses: string[];
  /** YYYY-MM-DD, first and last day of the absence (server time); null: no bound. */
  start: string | null;
  end: string | null;
}

export interface ForwardingSettings {
  enabled: boolean;
  address: string;
  /** Keep a copy in this mailbox too. */
  keepCopy: boolean;
}

export interface MailFilters {
  rules: FilterRule[];
  vacation: VacationSettings;
  forwarding: ForwardingSettings;
}

export interface FiltersState extends MailFilters {
  /** The name of the webmail's script (as ManageSieve lists it). */
  scriptName: string;
  /** The script as stored ('' before the first save). */
  script: string;
  /** True when the webmail's script is the active one. */
  active: boolean;
  /** Another active script, shown read-only; null when none or when the webmail's is active. */
  otherActive: { name: string; content: string } | null;
  /** The webmail's script was changed by another client: the form shows its last webmail save, and saving replaces the change. */
  modifiedElsewhere: boolean;
  limits: { vacationMinDays: number; vacationMaxDays: number; maxRedirects: number };
}

export interface FiltersUpdate extends MailFilters {
  /** Make the webmail's script active even when another script is (default: only when none is or it already is). */
  activate?: boolean;
}

/** 400 invalid-script: where the Sieve compiler stopped in FiltersState.script's would-be text. */
export interface SieveErrorResponse extends ApiError {
  line: number;
  column: number;
  script: string;
}

// ───────────────────────────── live updates ─────────────────────────────
//
// GET /api/events is a text/event-stream. Each event has `event: <type>` and a JSON
// `data:` line. A comment line (`: ping`) is sent every ~25 s to keep proxies open.
// After any event the client re-reads what it shows (folder list, the current page);
// events say what changed, not the new state.

export interface FolderChangedEvent {
  type: 'folder';
  folderId: FolderId;
  /** exists: messages added; expunge: removed; flags: flags changed. */
  kind: 'exists' | 'expunge' | 'flags';
  modseq: number;
}

export interface FoldersChangedEvent {
  type: 'folders';
  kind: 'created' | 'deleted' | 'renamed' | 'subscription';
  name: string;
  newName?: string;
}

/** Sent first, once the stream is subscribed. */
export interface ReadyEvent {
  type: 'ready';
}

export type ServerEvent = FolderChangedEvent | FoldersChangedEvent | ReadyEvent;
