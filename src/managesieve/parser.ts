// ManageSieve input framing (RFC 5804 4): a line of atoms, numbers, quoted
// strings and literals; literals ({n+} as RFC 5804 specifies, {n} as some
// clients send) can span lines and carry CRLFs.
//
// Rules:
// - Pure: bytes in, complete lines of tokens out; no I/O.
// - Limits: a line (without its literals) of at most maxLineBytes, a literal of
//   at most maxLiteralBytes, at most MAX_TOKENS tokens. An oversized literal is
//   read and thrown away without being buffered, and the line is reported as
//   'too-large' so that the client gets a NO and the session goes on.

export type Token =
  | { kind: 'atom'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'string'; value: string; literal: boolean };

export type ParsedLine =
  | { kind: 'line'; tokens: Token[] }
  /** A malformed line: answer NO with this text. */
  | { kind: 'bad'; message: string }
  /** A literal over the limit was skipped; the first token (the command) when known. */
  | { kind: 'too-large'; command: string | null; size: number };

const MAX_TOKENS = 16;
const CR = 0x0d;
const LF = 0x0a;

export class LineParser {
  private buf: Buffer = Buffer.alloc(0);
  private tokens: Token[] = [];
  /** Bytes of an oversized literal still to throw away. */
  private skipping = 0;
  private skipped: { command: string | null; size: number } | null = null;

  constructor(
    private readonly maxLineBytes: number,
    private readonly maxLiteralBytes: number,
  ) {}

  reset(): void {
    this.buf = Buffer.alloc(0);
    this.tokens = [];
    this.skipping = 0;
    this.skipped = null;
  }

  push(chunk: Buffer): ParsedLine[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: ParsedLine[] = [];
    for (;;) {
      if (this.skipping > 0) {
        const n = Math.min(this.skipping, this.buf.length);
        this.skipping -= n;
        this.buf = this.buf.subarray(n);
        if (this.skipping > 0) return out;
      }
      const r = this.step();
      if (r === null) return out;
      if (r !== 'again') out.push(r);
    }
  }

  /** Parses what follows in the buffer up to the end of a line, or returns null to wait. */
  private step(): ParsedLine | 'again' | null {
    const lf = this.buf.indexOf(LF);
    if (lf < 0) {
      if (this.buf.length > this.maxLineBytes) {
        // Too long without a line end: drop what we have and resync at the next LF.
        this.buf = Buffer.alloc(0);
        this.tokens = [];
        this.skipping = 0;
        return { kind: 'bad', message: 'Line too long' };
      }
      return null;
    }
    const end = lf > 0 && this.buf[lf - 1] === CR ? lf - 1 : lf;
    const line = this.buf.subarray(0, end).toString('utf8');
    const rest = this.buf.subarray(lf + 1);
    if (end > this.maxLineBytes) {
      this.buf = rest;
      this.tokens = [];
      return { kind: 'bad', message: 'Line too long' };
    }
    const scanned = scanLine(line);
    if ('error' in scanned) {
      this.buf = rest;
      this.tokens = [];
      return { kind: 'bad', message: scanned.error };
    }
    // Taken into this.tokens only once the line (or its literal) is complete, since
    // an incomplete one is scanned again when more bytes arrive.
    const tokens = [...this.tokens, ...scanned.tokens];
    if (tokens.length > MAX_TOKENS) {
      this.buf = rest;
      this.tokens = [];
      return { kind: 'bad', message: 'Too many arguments' };
    }
    if (scanned.literal === null) {
      this.buf = rest;
      this.tokens = [];
      if (this.skipped) {
        const s = this.skipped;
        this.skipped = null;
        return { kind: 'too-large', command: s.command, size: s.size };
      }
      return { kind: 'line', tokens };
    }
    const size = scanned.literal;
    if (size > this.maxLiteralBytes || this.skipped) {
      const first = tokens[0];
      this.skipped ??= { command: first?.kind === 'atom' ? first.value.toUpperCase() : null, size };
      this.buf = rest;
      this.skipping = size;
      this.tokens = [];
      return 'again';
    }
    if (rest.length < size) return null;
    this.tokens = [...tokens, { kind: 'string', value: rest.subarray(0, size).toString('utf8'), literal: true }];
    this.buf = rest.subarray(size);
    // The line goes on after the literal (more arguments, or just CRLF).
    return this.step();
  }
}

/** Tokens of one line; `literal` is the size announced at its end, if any. */
function scanLine(line: string): { tokens: Token[]; literal: number | null } | { error: string } {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ') {
      i++;
      continue;
    }
    if (c === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= line.length) return { error: 'Unterminated quoted string' };
        const ch = line[i]!;
        if (ch === '"') break;
        if (ch === '\\') {
          const next = line[i + 1];
          if (next !== '"' && next !== '\\') return { error: 'Bad escape in quoted string' };
          v += next;
          i += 2;
          continue;
        }
        v += ch;
        i++;
      }
      i++;
      tokens.push({ kind: 'string', value: v, literal: false });
      continue;
    }
    if (c === '{') {
      const m = /^\{(\d{1,10})(\+?)\}$/.exec(line.slice(i));
      if (!m) return { error: 'Bad literal (expected {n+} at the end of the line)' };
      return { tokens, literal: Number(m[1]) };
    }
    const m = /^[^\s"{}()]+/.exec(line.slice(i));
    if (!m) return { error: `Unexpected character ${JSON.stringify(c)}` };
    const word = m[0];
    tokens.push(/^\d+$/.test(word) ? { kind: 'number', value: Number(word) } : { kind: 'atom', value: word });
    i += word.length;
  }
  return { tokens, literal: null };
}

/** A string for a response: quoted when short and simple, else a literal (RFC 5804 4). */
export function encodeString(s: string): string {
   
  if (s.length < 1024 && !/[\r\n\0"\\]/.test(s)) return `"${s}"`;
  if (s.length < 1024 && !/[\r\n\0]/.test(s)) return `"${s.replace(/[\\"]/g, (c) => '\\' + c)}"`;
  return `{${Buffer.byteLength(s, 'utf8')}}\r\n${s}`;
}
