// Bytes of FETCH BODY[section] and BINARY[section] (RFC 9051 6.4.5, RFC 3516),
// cut from the blob with the byte ranges the MIME index keeps: nothing is
// re-parsed except the header block of a HEADER.FIELDS request.

import { decodeTransferEncoding, resolveSection, type MessageIndex } from '../mime/index.js';
import type { BodySection } from './parser/index.js';
import { no } from './errors.js';

/** Reads a message's bytes lazily: the header alone when that is all a FETCH needs. */
export class MessageBytes {
  private full: Buffer | null = null;
  private header: Buffer | null = null;
  constructor(
    private readonly load: (range?: { start: number; end: number }) => Promise<Buffer>,
    private readonly headerEnd: number,
  ) {}

  async slice(start: number, end: number): Promise<Buffer> {
    if (this.full) return this.full.subarray(start, end);
    if (end <= this.headerEnd) {
      if (this.header === null) this.header = this.headerEnd === 0 ? Buffer.alloc(0) : await this.load({ start: 0, end: this.headerEnd - 1 });
      return this.header.subarray(start, end);
    }
    this.full = await this.load();
    return this.full.subarray(start, end);
  }
}

/** Header fields named (or, with `not`, not named) in `fields`, then the blank line (RFC 9051 6.4.5). */
export function filterHeaderFields(header: Buffer, fields: readonly string[], not: boolean): Buffer {
  const wanted = new Set(fields.map((f) => f.toLowerCase()));
  const out: Buffer[] = [];
  let pos = 0;
  let keep = false;
  while (pos < header.length) {
    let eol = header.indexOf(0x0a, pos);
    eol = eol < 0 ? header.length : eol + 1;
    const line = header.subarray(pos, eol);
    pos = eol;
    const first = line[0];
    if (first === 0x0d || first === 0x0a) break; // the blank line ending the header
    if (first !== 0x20 && first !== 0x09) {
      const colon = line.indexOf(0x3a);
      const name = (colon < 0 ? '' : line.subarray(0, colon).toString('latin1')).trim().toLowerCase();
      keep = name !== '' && wanted.has(name) !== not;
    }
    if (keep) out.push(line);
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

/** The blob range of a section that is a plain slice (everything but HEADER.FIELDS), else null. */
export function sectionRange(index: MessageIndex, section: BodySection): [number, number] | null {
  const r = resolveSection(index, section.part);
  if (!r) return null;
  switch (section.text) {
    case null:
      return r.body;
    case 'MIME':
      return r.mime;
    case 'HEADER':
      return r.header;
    case 'TEXT':
      return r.text;
    default:
      return null;
  }
}

/** BODY[section] content, or null when the section names nothing in this message. */
export async function bodySection(bytes: MessageBytes, index: MessageIndex, section: BodySection): Promise<Buffer | null> {
  const r = resolveSection(index, section.part);
  if (!r) return null;
  const slice = (range: [number, number] | null): Promise<Buffer> | null => (range ? bytes.slice(range[0], range[1]) : null);
  switch (section.text) {
    case null:
      return slice(r.body);
    case 'MIME':
      return slice(r.mime);
    case 'HEADER':
      return slice(r.header);
    case 'TEXT':
      return slice(r.text);
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT': {
      const h = await slice(r.header);
      return h === null ? null : filterHeaderFields(h, section.fields, section.text === 'HEADER.FIELDS.NOT');
    }
  }
}

const DECODABLE = new Set(['7bit', '8bit', 'binary', 'base64', 'quoted-printable']);

/** BINARY[part]: the part's content with its transfer encoding removed (RFC 3516 4.2). */
export async function binarySection(bytes: MessageBytes, index: MessageIndex, part: number[]): Promise<Buffer | null> {
  const r = resolveSection(index, part);
  if (!r) return null;
  if (part.length === 0) return bytes.slice(r.body[0], r.body[1]);
  if (r.part.type === 'multipart') throw no('BINARY of a multipart is not defined', 'UNKNOWN-CTE');
  // RFC 3516 4.3: an encoding we cannot undo is UNKNOWN-CTE.
  if (!DECODABLE.has(r.part.encoding)) throw no(`Unknown Content-Transfer-Encoding ${r.part.encoding}`, 'UNKNOWN-CTE');
  return decodeTransferEncoding(await bytes.slice(r.body[0], r.body[1]), r.part.encoding);
}
