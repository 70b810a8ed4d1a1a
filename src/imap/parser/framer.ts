// Incremental IMAP framer: bytes in, whole commands out (RFC 9051 2.2, 4.3).
//
// Rules this file depends on:
// - It never does I/O. The session pushes socket chunks and pulls events one at a
//   time with next(), so it can switch mode (IDLE, AUTHENTICATE) between events.
// - A command is one or more lines; a line ending in a literal marker `{n}`,
//   `{n+}` (RFC 7888), `~{n}` or `~{n+}` (RFC 3516) is followed by exactly n bytes
//   and then the rest of the command. The command handed out is the wire bytes
//   with the final CRLF removed, literals included, so the grammar parser can
//   tokenise it without knowing about framing.
// - A synchronizing literal is announced with a 'literal-request' event; the
//   session must answer `+ Ready for literal data` (or call refuseLiteral() and
//   answer with a tagged NO/BAD, after which the client will not send it).
// - On any limit violation the framer emits one 'error' event and resyncs: the
//   rest of the line is dropped, a non-synchronizing literal that was announced is
//   skipped byte for byte (its content is never parsed as commands), and a
//   synchronizing one is simply never requested.

import { COMMANDS_WITH_ARGS } from './command-names.js';
import { ParseError } from './errors.js';

export interface FramerLimits {
  /** Longest line, excluding literal data and the CRLF. */
  maxLineBytes: number;
  /** Largest single literal. */
  maxLiteralBytes: number;
  /** Largest command: all its lines and literals together. */
  maxCommandBytes: number;
  /** The server advertises LITERAL- (RFC 7888 3): non-synchronizing literals are capped at 4096 bytes. */
  literalMinus?: boolean;
}

export type FramerMode = 'command' | 'idle' | 'authenticate';

export type FrameEvent =
  | { type: 'command'; bytes: Buffer; tag: string | undefined; /** Upper-case, `UID FETCH` style; for logs and metrics. */ command: string | undefined }
  /** A synchronizing literal was announced: send a continuation request (or refuse it). */
  | { type: 'literal-request'; tag: string | undefined; command: string | undefined; size: number; binary: boolean }
  | { type: 'error'; error: ParseError }
  /** IDLE ended by `DONE` (RFC 2177). */
  | { type: 'idle-done' }
  /** A SASL continuation line (RFC 9051 6.2.2), base64-decoded. */
  | { type: 'auth-response'; response: Buffer }
  /** The client cancelled the exchange with `*`. */
  | { type: 'auth-cancel' };

const PRECHECK_MAX_BYTES = 64 * 1024;

/** RFC 7888 3: LITERAL- allows non-synchronizing literals of at most 4096 octets. */
export const LITERAL_MINUS_MAX = 4096;

const LF = 0x0a;
const CR = 0x0d;
const CRLF = Buffer.from('\r\n');
// `{4294967295+}` is 13 bytes; 32 keeps room for the `~` and a few bytes of slack.
const TAIL_KEEP = 32;
const MARKER = /(~?)\{([0-9]+)(\+?)\}$/;
const TAG = /^[\x21\x23\x24\x26\x27\x2c-\x5b\x5d-\x7a\x7c-\x7e]+$/; // ASTRING-CHAR minus "+"

interface LiteralMarker {
  size: number;
  nonSync: boolean;
  binary: boolean;
}

/** Reads a literal marker at the very end of a line (CRLF already removed). */
export function literalMarkerAtEnd(line: Buffer): LiteralMarker | undefined {
  if (line.length === 0 || line[line.length - 1] !== 0x7d) return undefined;
  const m = MARKER.exec(line.subarray(Math.max(0, line.length - TAIL_KEEP)).toString('latin1'));
  if (!m) return undefined;
  const digits = m[2] ?? '';
  // Beyond 2^32-1 is not an IMAP number (RFC 9051 9, number); make it "too big".
  const size = digits.length > 10 ? Number.POSITIVE_INFINITY : Number(digits);
  return { size, nonSync: m[3] === '+', binary: m[1] === '~' };
}

