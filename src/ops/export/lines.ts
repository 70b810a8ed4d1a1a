// A stored message (CRLF line ends, as IMAP serves it) rewritten line by line for a
// file on disk, streamed from its blob with one line in memory at a time:
// - line ends become LF, the convention of mbox and Maildir files (the importers turn
//   them back into CRLF, so a message stored with CRLF comes back byte for byte);
// - header fields that mbox programs keep for themselves (Status, X-Status, X-Keywords,
//   X-UID, X-IMAP, X-IMAPbase, Content-Length: the ones Dovecot hides) are left out, and
//   `extraHeader` (our own flag fields) is added at the end of the header;
// - with `quoteFrom` (mboxrd), every line matching `>*From ` gets one more `>`.

/** Fields an mbox file keeps about the message rather than in it (Dovecot's list). */
export const MBOX_OWN_HEADERS = ['status', 'x-status', 'x-keywords', 'x-uid', 'x-imap', 'x-imapbase', 'content-length'];

export interface LineOptions {
  quoteFrom: boolean;
  /** Inserted before the empty line that ends the header, LF-terminated lines. */
  extraHeader?: string;
  hideMboxHeaders: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

function isFromLine(line: Buffer): boolean {
  let i = 0;
  while (line[i] === 0x3e) i++;
  return line.subarray(i, i + 5).toString('latin1') === 'From ';
}

function fieldName(line: Buffer): string | undefined {
  const colon = line.indexOf(0x3a);
  if (colon <= 0 || colon > 100) return undefined;
  return line.subarray(0, colon).toString('latin1').trim().toLowerCase();
}

/** Rewrites a message's chunks into the chunks of its on-disk form. */
export async function* diskLines(source: AsyncIterable<Buffer | Uint8Array | string>, options: LineOptions): AsyncGenerator<Buffer> {
  let inHeader = true;
  let hiding = false;
  let pending: Buffer | undefined;
  let endedWithNewline = true;
  const extra = options.extraHeader !== undefined && options.extraHeader !== '' ? Buffer.from(options.extraHeader, 'latin1') : undefined;

  // `line` has no line end; `terminated` says whether one followed in the message.
  function* emit(line: Buffer, terminated: boolean): Generator<Buffer> {
    if (inHeader) {
      if (line.length === 0 && terminated) {
        inHeader = false;
        if (extra) yield extra;
        yield Buffer.from('\n');
        return;
      }
      const continuation = line[0] === 0x20 || line[0] === 0x09;
      if (!continuation) hiding = options.hideMboxHeaders && MBOX_OWN_HEADERS.includes(fieldName(line) ?? '');
      if (hiding) return;
    }
    if (options.quoteFrom && isFromLine(line)) yield Buffer.from('>');
    yield terminated ? Buffer.concat([line, Buffer.from('\n')]) : line;
  }

  for await (const piece of source) {
    let buf = typeof piece === 'string' ? Buffer.from(piece, 'latin1') : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    if (buf.length === 0) continue;
    if (pending) {
      buf = Buffer.concat([pending, buf]);
      pending = undefined;
    }
    let start = 0;
    for (let nl = buf.indexOf(LF); nl !== -1; nl = buf.indexOf(LF, start)) {
      const end = nl > start && buf[nl - 1] === CR ? nl - 1 : nl;
      yield* emit(buf.subarray(start, end), true);
      start = nl + 1;
    }
    if (start < buf.length) pending = Buffer.from(buf.subarray(start));
  }
  if (pending) {
    endedWithNewline = false;
    yield* emit(pending, false);
  }
  // A message without a body (or without an empty line after its header).
  if (inHeader && extra) {
    if (!endedWithNewline) yield Buffer.from('\n');
    yield extra;
  }
}
