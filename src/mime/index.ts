// Public API of the MIME indexer. A message is parsed once, at delivery or
// APPEND, into a MessageIndex stored as JSON; IMAP FETCH/SEARCH/SORT, POP3 TOP
// and webmail read that index and byte ranges of the blob, never re-parse.
//
// Rules:
// - indexMessage never throws, whatever the bytes.
// - A stored index whose version differs from MESSAGE_INDEX_VERSION is recomputed
//   by the caller (readMessageIndex returns null for it).
import { hasAttachments } from './attachments.js';
import { buildDecoded, buildSortKeys } from './decoded.js';
import { buildEnvelope } from './envelope.js';
import { HeaderView, INDEXED_FIELDS } from './header-view.js';
import { parseHeaderBlock } from './headers.js';
import { buildPart, newContext } from './structure.js';
import { DEFAULT_LIMITS, MESSAGE_INDEX_VERSION, type IndexLimits, type MessageIndex } from './types.js';

export type {
  DecodedAddress,
  DecodedHeaders,
  Disposition,
  EmbeddedMessage,
  Envelope,
  EnvelopeAddress,
  IndexLimits,
  MessageIndex,
  MimeParam,
  MimePart,
  SortKeys,
} from './types.js';
export { DEFAULT_LIMITS, MESSAGE_INDEX_VERSION } from './types.js';
export { parseAddressList, type ParsedAddress, type ParsedMailbox } from './address.js';
export { decodeMimeWords } from './encoded-words.js';
export { parseDate } from './date.js';
export { countLines } from './structure.js';
export { baseSubject } from './subject.js';
export { decodeAddresses } from './decoded.js';
export { formatBodyStructure, formatEnvelope, formatPartStructure, imapString, type ImapFormatOptions } from './imap-format.js';
export { resolveSection, topRange, type ByteRange, type ResolvedSection } from './section.js';
export { extractText, decodePartBody, decodeTransferEncoding, partText, type ExtractedText } from './text.js';
export { decodeCharset } from './charset.js';
export { parseHeaderBlock, type HeaderField, type HeaderBlock } from './headers.js';
export { attachmentFilename } from './attachments.js';

/** A limit given as NaN, negative or fractional would disable the guard it is meant to be. */
function sane(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? Math.floor(value) : fallback;
}

let processLimits: IndexLimits = DEFAULT_LIMITS;

/**
 * The limits every indexMessage() call of this process uses unless given its own
 * (`[limits] mime_max_*`, set once at start-up). Beyond them a message is still stored
 * and served whole: deeper parts are opaque, later parts belong to the last one indexed.
 */
export function setIndexLimits(limits: IndexLimits): void {
  processLimits = {
    maxDepth: sane(limits.maxDepth, DEFAULT_LIMITS.maxDepth),
    maxParts: sane(limits.maxParts, DEFAULT_LIMITS.maxParts),
    maxHeaderBytes: sane(limits.maxHeaderBytes, DEFAULT_LIMITS.maxHeaderBytes),
  };
}

/**
 * Parses raw message bytes into a MessageIndex; never throws. Malformed input is
 * indexed as well as it can be (the fuzz tests hold it to that). Should a bug still
 * throw, delivery must not fail: the message is indexed as one opaque part and
 * `error` says why, so the caller can log it and re-index after a fix.
 */
export function indexMessage(raw: Buffer, limits?: Partial<IndexLimits>): MessageIndex {
  const lim: IndexLimits = {
    maxDepth: sane(limits?.maxDepth, processLimits.maxDepth),
    maxParts: sane(limits?.maxParts, processLimits.maxParts),
    maxHeaderBytes: sane(limits?.maxHeaderBytes, processLimits.maxHeaderBytes),
  };
  try {
    const ctx = newContext(raw, lim);
    const block = parseHeaderBlock(raw, 0, raw.length, lim.maxHeaderBytes, INDEXED_FIELDS);
    const root = buildPart(ctx, block.fields, 0, block.bodyStart, raw.length, 0, false);
    const header = new HeaderView(block.fields);
    return {
      version: MESSAGE_INDEX_VERSION,
      size: raw.length,
      root,
      envelope: buildEnvelope(header),
      decoded: buildDecoded(header),
      sort: buildSortKeys(header),
      hasAttachments: hasAttachments(root),
      partCount: ctx.parts,
      limited: ctx.limited,
      error: null,
    };
  } catch (err) {
    return opaqueIndex(raw, err instanceof Error ? err.message : String(err));
  }
}

function opaqueIndex(raw: Buffer, error: string): MessageIndex {
  const none = { date: null, subject: null, from: null, sender: null, replyTo: null, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null };
  return {
    version: MESSAGE_INDEX_VERSION,
    size: raw.length,
    root: {
      headerStart: 0, bodyStart: 0, bodyEnd: raw.length, type: 'application', subtype: 'octet-stream', params: [],
      id: null, description: null, encoding: '7bit', size: raw.length, lines: null, disposition: null,
      language: null, location: null, children: [], message: null,
    },
    envelope: none,
    decoded: { subject: null, from: [], sender: [], replyTo: [], to: [], cc: [], bcc: [], date: null, messageId: null, inReplyTo: null, references: [] },
    sort: { subject: '', subjectIsReplyOrForward: false, from: '', to: '', cc: '', displayFrom: '', displayTo: '' },
    hasAttachments: false,
    partCount: 1,
    limited: true,
    error,
  };
}

/**
 * The MessageIndex inside a stored structure (store/types StoredStructure), or null
 * when it was written by another format version and must be recomputed.
 */
export function readMessageIndex(stored: { readonly [key: string]: unknown }): MessageIndex | null {
  return stored['version'] === MESSAGE_INDEX_VERSION && typeof stored['root'] === 'object' ? (stored as unknown as MessageIndex) : null;
}

/** The index as the store's opaque StoredStructure (it is plain JSON data already). */
export function toStoredStructure(index: MessageIndex): { readonly [key: string]: unknown } {
  return index as unknown as { readonly [key: string]: unknown };
}
export { searchTextOf, searchTextExtractor, SEARCH_TEXT_MAX_BYTES, SEARCH_TEXT_VERSION } from './search-text.js';
export { SEARCH_HEADER_MAX_BYTES } from './text.js';