type Phase = 'line' | 'literal' | 'skip-line' | 'skip-literal';

export class Framer {
  private readonly limits: FramerLimits;
  private input: Buffer = Buffer.alloc(0);
  private scanned = 0;
  private phase: Phase = 'line';
  private literalLeft = 0;
  private literalUntouched = false;
  private mode: FramerMode = 'command';
  // The command being assembled.
  private parts: Buffer[] = [];
  private commandBytes = 0;
  private tag: string | undefined;
  private command: string | undefined;
  /** The command was already rejected: consume the rest of it silently. */
  private discarding = false;
  private skipTail: Buffer = Buffer.alloc(0);

  private readonly precheck: ((prefix: Buffer) => ParseError | undefined) | undefined;

  /**
   * `precheck` sees the command so far before a synchronizing literal is
   * requested (normally `(p) => checkCommandPrefix(p, parserOptions)`); an error
   * it returns is emitted instead of the request and the literal is never read.
   * Without it only the tag and the command name are checked.
   */
  constructor(limits: FramerLimits, precheck?: (prefix: Buffer) => ParseError | undefined) {
    this.limits = limits;
    this.precheck = precheck;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
  }

  /**
   * The next line is read in this mode. 'idle' and 'authenticate' apply to one
   * line only: after its event the framer is back in 'command' mode.
   */
  setMode(mode: FramerMode): void {
    this.mode = mode;
  }

  getMode(): FramerMode {
    return this.mode;
  }

  /** True while the bytes being read are a literal's, not a command line's. */
  get readingLiteral(): boolean {
    return this.phase === 'literal' || this.phase === 'skip-literal';
  }

  /**
   * Refuse the synchronizing literal just announced by a 'literal-request'
   * event: the client sends nothing more for this command (RFC 9051 7.5).
   * Returns false when there is no such literal to refuse.
   */
  refuseLiteral(): boolean {
    if (this.phase !== 'literal' || !this.literalUntouched) return false;
    this.phase = 'line';
    this.resetCommand();
    return true;
  }

  /**
   * Removes and returns every byte not yet framed, and forgets any partial
   * command. After STARTTLS the session must drop these (bytes sent before the
   * TLS handshake must never run as commands: CVE-2011-0411 class); after
   * COMPRESS DEFLATE they are the first compressed bytes (RFC 4978 3).
   */
  takeBuffered(): Buffer {
    const rest = this.input;
    this.input = Buffer.alloc(0);
    this.scanned = 0;
    this.phase = 'line';
    this.literalLeft = 0;
    this.mode = 'command';
    this.resetCommand();
    return rest;
  }

  /** True when no partial command is buffered (safe point for STARTTLS / COMPRESS). */
  isIdle(): boolean {
    return this.input.length === 0 && this.parts.length === 0 && this.phase === 'line' && !this.discarding;
  }

  /** All events the buffered bytes produce now. Mode changes between events need next(). */
  drain(): FrameEvent[] {
    const out: FrameEvent[] = [];
    for (let ev = this.next(); ev; ev = this.next()) out.push(ev);
    return out;
  }

