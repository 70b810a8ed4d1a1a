// What a message needs from the receiving server, and the conversions that let it go to
// a server that lacks the extension.
//
// Rules:
// - RFC 6531 3.2: a message with UTF-8 in its envelope addresses or header fields needs
//   SMTPUTF8. Without it at the peer, the only downgrade done here is the safe one:
//   unstructured header fields (Subject, Comments) become RFC 2047 encoded words. A UTF-8
//   local part or UTF-8 in any other header field cannot be downgraded without changing
//   what the recipient sees: that is a permanent failure, 5.6.7 (RFC 6531 3.4).
//   A Unicode domain in an address is not a reason: it is sent as its A-label.
// - RFC 6152 3: 8-bit data in the body needs BODY=8BITMIME. Without 8BITMIME at the
//   peer, every part holding 8-bit bytes is re-encoded: text/* as quoted-printable,
//   anything else as base64; message/rfc822 and multipart/* are walked into, never
//   re-encoded themselves (RFC 2046 5.2.1, 5.1).
// - Conversion happens before DKIM signing (the caller signs what goes on the wire).
// - Limits: nesting deeper than MAX_DEPTH parts is refused rather than converted.

import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';
import { encodeWords } from 'nodemailer/lib/mime-funcs';
import { permanent } from './errors.js';

const MAX_DEPTH = 32;
const UNSTRUCTURED = new Set(['subject', 'comments']);
const NON_ASCII = /[^\p{ASCII}]/u;

export interface MessageNeeds {
  /** Non-ASCII in an envelope address local part or in a header field. */
  smtputf8: boolean;
  /** Bytes above 127 anywhere in the message. */
  eightBit: boolean;
}

function hasNonAscii(buf: Buffer): boolean {
  for (const b of buf) if (b > 0x7f) return true;
  return false;
}

/** Offset where the body starts (after the blank line), or the length when none. */
function headerEnd(buf: Buffer): { headerLength: number; bodyStart: number } {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { headerLength: crlf + 2, bodyStart: crlf + 4 };
  if (lf >= 0) return { headerLength: lf + 1, bodyStart: lf + 2 };
  return { headerLength: buf.length, bodyStart: buf.length };
}

function localPartNonAscii(address: string): boolean {
  const at = address.lastIndexOf('@');
  return NON_ASCII.test(at < 0 ? address : address.slice(0, at));
}

export function messageNeeds(envelope: { from: string; to: string[] }, message: Buffer): MessageNeeds {
  const { headerLength } = headerEnd(message);
  const utf8Address = [envelope.from, ...envelope.to].some(localPartNonAscii);
  return { smtputf8: utf8Address || hasNonAscii(message.subarray(0, headerLength)), eightBit: hasNonAscii(message) };
}

interface Field {
  name: string;
  /** The whole field, with folding and its final line break. */
  raw: string;
}

function splitFields(header: string): Field[] {
  const fields: Field[] = [];
  for (const line of header.split(/(?<=\n)/)) {
    if (/^[ \t]/.test(line) && fields.length > 0) fields[fields.length - 1]!.raw += line;
    else fields.push({ name: line.slice(0, Math.max(0, line.indexOf(':'))).trim().toLowerCase(), raw: line });
  }
  return fields;
}

/**
 * The header with UTF-8 unstructured fields as RFC 2047 encoded words; throws 5.6.7
 * when another field holds UTF-8.
 */
function downgradeHeader(header: Buffer): Buffer {
  if (!hasNonAscii(header)) return header;
  const out: string[] = [];
  for (const f of splitFields(header.toString('utf8'))) {
    if (!NON_ASCII.test(f.raw)) {
      out.push(f.raw);
      continue;
    }
    if (!UNSTRUCTURED.has(f.name)) throw permanent('5.6.7', `the ${f.name || 'header'} field holds UTF-8 and the receiving server does not support SMTPUTF8 (RFC 6531)`);
    const colon = f.raw.indexOf(':');
    const value = f.raw.slice(colon + 1).replace(/\r?\n[ \t]/g, ' ').trim();
    // Folded before each encoded word, so no line grows past the RFC 5322 2.1.1 limits.
    out.push(`${f.raw.slice(0, colon)}: ${encodeWords(value, 'Q', 52).replace(/ (?==\?)/g, '\r\n ')}\r\n`);
  }
  return Buffer.from(out.join(''), 'latin1');
}

