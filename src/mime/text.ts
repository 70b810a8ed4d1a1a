// Decoded text of a message for SEARCH TEXT/BODY (RFC 9051 6.4.4) and webmail
// previews: transfer encodings undone (RFC 2045 6.7, 6.8), charsets converted,
// HTML reduced to text, all bounded by maxBytes so a huge message costs little.
import { decodeCharset } from './charset.js';
import { decodeMimeWords } from './encoded-words.js';
import { parseHeaderBlock } from './headers.js';
import { htmlToText } from './html.js';
import { paramValue } from './params.js';
import type { MessageIndex, MimePart } from './types.js';

export interface ExtractedText {
  /** Decoded header fields of the top-level message, one `Name: value` per line. */
  headers: string;
  /** Decoded text parts (and embedded messages' headers), separated by blank lines. */
  body: string;
  /** True when maxBytes cut the text short. */
  truncated: boolean;
}

/** RFC 2045 6.7: soft line breaks removed, =XX decoded; broken escapes are kept literally. */
export function decodeQuotedPrintable(buf: Buffer): Buffer {
  const out = Buffer.allocUnsafe(buf.length);
  let o = 0;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i] as number;
    if (c !== 0x3d) {
      out[o++] = c;
      continue;
    }
    const a = buf[i + 1];
    const b = buf[i + 2];
    if (a === 0x0a) {
      i += 1;
    } else if (a === 0x0d && b === 0x0a) {
      i += 2;
    } else if (a !== undefined && b !== undefined && isHex(a) && isHex(b)) {
      out[o++] = (hexVal(a) << 4) | hexVal(b);
      i += 2;
    } else {
      // "=" followed by trailing whitespace before a line break is also a soft break.
      let j = i + 1;
      while (buf[j] === 0x20 || buf[j] === 0x09) j++;
      if (buf[j] === 0x0a || (buf[j] === 0x0d && buf[j + 1] === 0x0a) || j >= buf.length) {
        i = buf[j] === 0x0d ? j + 1 : j;
      } else {
        out[o++] = c;
      }
    }
  }
  return out.subarray(0, o);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function hexVal(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10;
}

/** Undoes a Content-Transfer-Encoding; unknown encodings pass through unchanged. */
export function decodeTransferEncoding(buf: Buffer, encoding: string): Buffer {
  if (encoding === 'base64') return Buffer.from(buf.toString('latin1').replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(buf);
  return buf;
}

/**
 * A part's body with its transfer encoding undone: attachment downloads in webmail
 * and IMAP BINARY[] / BINARY.SIZE (RFC 3516). The bytes keep their charset.
 */
export function decodePartBody(raw: Buffer, part: MimePart): Buffer {
  return decodeTransferEncoding(raw.subarray(part.bodyStart, part.bodyEnd), part.encoding);
}

/** The decoded text of one text/* part, reading at most about `budget` output bytes of input. */
export function partText(raw: Buffer, part: MimePart, budget: number): string {
  const html = part.subtype === 'html';
  // Bound the input read: decoding never shrinks text by more than these factors
  // except for markup, which gets more room.
  const cap = Math.min(part.bodyEnd, part.bodyStart + budget * (html ? 32 : 8) + 4096);
  const decoded = decodeTransferEncoding(raw.subarray(part.bodyStart, cap), part.encoding);
  const text = decodeCharset(decoded, paramValue(part.params, 'charset'));
  return html ? htmlToText(text) : text.replace(/\r\n/g, '\n');
}

class Budget {
  used = 0;
  truncated = false;
  constructor(readonly max: number) {}
  take(s: string): string {
    const left = this.max - this.used;
    const len = Buffer.byteLength(s, 'utf8');
    if (len <= left) {
      this.used += len;
      return s;
    }
    this.truncated = true;
    this.used = this.max;
    return Buffer.from(s, 'utf8').subarray(0, Math.max(0, left)).toString('utf8').replace(/\uFFFD$/, '');
  }
  get left(): number {
    return this.max - this.used;
  }
}

/** Header bytes read for the searchable text: a field starting later is not in it. */
export const SEARCH_HEADER_MAX_BYTES = 64 * 1024;

function headerText(raw: Buffer, start: number, end: number): string {
  const { fields } = parseHeaderBlock(raw, start, end, SEARCH_HEADER_MAX_BYTES);
  return fields.map((f) => `${f.name}: ${decodeMimeWords(f.value)}`).join('\n');
}

function collect(raw: Buffer, part: MimePart, out: string[], budget: Budget): void {
  if (budget.left <= 0) return;
  if (part.type === 'multipart') {
    let kids = part.children;
    if (part.subtype === 'alternative') {
      // One rendering is enough: plain text if there is one, else the richest text part.
      const texts = kids.filter((k) => k.type === 'text' || k.type === 'multipart');
      const plain = texts.find((k) => k.type === 'text' && k.subtype === 'plain');
      const chosen = plain ?? texts[texts.length - 1];
      kids = chosen === undefined ? [] : [chosen];
    }
    for (const k of kids) collect(raw, k, out, budget);
    return;
  }
  if (part.message !== null) {
    const m = part.message;
    push(out, budget, headerText(raw, m.root.headerStart, m.root.bodyStart));
    collect(raw, m.root, out, budget);
    return;
  }
  if (part.type !== 'text') return;
  const text = partText(raw, part, budget.left).trim();
  push(out, budget, text);
}

/** Appends a block of text, its blank-line separator counted against the budget too. */
function push(out: string[], budget: Budget, text: string): void {
  if (text === '' || budget.left <= 0) return;
  const taken = budget.take(out.length > 0 ? '\n\n' + text : text);
  if (taken !== '') out.push(taken);
}

/** Decoded headers and text of a message, at most maxBytes (UTF-8) in total. */
export function extractText(raw: Buffer, index: MessageIndex, options: { maxBytes: number }): ExtractedText {
  const budget = new Budget(Math.max(0, options.maxBytes));
  const headers = budget.take(headerText(raw, index.root.headerStart, index.root.bodyStart));
  const out: string[] = [];
  collect(raw, index.root, out, budget);
  return { headers, body: out.join('').trim(), truncated: budget.truncated };
}