  /** The next event, or undefined when more bytes are needed. */
  next(): FrameEvent | undefined {
    while (true) {
      if (this.phase === 'literal' || this.phase === 'skip-literal') {
        if (this.input.length === 0) return undefined;
        const take = Math.min(this.literalLeft, this.input.length);
        if (this.phase === 'literal') this.parts.push(this.input.subarray(0, take));
        this.literalUntouched = false;
        this.input = this.input.subarray(take);
        this.literalLeft -= take;
        if (this.literalLeft > 0) return undefined;
        this.phase = 'line';
        continue;
      }
      const lf = this.input.indexOf(LF, this.scanned);
      if (lf < 0) {
        this.scanned = this.input.length;
        if (this.phase === 'skip-line') {
          this.keepTail(this.input);
          this.input = Buffer.alloc(0);
          this.scanned = 0;
          return undefined;
        }
        // +1: a CR may still be waiting for its LF.
        if (this.input.length > this.limits.maxLineBytes + 1) {
          const err = this.lineTooLong(this.input);
          this.keepTail(this.input);
          this.input = Buffer.alloc(0);
          this.scanned = 0;
          this.phase = 'skip-line';
          if (err) return err;
        }
        return undefined;
      }
      let line = this.input.subarray(0, lf);
      this.input = this.input.subarray(lf + 1);
      this.scanned = 0;
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);

      if (this.phase === 'skip-line') {
        this.keepTail(line);
        // The CR of this line's CRLF may have arrived in an earlier chunk.
        if (this.skipTail[this.skipTail.length - 1] === CR) this.skipTail = this.skipTail.subarray(0, -1);
        this.phase = 'line';
        this.endOfSkippedLine(this.skipTail);
        continue;
      }
      if (line.length > this.limits.maxLineBytes) {
        const err = this.lineTooLong(line);
        this.endOfSkippedLine(line);
        if (err) return err;
        continue;
      }
      if (this.parts.length === 0 && !this.discarding && this.mode !== 'command') {
        const ev = this.modeLine(line);
        this.mode = 'command';
        return ev;
      }
      const ev = this.commandLine(line);
      if (ev) return ev;
    }
  }

  private modeLine(line: Buffer): FrameEvent {
    const text = line.toString('latin1');
    if (this.mode === 'idle') {
      // RFC 2177 3: the only thing a client may send during IDLE is DONE.
      if (text.toUpperCase() === 'DONE') return { type: 'idle-done' };
      return { type: 'error', error: new ParseError('bad', 'Expected DONE') };
    }
    // RFC 9051 6.2.2: "*" cancels; anything else is base64 (empty is allowed).
    if (text === '*') return { type: 'auth-cancel' };
    if (!isBase64(text)) {
      return { type: 'error', error: new ParseError('bad', 'Invalid base64 in authentication response') };
    }
    return { type: 'auth-response', response: Buffer.from(text, 'base64') };
  }

  private commandLine(line: Buffer): FrameEvent | undefined {
    const first = this.parts.length === 0 && !this.discarding;
    if (first) {
      // Stray blank lines between commands are ignored, as many servers do.
      if (line.length === 0) return undefined;
      this.identify(line);
    }
    this.commandBytes += line.length;
    const marker = literalMarkerAtEnd(line);
    if (this.commandBytes > this.limits.maxCommandBytes) {
      const ev = this.reject(new ParseError('bad', 'Command too long', { code: 'TOOBIG' }));
      this.afterRejectedLine(marker);
      return ev;
    }
    if (!marker) {
      if (this.discarding) {
        this.resetCommand();
        return undefined;
      }
      this.parts.push(line);
      const bytes = Buffer.concat(this.parts);
      const { tag, command } = this;
      this.resetCommand();
      return { type: 'command', bytes, tag, command };
    }
    this.commandBytes += 2;
    const tooBig = (marker.nonSync ? undefined : this.hopelessCommand(line)) ?? this.literalViolation(marker);
    if (tooBig) {
      const ev = this.reject(tooBig);
      this.afterRejectedLine(marker);
      return ev;
    }
    if (this.discarding) {
      this.afterRejectedLine(marker);
      return undefined;
    }
    this.parts.push(line, CRLF);
    this.commandBytes += marker.size;
    this.phase = 'literal';
    this.literalLeft = marker.size;
    this.literalUntouched = true;
    if (marker.nonSync) return undefined;
    return { type: 'literal-request', tag: this.tag, command: this.command, size: marker.size, binary: marker.binary };
  }

  /**
   * Before asking for a synchronizing literal, refuse it when the command can
   * never succeed (no valid tag, unknown command), as Dovecot does: the client
   * need not upload data only to be told BAD. RFC 9051 7.5 lets the server
   * answer with a tagged response instead of the continuation.
   */
  private hopelessCommand(line: Buffer): ParseError | undefined {
    if (this.discarding) return undefined;
    if (this.tag === undefined) return new ParseError('bad', 'Missing or invalid tag');
    if (this.command === undefined || !COMMANDS_WITH_ARGS.has(this.command)) {
      return new ParseError('bad', `Unknown command ${this.command ?? ''}`.trimEnd());
    }
    // The full check re-reads the command so far; skip it once earlier literals
    // made that large (MULTIAPPEND), where it would copy megabytes per literal.
    if (this.precheck && this.commandBytes <= PRECHECK_MAX_BYTES) {
      const err = this.precheck(Buffer.concat([...this.parts, line, CRLF]));
      if (err) return new ParseError(err.kind, err.message, { code: err.code });
    }
    return undefined;
  }

  private literalViolation(marker: LiteralMarker): ParseError | undefined {
    const append = this.command === 'APPEND';
    // RFC 7888 4: a too large LITERAL- literal is a protocol violation -> BAD [TOOBIG].
    if (marker.nonSync && this.limits.literalMinus && marker.size > LITERAL_MINUS_MAX) {
      return new ParseError('bad', 'Non-synchronizing literal larger than 4096 bytes', { code: 'TOOBIG' });
    }
    if (marker.size > this.limits.maxLiteralBytes || this.commandBytes + marker.size > this.limits.maxCommandBytes) {
      // RFC 4469 / RFC 7889: a message too large to store is refused with NO [TOOBIG].
      return new ParseError(append ? 'no' : 'bad', append ? 'Message too large' : 'Literal too large', {
        code: 'TOOBIG',
      });
    }
    return undefined;
  }

  /** After a rejected line: skip an announced non-synchronizing literal, else end the command. */
  private afterRejectedLine(marker: LiteralMarker | undefined): void {
    if (marker?.nonSync && Number.isFinite(marker.size)) {
      this.discarding = true;
      this.parts = [];
      this.skipTail = Buffer.alloc(0);
      this.phase = 'skip-literal';
      this.literalLeft = marker.size;
      return;
    }
    // No literal, or a synchronizing one we never ask for (the client waits for "+"
    // and sees our tagged reply instead), or a size we cannot skip: command over.
    this.resetCommand();
  }

  private endOfSkippedLine(line: Buffer): void {
    this.afterRejectedLine(literalMarkerAtEnd(line));
  }

  private lineTooLong(line: Buffer): FrameEvent | undefined {
    if (this.parts.length === 0 && !this.discarding) this.identify(line);
    if (this.mode !== 'command' && this.parts.length === 0) this.mode = 'command';
    return this.reject(new ParseError('bad', 'Line too long', { code: 'TOOBIG' }));
  }

  /** Emits the error once per command; later problems in a discarded command are silent. */
  private reject(error: ParseError): FrameEvent | undefined {
    if (this.discarding) return undefined;
    error.tag = this.tag;
    error.command = this.command;
    this.discarding = true;
    this.parts = [];
    return { type: 'error', error };
  }

  private identify(line: Buffer): void {
    const words = line.subarray(0, 64).toString('latin1').split(/ +/);
    const tag = words[0];
    this.tag = tag !== undefined && TAG.test(tag) ? tag : undefined;
    // Only plausible names: the name may be echoed in a reply.
    const word = (w: string | undefined): string | undefined => (w !== undefined && /^[A-Za-z0-9._-]{1,32}$/.test(w) ? w.toUpperCase() : undefined);
    let name = word(words[1]);
    if (name === 'UID') {
      const sub = word(words[2]);
      name = sub === undefined ? undefined : `UID ${sub}`;
    }
    this.command = name;
  }

  private keepTail(bytes: Buffer): void {
    const joined = Buffer.concat([this.skipTail, bytes]);
    this.skipTail = Buffer.from(joined.subarray(Math.max(0, joined.length - TAIL_KEEP)));
  }

  private resetCommand(): void {
    this.parts = [];
    this.commandBytes = 0;
    this.tag = undefined;
    this.command = undefined;
    this.discarding = false;
    this.skipTail = Buffer.alloc(0);
    this.literalUntouched = false;
  }
}

function isBase64(text: string): boolean {
  return text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
}
