// Header block parsing with byte offsets (RFC 5322 2.2, 3.2.2).
// A header block ends at the first empty line; lines may end in CRLF or bare LF
// (mail written by Unix tools). Fields are unfolded by removing the line breaks
// and keeping the whitespace that follows them (RFC 5322 2.2.3).
import { bytesToString } from './charset.js';

export interface HeaderField {
  /** Lower-cased field name. */
  name: string;
  /** Unfolded value with surrounding whitespace removed; 8-bit bytes as UTF-8 or ISO-8859-1. */
  value: string;
}

export interface HeaderBlock {
  fields: HeaderField[];
  /** First byte after the empty line; `end` when the header runs to the end of its part. */
  bodyStart: number;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const COLON = 0x3a;

/**
 * Reads the header block in raw[start, end). Fields starting more than maxBytes
 * after `start` are skipped but the block's end is still found, so the body
 * offset stays right however large the header is.
 */
export function parseHeaderBlock(raw: Buffer, start: number, end: number, maxBytes: number): HeaderBlock {
  const fields: HeaderField[] = [];
  let pos = start;
  let bodyStart = end;
  let current: Buffer[] | null = null;
  let currentName = '';
  const flush = (): void => {
    if (current !== null) {
      const value = bytesToString(current.length === 1 ? (current[0] as Buffer) : Buffer.concat(current));
      fields.push({ name: currentName, value: value.trim() });
      current = null;
    }
  };
  while (pos < end) {
    let lf = raw.indexOf(LF, pos);
    if (lf < 0 || lf >= end) lf = -1;
    const next = lf < 0 ? end : lf + 1;
    let lineEnd = lf < 0 ? end : lf;
    if (lineEnd > pos && raw[lineEnd - 1] === CR) lineEnd--;
    if (lineEnd === pos) {
      // The empty line that ends the header (RFC 5322 2.1).
      bodyStart = next;
      break;
    }
    const first = raw[pos];
    if (first === SP || first === TAB) {
      if (current !== null) current.push(raw.subarray(pos, lineEnd));
    } else {
      flush();
      if (pos - start < maxBytes) {
        const colon = raw.indexOf(COLON, pos);
        if (colon >= 0 && colon < lineEnd) {
          // obs-optional (RFC 5322 4.5.2) allows whitespace before the colon.
          const name = raw.toString('latin1', pos, colon).trim().toLowerCase();
          if (name.length > 0) {
            currentName = name;
            current = [raw.subarray(colon + 1, lineEnd)];
          }
        }
      }
    }
    pos = next;
  }
  flush();
  return { fields, bodyStart };
}

/** The first field with that (lower-case) name, or null: the first one wins, as in Dovecot. */
export function headerValue(fields: readonly HeaderField[], name: string): string | null {
  for (const f of fields) if (f.name === name) return f.value;
  return null;
}
