// Errors of a Sieve script: where (line:column) and what.

export interface Position {
  line: number;
  column: number;
}

/** A syntax or validation error, reported to the script's owner on upload. */
export class SieveError extends Error {
  constructor(
    readonly pos: Position,
    readonly detail: string,
  ) {
    super(`line ${pos.line}, column ${pos.column}: ${detail}`);
    this.name = 'SieveError';
  }
}

/** A failure while running a script; delivery falls back to implicit keep. */
export class SieveRuntimeError extends Error {
  constructor(
    message: string,
    readonly pos?: Position,
  ) {
    super(pos ? `line ${pos.line}, column ${pos.column}: ${message}` : message);
    this.name = 'SieveRuntimeError';
  }
}
