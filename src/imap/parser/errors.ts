// Typed grammar errors. The parser never throws anything else: the session maps
// a ParseError to one tagged (or untagged, when no tag could be read) reply.
//   kind 'bad' -> `tag BAD [code] text`  (RFC 9051 7.1.3: syntax error)
//   kind 'no'  -> `tag NO [code] text`   (well-formed but refused, e.g. BADCHARSET, TOOBIG)

export type ParseErrorKind = 'bad' | 'no';

export interface ParseErrorInit {
  /** The command tag, when the line got far enough to have one. */
  tag?: string | undefined;
  /** The command name (upper-case), when known; lets the session pick NO [TOOBIG] for APPEND. */
  command?: string | undefined;
  /** Response code text without brackets, e.g. `TOOBIG` or `BADCHARSET (UTF-8 US-ASCII)`. */
  code?: string | undefined;
}

export class ParseError extends Error {
  readonly kind: ParseErrorKind;
  tag: string | undefined;
  command: string | undefined;
  readonly code: string | undefined;

  constructor(kind: ParseErrorKind, message: string, init: ParseErrorInit = {}) {
    super(message);
    this.name = 'ParseError';
    this.kind = kind;
    this.tag = init.tag;
    this.command = init.command;
    this.code = init.code;
  }
}

/**
 * The input ended inside a literal: the command is fine so far. Only seen when
 * a command prefix is checked before its literal arrives (checkCommandPrefix).
 */
export class IncompleteInput extends ParseError {
  constructor() {
    super('bad', 'Literal shorter than announced');
  }
}

export function isParseError(err: unknown): err is ParseError {
  return err instanceof ParseError;
}

/** Shorthand for the common case: a syntax error answered with BAD. */
export function bad(message: string, code?: string): ParseError {
  return new ParseError('bad', message, { code });
}