/** The message's header fields safe for a peer without SMTPUTF8, or a 5.6.7 DeliveryError. */
export function downgradeUtf8(envelope: { from: string; to: string[] }, message: Buffer): Buffer {
  const bad = [envelope.from, ...envelope.to].find(localPartNonAscii);
  if (bad !== undefined) throw permanent('5.6.7', `the address ${bad} needs SMTPUTF8 and the receiving server does not support it (RFC 6531)`);
  const { headerLength } = headerEnd(message);
  return Buffer.concat([downgradeHeader(message.subarray(0, headerLength)), message.subarray(headerLength)]);
}

function headerValue(fields: Field[], name: string): string | undefined {
  const f = fields.find((x) => x.name === name);
  return f ? f.raw.slice(f.raw.indexOf(':') + 1).replace(/\r?\n[ \t]/g, ' ').trim() : undefined;
}

function boundaryOf(contentType: string): string | undefined {
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

/** One entity (message or body part) with 8-bit parts re-encoded as 7-bit (RFC 6152 3). */
function toSevenBit(entity: Buffer, depth: number): Buffer {
  if (!hasNonAscii(entity)) return entity;
  if (depth > MAX_DEPTH) throw permanent('5.6.3', 'the message is nested too deeply to convert to 7-bit');
  const { headerLength, bodyStart } = headerEnd(entity);
  const header = entity.subarray(0, headerLength);
  const body = entity.subarray(bodyStart);
  const fields = splitFields(header.toString('latin1'));
  const contentType = (headerValue(fields, 'content-type') ?? 'text/plain').toLowerCase();
  const type = contentType.split(';')[0]!.trim();
  if (type.startsWith('multipart/')) {
    const boundary = boundaryOf(headerValue(fields, 'content-type') ?? '');
    if (!boundary) return reencode(fields, body, 'base64');
    return Buffer.concat([sevenBitHeader(fields), convertMultipart(body, boundary, depth)]);
  }
  if (type === 'message/rfc822' || type === 'message/global') {
    return Buffer.concat([sevenBitHeader(fields), toSevenBit(body, depth + 1)]);
  }
  if (!hasNonAscii(body)) return entity;
  return reencode(fields, body, type.startsWith('text/') ? 'quoted-printable' : 'base64');
}

/** A composite entity's header, its "8bit"/"binary" encoding now "7bit" (RFC 2046 5.1, 5.2.1). */
function sevenBitHeader(fields: Field[]): Buffer {
  const out = fields.filter((f) => f.raw.trim() !== '').map((f) => (f.name === 'content-transfer-encoding' ? 'Content-Transfer-Encoding: 7bit\r\n' : f.raw.replace(/\r?\n/g, '\r\n')));
  return Buffer.from(`${out.join('')}\r\n`, 'latin1');
}

function reencode(fields: Field[], body: Buffer, encoding: 'quoted-printable' | 'base64'): Buffer {
  const kept = fields.filter((f) => f.name !== 'content-transfer-encoding' && f.raw.trim() !== '').map((f) => f.raw.replace(/\r?\n/g, '\r\n'));
  const encoded = encoding === 'base64' ? `${(body.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n')}\r\n` : qpWrap(qpEncode(body), 76);
  return Buffer.from(`${kept.join('')}Content-Transfer-Encoding: ${encoding}\r\n\r\n${encoded}`, 'latin1');
}

function convertMultipart(body: Buffer, boundary: string, depth: number): Buffer {
  const text = body.toString('latin1');
  const delimiter = new RegExp(`(^|\\r?\\n)--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(--)?[ \\t]*(?=\\r?\\n|$)`, 'g');
  const out: Buffer[] = [];
  let last = 0;
  let inPart = false;
  for (let m = delimiter.exec(text); m !== null; m = delimiter.exec(text)) {
    const chunk = body.subarray(last, m.index);
    if (inPart) {
      const part = chunk.subarray(chunk.indexOf('\n') + 1);
      out.push(body.subarray(last, last + chunk.indexOf('\n') + 1), toSevenBit(part, depth + 1));
    } else out.push(chunk);
    out.push(Buffer.from(m[0], 'latin1'));
    last = m.index + m[0].length;
    inPart = m[2] === undefined;
    if (!inPart) break;
  }
  out.push(body.subarray(last));
  return Buffer.concat(out);
}

/** The message with every 8-bit body part re-encoded (RFC 6152 3); header fields untouched. */
export function downgrade8Bit(message: Buffer): Buffer {
  return toSevenBit(message, 0);
}
