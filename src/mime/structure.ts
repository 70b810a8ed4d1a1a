// The MIME part tree with byte offsets (RFC 2045, RFC 2046 5, RFC 2046 5.2.1).
//
// Rules:
// - Never throw on malformed input; every byte range stays inside its parent's.
// - A multipart is split top-down: an inner multipart without its closing
//   boundary ends where its parent's next boundary begins.
// - The CRLF (or bare LF) before a boundary line belongs to the boundary
//   (RFC 2046 5.1.1), so it is not part of the preceding body.
// - Limits turn the part that would exceed them into an opaque
//   application/octet-stream leaf, as Dovecot does, so the bytes stay fetchable.
import { buildEnvelope } from './envelope.js';
import { headerValue, parseHeaderBlock, type HeaderField } from './headers.js';
import { paramValue, parseContentType, parseDisposition, parseTokenHeader, skipCfws } from './params.js';
import type { IndexLimits, MimePart } from './types.js';

const LF = 0x0a;
const CR = 0x0d;

interface Ctx {
  raw: Buffer;
  limits: IndexLimits;
  parts: number;
  limited: boolean;
}

/** Lines in buf: every LF ends one, and a final unterminated line counts too. */
export function countLines(buf: Uint8Array): number {
  let n = 0;
  let pos = 0;
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  for (;;) {
    const lf = b.indexOf(LF, pos);
    if (lf < 0) break;
    n++;
    pos = lf + 1;
  }
  if (b.length > 0 && b[b.length - 1] !== LF) n++;
  return n;
}

function isMessageType(type: string, subtype: string): boolean {
  // RFC 9051 adds message/global (RFC 6532) beside message/rfc822.
  return type === 'message' && (subtype === 'rfc822' || subtype === 'global');
}

/** Identity encodings: only these leave an embedded message readable in place (RFC 2046 5.2.1). */
const IDENTITY = new Set(['7bit', '8bit', 'binary']);

export function parseLanguage(value: string | null): string[] | null {
  if (value === null) return null;
  const tags: string[] = [];
  for (const piece of value.split(',')) {
    const t = piece.slice(skipCfws(piece, 0)).replace(/\(.*$/, '').trim();
    if (t !== '') tags.push(t);
  }
  return tags.length > 0 ? tags : null;
}

/** Indexes the part whose header starts at `start` and which ends at `end`. */
export function parsePart(ctx: Ctx, start: number, end: number, depth: number, defaultMessage: boolean): MimePart {
  const block = parseHeaderBlock(ctx.raw, start, end, ctx.limits.maxHeaderBytes);
  return buildPart(ctx, block.fields, start, block.bodyStart, end, depth, defaultMessage);
}

function buildPart(
  ctx: Ctx,
  fields: HeaderField[],
  headerStart: number,
  bodyStart: number,
  bodyEnd: number,
  depth: number,
  defaultMessage: boolean,
): MimePart {
  ctx.parts++;
  const ctHeader = headerValue(fields, 'content-type');
  // RFC 2045 5.2 / RFC 2046 5.1.5: missing or unreadable Content-Type means the default.
  const ct = (ctHeader === null ? null : parseContentType(ctHeader)) ?? {
    type: defaultMessage ? 'message' : 'text',
    subtype: defaultMessage ? 'rfc822' : 'plain',
    params: [],
  };
  let { type, subtype } = ct;
  const params = ct.params;
  const encoding = parseTokenHeader(headerValue(fields, 'content-transfer-encoding') ?? '') ?? '7bit';
  const dispValue = headerValue(fields, 'content-disposition');
  const part: MimePart = {
    headerStart,
    bodyStart,
    bodyEnd,
    type,
    subtype,
    params,
    id: headerValue(fields, 'content-id'),
    description: headerValue(fields, 'content-description'),
    encoding,
    size: bodyEnd - bodyStart,
    lines: null,
    disposition: dispValue === null ? null : parseDisposition(dispValue),
    language: parseLanguage(headerValue(fields, 'content-language')),
    location: headerValue(fields, 'content-location'),
    children: [],
    message: null,
  };
  const overLimit = depth + 1 > ctx.limits.maxDepth || ctx.parts >= ctx.limits.maxParts;
  if (type === 'multipart' || (isMessageType(type, subtype) && IDENTITY.has(encoding))) {
    if (overLimit) {
      ctx.limited = true;
      type = 'application';
      subtype = 'octet-stream';
    } else if (type === 'multipart') {
      const boundary = paramValue(params, 'boundary');
      if (boundary !== null && boundary !== '') {
        for (const [s, e] of splitMultipart(ctx.raw, bodyStart, bodyEnd, boundary)) {
          if (ctx.parts >= ctx.limits.maxParts) {
            ctx.limited = true;
            break;
          }
          // RFC 2046 5.1.5: in multipart/digest the default part type is message/rfc822.
          part.children.push(parsePart(ctx, s, e, depth + 1, subtype === 'digest'));
        }
      }
    } else {
      const block = parseHeaderBlock(ctx.raw, bodyStart, bodyEnd, ctx.limits.maxHeaderBytes);
      part.message = {
        envelope: buildEnvelope(block.fields),
        root: buildPart(ctx, block.fields, bodyStart, block.bodyStart, bodyEnd, depth + 1, false),
      };
    }
  } else if (isMessageType(type, subtype)) {
    // A base64 or quoted-printable message/rfc822 cannot be addressed in place.
    type = 'application';
    subtype = 'octet-stream';
  }
  part.type = type;
  part.subtype = subtype;
  if (type === 'text' && paramValue(params, 'charset') === null) {
    params.push({ name: 'charset', value: 'us-ascii' });
  }
  if (type === 'text' || isMessageType(type, subtype)) {
    part.lines = countLines(ctx.raw.subarray(bodyStart, bodyEnd));
  }
  return part;
}

/** Splits a multipart body into its parts' [start, end) ranges (RFC 2046 5.1.1). */
export function splitMultipart(raw: Buffer, start: number, end: number, boundary: string): Array<[number, number]> {
  const delim = Buffer.from('--' + boundary, 'utf8');
  const out: Array<[number, number]> = [];
  let partStart = -1;
  let pos = start;
  while (pos < end) {
    const idx = raw.indexOf(delim, pos);
    if (idx < 0 || idx + delim.length > end) break;
    pos = idx + 1;
    if (idx !== start && raw[idx - 1] !== LF) continue;
    let j = idx + delim.length;
    const close = j + 1 < end && raw[j] === 0x2d && raw[j + 1] === 0x2d;
    let lineEnd = raw.indexOf(LF, j);
    if (lineEnd < 0 || lineEnd >= end) lineEnd = end;
    if (!close) {
      // Only transport padding may follow a delimiter; otherwise this is a longer boundary.
      for (; j < lineEnd; j++) {
        const c = raw[j];
        if (c !== 0x20 && c !== 0x09 && c !== CR) break;
      }
      if (j < lineEnd) continue;
    }
    if (partStart >= 0) {
      let prevEnd = idx;
      if (prevEnd > start && raw[prevEnd - 1] === LF) prevEnd--;
      if (prevEnd > start && raw[prevEnd - 1] === CR) prevEnd--;
      out.push([partStart, Math.max(partStart, prevEnd)]);
    }
    if (close) return out;
    partStart = Math.min(lineEnd + 1, end);
    pos = partStart;
  }
  // Missing close delimiter: the last part runs to the end of the multipart.
  if (partStart >= 0) out.push([partStart, end]);
  return out;
}

export function newContext(raw: Buffer, limits: IndexLimits): Ctx {
  return { raw, limits, parts: 0, limited: false };
}
