// IMAP section numbers → byte ranges (RFC 9051 6.4.5 FETCH BODY[<section>]).
// Every range is [start, end) into the raw message, so FETCH streams from the
// blob without parsing it again.
import type { MessageIndex, MimePart } from './types.js';

export type ByteRange = [start: number, end: number];

export interface ResolvedSection {
  part: MimePart;
  /** BODY[<path>]: the part's body; for the empty path, the whole message. */
  body: ByteRange;
  /** BODY[<path>.MIME]: the part's MIME header, blank line included; null for the empty path. */
  mime: ByteRange | null;
  /**
   * BODY[<path>.HEADER] / .TEXT (and HEADER.FIELDS): only for the top-level message and for
   * message/rfc822 or message/global parts; null otherwise (RFC 9051 6.4.5).
   */
  header: ByteRange | null;
  text: ByteRange | null;
}

function isMessagePart(p: MimePart): boolean {
  return p.message !== null;
}

/** Resolves numeric section parts; null when the path names no part. */
export function resolveSection(index: MessageIndex, sectionPath: readonly number[]): ResolvedSection | null {
  const root = index.root;
  if (sectionPath.length === 0) {
    return {
      part: root,
      body: [0, index.size],
      mime: null,
      header: [root.headerStart, root.bodyStart],
      text: [root.bodyStart, root.bodyEnd],
    };
  }
  // `scope` is the node whose sub-parts the next number selects.
  let scope: MimePart = root;
  let part: MimePart = root;
  for (let i = 0; i < sectionPath.length; i++) {
    const n = sectionPath[i] as number;
    if (!Number.isInteger(n) || n < 1) return null;
    if (scope.type === 'multipart') {
      const child = scope.children[n - 1];
      if (child === undefined) return null;
      part = child;
    } else {
      // A non-multipart has exactly one part, itself (RFC 9051 6.4.5: "part 1" of a single-part message).
      if (n !== 1) return null;
      part = scope;
    }
    // Further numbers inside a message/rfc822 part address the embedded message's parts.
    if (i + 1 < sectionPath.length) {
      if (part.message !== null) scope = part.message.root;
      else if (part.type === 'multipart') scope = part;
      else return null;
    }
  }
  const embedded = isMessagePart(part) ? part.message : null;
  return {
    part,
    body: [part.bodyStart, part.bodyEnd],
    mime: [part.headerStart, part.bodyStart],
    header: embedded === null ? null : [embedded.root.headerStart, embedded.root.bodyStart],
    text: embedded === null ? null : [embedded.root.bodyStart, embedded.root.bodyEnd],
  };
}
