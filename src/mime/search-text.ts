// The text IMAP SEARCH matches BODY/TEXT/HEADER against, as one function shared by
// the search index (filled by the store) and SEARCH's own scan of messages the index
// does not cover: both must see exactly the same text for the results to agree.

import { extractText, type ExtractedText } from './text.js';
import { indexMessage, readMessageIndex } from './index.js';
import type { MessageIndex } from './types.js';

/** Text read per message (the rest of a huge message is not searched). */
export const SEARCH_TEXT_MAX_BYTES = 4 * 1024 * 1024;

/** Bump when extractText's output changes: the index then re-indexes every message. */
export const SEARCH_TEXT_VERSION = 1;

/** The searchable text of a message, from its stored structure when that is current. */
export function searchTextOf(raw: Buffer, index: MessageIndex | null): ExtractedText {
  return extractText(raw, index ?? indexMessage(raw), { maxBytes: SEARCH_TEXT_MAX_BYTES });
}

/** The store's SearchTextExtractor (store/types.ts), structurally. */
export const searchTextExtractor = {
  version: SEARCH_TEXT_VERSION,
  extract(raw: Buffer, structure: { readonly [key: string]: unknown }): { headers: string; body: string } {
    const t = searchTextOf(raw, readMessageIndex(structure));
    return { headers: t.headers, body: t.body };
  },
};
