// The shape of a message's cached MIME index. It is computed once at delivery
// (or APPEND) and stored as JSON next to the message row, so everything here is
// plain data: strings, numbers, booleans, null, arrays and objects.
//
// Rules this module depends on:
// - Offsets are byte offsets into the raw message blob, never character offsets.
// - Raw header values are kept as the header carried them (unfolded, RFC 5322
//   2.2.3) because IMAP ENVELOPE sends them unchanged (RFC 9051 7.5.2); decoded
//   values live in `decoded` and `sort`.
// - A header value that is not valid UTF-8 is kept as ISO-8859-1 (one character
//   per byte), so no input byte is ever lost or makes indexing fail.

/** Bumped whenever the stored shape changes; a stored index with another version is recomputed. */
export const MESSAGE_INDEX_VERSION = 1;

/** A Content-Type or Content-Disposition parameter (RFC 2045 5.1, RFC 2183 2). */
export interface MimeParam {
  /** Lower-cased name, without any RFC 2231 `*` or `*N` suffix. */
  name: string;
  /** The value decoded to Unicode (RFC 2231 continuations joined, charset applied). */
  value: string;
  /**
   * Present only when the header used RFC 2231 extended notation (`name*=charset'lang'%XX`):
   * the joined, still-encoded value. IMAP BODYSTRUCTURE sends it as `"name*" "<extended>"`
   * like Dovecot, so 7-bit clients still see what the sender wrote.
   */
  extended?: string;
}

export interface Disposition {
  /** Lower-cased: `inline`, `attachment`, or whatever the sender wrote. */
  type: string;
  params: MimeParam[];
}

/**
 * One IMAP ENVELOPE address (RFC 9051 7.5.2): [name, adl, mailbox, host]. Group syntax is
 * flattened the IMAP way: a start marker [null, null, groupName, null], the members, and an
 * end marker [null, null, null, null].
 */
export type EnvelopeAddress = [name: string | null, adl: string | null, mailbox: string | null, host: string | null];

/** RFC 9051 7.5.2 ENVELOPE, with raw (unfolded, not decoded) header values. */
export interface Envelope {
  date: string | null;
  subject: string | null;
  from: EnvelopeAddress[] | null;
  /** Defaults to `from` when the header is absent or has no address. */
  sender: EnvelopeAddress[] | null;
  /** Defaults to `from` when the header is absent or has no address. */
  replyTo: EnvelopeAddress[] | null;
  to: EnvelopeAddress[] | null;
  cc: EnvelopeAddress[] | null;
  bcc: EnvelopeAddress[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

/** A message embedded in a message/rfc822 or message/global part. */
export interface EmbeddedMessage {
  envelope: Envelope;
  /** The embedded message's top part: headerStart is the enclosing part's bodyStart. */
  root: MimePart;
}

export interface MimePart {
  /** First byte of this part's header (for the top-level message: 0). */
  headerStart: number;
  /** First byte after the blank line that ends the header (== bodyEnd when there is no body). */
  bodyStart: number;
  /** One past the last body byte. The CRLF before a boundary belongs to the boundary (RFC 2046 5.1.1). */
  bodyEnd: number;
  /** Lower-cased media type and subtype; RFC 2045 5.2 default text/plain. */
  type: string;
  subtype: string;
  /** Content-Type parameters in header order; text/* always has a charset (RFC 2045 5.2: us-ascii). */
  params: MimeParam[];
  id: string | null;
  description: string | null;
  /** Lower-cased Content-Transfer-Encoding; RFC 2045 6.1 default `7bit`. */
  encoding: string;
  /** Body size in octets as stored (still transfer-encoded). */
  size: number;
  /** Lines in the body for text/* and message/rfc822|global parts, else null. */
  lines: number | null;
  disposition: Disposition | null;
  /** Content-Language tags (RFC 3282), or null when absent. */
  language: string[] | null;
  location: string | null;
  /** Sub-parts of a multipart, in order; empty for every other type. */
  children: MimePart[];
  /** The embedded message of a message/rfc822 or message/global part, else null. */
  message: EmbeddedMessage | null;
}

/** A decoded address for display, search and sorting. */
export interface DecodedAddress {
  /** RFC 2047-decoded display name, '' when there is none. */
  name: string;
  /** `mailbox@host`, or just the mailbox when the host is missing. */
  address: string;
  /** The group this address was listed in (RFC 5322 3.4), if any. */
  group?: string;
}

export interface DecodedHeaders {
  subject: string | null;
  from: DecodedAddress[];
  sender: DecodedAddress[];
  replyTo: DecodedAddress[];
  to: DecodedAddress[];
  cc: DecodedAddress[];
  bcc: DecodedAddress[];
  /** Date header as epoch milliseconds, null when missing or unparseable. */
  date: number | null;
  /** `<id>` with angle brackets, whitespace and comments removed. */
  messageId: string | null;
  /** The first msg-id of In-Reply-To. */
  inReplyTo: string | null;
  /** All msg-ids of References, in order (RFC 5256 THREAD=REFERENCES). */
  references: string[];
}

/** RFC 5256 / RFC 5957 SORT keys, precomputed so SORT never reads the blob. */
export interface SortKeys {
  /** RFC 5256 2.1 base subject. */
  subject: string;
  /** True when the subject carried a reply/forward marker (RFC 5256 2.1 step 6 / THREAD). */
  subjectIsReplyOrForward: boolean;
  /** addr-mailbox of the first From/To/Cc address ('' when none). */
  from: string;
  to: string;
  cc: string;
  /** RFC 5957: display name of the first From/To address, else its addr-spec. */
  displayFrom: string;
  displayTo: string;
}

export interface MessageIndex {
  version: typeof MESSAGE_INDEX_VERSION;
  /** Raw message size in octets. */
  size: number;
  root: MimePart;
  envelope: Envelope;
  decoded: DecodedHeaders;
  sort: SortKeys;
  hasAttachments: boolean;
  /** Number of parts indexed, counting every node of the tree. */
  partCount: number;
  /** True when maxDepth or maxParts stopped the parse; the rest became opaque parts. */
  limited: boolean;
}

export interface IndexLimits {
  /** Nesting depth of multiparts and embedded messages (Dovecot uses 100). */
  maxDepth: number;
  /** Total parts in the tree. */
  maxParts: number;
  /** Header bytes read per part; the rest is skipped but still counted in offsets. */
  maxHeaderBytes: number;
}

export const DEFAULT_LIMITS: IndexLimits = { maxDepth: 50, maxParts: 2000, maxHeaderBytes: 256 * 1024 };
