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
import { parseHeaderBlock } from './headers.js';
import { newContext, parsePart } from './structure.js';
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
export { formatBodyStructure, formatEnvelope, formatPartStructure, imapString } from './imap-format.js';
export { resolveSection, type ByteRange, type ResolvedSection } from './section.js';
export { extractText, decodeTransferEncoding, type ExtractedText } from './text.js';
export { decodeCharset } from './charset.js';
export { parseHeaderBlock, type HeaderField, type HeaderBlock } from './headers.js';

/** Parses raw message bytes into a MessageIndex; never throws on malformed input. */
export function indexMessage(raw: Buffer, limits?: Partial<IndexLimits>): MessageIndex {
  const lim: IndexLimits = { ...DEFAULT_LIMITS, ...limits };
  const ctx = newContext(raw, lim);
  const root = parsePart(ctx, 0, raw.length, 0, false);
  // The top-level header is read again (cheaply) for the envelope and decoded fields.
  const { fields } = parseHeaderBlock(raw, 0, raw.length, lim.maxHeaderBytes);
  return {
    version: MESSAGE_INDEX_VERSION,
    size: raw.length,
    root,
    envelope: buildEnvelope(fields),
    decoded: buildDecoded(fields),
    sort: buildSortKeys(fields),
    hasAttachments: hasAttachments(root),
    partCount: ctx.parts,
    limited: ctx.limited,
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
