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
    // Worst case: every byte becomes CRLF, or "." + "." at a line start.
    const need = chunk.length * 2 + 4;
    let out: Buffer;
    if (this.scratch) {
      if (this.scratch.buf.length < need) this.scratch.buf = Buffer.allocUnsafe(need);
      out = this.scratch.buf;
    } else {
      out = Buffer.allocUnsafe(need);
    }
    let o = 0;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const b = chunk[i]!;
      if (this.pendingCR) {
        this.pendingCR = false;
        if (b === LF) continue; // the CR already ended the line
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
    this.total += o;
    return out.subarray(0, o);
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
