// POP3 command-line parser: pure, incremental, no I/O.
//
// RFC 1939 3: commands are a keyword, optional arguments separated by a single
// space, terminated by CRLF; keywords are case-insensitive.
// RFC 2449 4: a command line is at most 255 octets including the CRLF. Real
// clients send longer lines (long AUTH PLAIN initial responses, passwords), so
// we accept up to a configurable limit and only then refuse the line.
//
// Forgiving: a bare LF ends a line as well as CRLF; several spaces between
// arguments count as one; trailing spaces are ignored.

export type ParsedLine =
  | { kind: 'line'; text: string }
  /** The line exceeded the limit; its bytes up to the next LF were discarded. */
  | { kind: 'too-long' };

export class LineParser {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private discarding = false;

  /** `maxLineBytes` counts the whole line including its CRLF, as RFC 2449 4 does. */
  constructor(private readonly maxLineBytes: number) {}

  /** Bytes held waiting for the end of a line. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Feeds bytes and returns every complete line they finish. */
  push(data: Buffer): ParsedLine[] {
    const out: ParsedLine[] = [];
    let start = 0;
    while (start < data.length) {
      const nl = data.indexOf(0x0a, start);
      if (nl < 0) {
        this.keep(data.subarray(start));
        break;
      }
      const piece = data.subarray(start, nl);
      start = nl + 1;
      if (this.discarding) {
        this.discarding = false;
        this.reset();
        out.push({ kind: 'too-long' });
        continue;
      }
      if (this.buffered + piece.length + 1 > this.maxLineBytes) {
        this.reset();
        out.push({ kind: 'too-long' });
        continue;
      }
      const whole = this.chunks.length ? Buffer.concat([...this.chunks, piece]) : piece;
      this.reset();
      const end = whole.length > 0 && whole[whole.length - 1] === 0x0d ? whole.length - 1 : whole.length;
      // Command lines are ASCII (RFC 1939 3); latin1 keeps every byte as one
      // character so that nothing is lost or merged before the handlers look.
      out.push({ kind: 'line', text: whole.toString('latin1', 0, end) });
    }
    return out;
  }

  /** Forgets buffered input (after STLS: RFC 2595 3.1 / RFC 8314 plaintext injection). */
  reset(): void {
    this.chunks = [];
    this.buffered = 0;
  }

  private keep(piece: Buffer): void {
    if (this.discarding) return;
    if (this.buffered + piece.length + 1 > this.maxLineBytes) {
      // Too long already: stop buffering, drop everything up to the next LF.
      this.reset();
      this.discarding = true;
      return;
    }
    // Copy: the socket may reuse its buffer.
    this.chunks.push(Buffer.from(piece));
    this.buffered += piece.length;
  }
}

export interface Command {
  /** Upper-cased keyword. */
  keyword: string;
  /** Arguments split on runs of spaces. */
  args: string[];
  /** Everything after the keyword and its separating space, unchanged (PASS may contain spaces). */
  rest: string;
}

export function parseCommand(text: string): Command | undefined {
  const trimmed = text.replace(/^ +/, '');
  if (trimmed === '') return undefined;
  const sp = trimmed.indexOf(' ');
  const keyword = (sp < 0 ? trimmed : trimmed.slice(0, sp)).toUpperCase();
  // RFC 2449 3: keywords are 3-4 printable characters; allow a little more for unknown ones.
  if (!/^[\x21-\x7e]{1,20}$/.test(keyword)) return undefined;
  const rest = sp < 0 ? '' : trimmed.slice(sp + 1);
  const args = rest.split(' ').filter((a) => a !== '');
  return { keyword, args, rest };
}
