// The exact bytes RETR and TOP send for a stored message, and their count.
//
// One encoder produces both the bytes and (in counting mode) the octet count
// that LIST and STAT report, so the two can never disagree (RFC 1939 5: the
// size in a scan listing is the exact size of the message as sent).
//
// Transformations, in one pass, streaming (chunk boundaries anywhere):
// - Line endings: CRLF, bare LF and bare CR each end one line and are sent as
//   CRLF (RFC 1939 3: lines end with CRLF; RFC 5322 2.3 forbids bare CR/LF).
// - Byte-stuffing: a line starting with "." gets another "." (RFC 1939 3).
// - NUL is sent as 0x80 (Outlook hangs on NUL; this is what Dovecot's
//   pop3_client_workarounds=outlook-no-nuls does).
// - A message without an empty line gets one after its last line, so the
//   client always sees a header section followed by a (maybe empty) body
//   (Dovecot's oe-ns-eoh workaround; Outlook Express/Netscape need it).
// - The last line always ends with CRLF before the terminating ".".
//
// TOP n (RFC 1939 7): the header section, the empty line, then at most n body
// lines — counted after the same transformations.

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const NUL = 0x00;

export class WireEncoder {
  private atLineStart = true;
  private pendingCR = false;
  private inHeaders = true;
  private bodyLinesLeft: number;
  private done = false;
  /** Octets produced so far. */
  total = 0;

  /**
   * @param topLines body lines to send (TOP), or undefined for the whole message.
   * @param scratch reuse one output buffer (counting only: the result is overwritten by the next call).
   */
  constructor(
    topLines?: number,
    private readonly scratch?: { buf: Buffer },
  ) {
    this.bodyLinesLeft = topLines ?? Infinity;
  }

  /** True once TOP has sent all the lines it wants: the rest of the input is ignored. */
  get finished(): boolean {
    return this.done;
  }

  write(chunk: Uint8Array): Buffer {
    if (this.done || chunk.length === 0) return EMPTY;
    const input = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // Fast path: a body chunk already in wire form goes out as it is.
    if (this.canPassThrough(input)) return this.passThrough(input, EMPTY);
    // Worst case: every byte becomes CRLF, or "." + "." at a line start.
    const need = input.length * 2 + 4;
    let out: Buffer;
    if (this.scratch) {
      if (this.scratch.buf.length < need) this.scratch.buf = Buffer.allocUnsafe(need);
      out = this.scratch.buf;
    } else {
      out = Buffer.allocUnsafe(need);
    }
    let o = 0;
    const n = input.length;
    // The rest of a chunk is checked for pass-through at most once: the check scans to
    // the end, so trying at every line of a chunk of short lines would be quadratic.
    let restChecked = false;
    for (let i = 0; i < n; i++) {
      const b = input[i]!;
      if (this.pendingCR) {
        this.pendingCR = false;
        if (b === LF) {
          // The CR already ended the line. Past the headers, the rest may need no work.
          if (!restChecked && !this.inHeaders && i + 1 < n) {
            restChecked = true;
            const rest = input.subarray(i + 1);
            if (this.canPassThrough(rest)) return this.passThrough(rest, out.subarray(0, this.count(o)));
          }
          continue;
        }
      }
      if (b === CR || b === LF) {
        out[o++] = CR;
        out[o++] = LF;
        if (b === CR) this.pendingCR = true;
        if (this.endLine()) break;
        continue;
      }
      if (this.atLineStart) {
        this.atLineStart = false;
        if (b === DOT) out[o++] = DOT;
      }
      out[o++] = b === NUL ? 0x80 : b;
    }
    return out.subarray(0, this.count(o));
  }

  private count(n: number): number {
    this.total += n;
    return n;
  }

  /**
   * True if `data` needs no change: we are in the body of a whole-message
   * transfer, between lines, and it has only CRLF line ends, no NUL and no
   * line starting with ".". Checked with native scans, not byte by byte.
   */
  private canPassThrough(data: Buffer): boolean {
    if (this.inHeaders || this.pendingCR || this.bodyLinesLeft !== Infinity || !this.atLineStart) return false;
    if (data[0] === DOT || data.indexOf(NUL) >= 0 || data.indexOf(LF_DOT) >= 0) return false;
    return onlyCrlfLineEnds(data);
  }

  private passThrough(data: Buffer, before: Buffer): Buffer {
    // canPassThrough() saw no bare CR, so the data ends with CRLF or mid-line.
    this.atLineStart = data[data.length - 1] === LF;
    this.total += data.length;
    if (this.scratch) return EMPTY;
    return before.length === 0 ? data : Buffer.concat([before, data]);
  }

  /** The bytes that complete the message after the input ended (not the "." line). */
  end(): Buffer {
    if (this.done) return EMPTY;
    let tail = '';
    if (!this.atLineStart) {
      tail += '\r\n';
      this.endLine();
    }
    if (this.inHeaders && !this.done) tail += '\r\n';
    this.done = true;
    const buf = Buffer.from(tail, 'latin1');
    this.total += buf.length;
    return buf;
  }

  /** Returns true when TOP has all the lines it needs. */
  private endLine(): boolean {
    const wasEmpty = this.atLineStart;
    this.atLineStart = true;
    if (this.inHeaders) {
      if (wasEmpty) {
        this.inHeaders = false;
        if (this.bodyLinesLeft === 0) this.done = true;
      }
      return this.done;
    }
    this.bodyLinesLeft--;
    if (this.bodyLinesLeft <= 0) this.done = true;
    return this.done;
  }
}

const EMPTY = Buffer.alloc(0);
const LF_DOT = Buffer.from('\n.');
/** A CR not followed by LF, or an LF not preceded by CR (also at the very start or end). */
/**
 * True if every LF in `data` follows a CR and every CR precedes an LF (so no bare line
 * end, and none split at either edge). Native scans per line end: several times
 * faster than a regular expression over the chunk as a string.
 */
export function onlyCrlfLineEnds(b: Buffer): boolean {
  for (let i = b.indexOf(LF); i >= 0; i = b.indexOf(LF, i + 1)) if (i === 0 || b[i - 1] !== CR) return false;
  for (let i = b.indexOf(CR); i >= 0; i = b.indexOf(CR, i + 1)) if (i === b.length - 1 || b[i + 1] !== LF) return false;
  return true;
}

/** Encodes a whole message held in memory (small messages, tests). */
export function encodeMessage(raw: Uint8Array, topLines?: number): Buffer {
  const enc = new WireEncoder(topLines);
  const body = enc.write(raw);
  return Buffer.concat([body, enc.end()]);
}

/** Counts the wire octets of a message streamed in chunks, without keeping them. */
export async function wireSizeOf(chunks: AsyncIterable<Uint8Array>): Promise<number> {
  const enc = new WireEncoder(undefined, { buf: Buffer.alloc(0) });
  for await (const chunk of chunks) enc.write(chunk);
  enc.end();
  return enc.total;
}
