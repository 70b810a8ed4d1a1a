// Typed store errors. Each protocol maps them to its own replies
// (IMAP TRYCREATE / OVERQUOTA, POP3 [SYS/TEMP], SMTP 452 / 550).

export type StoreErrorCode =
  | 'not-found'
  | 'already-exists'
  | 'over-quota'
  | 'invalid'
  | 'in-use'
  | 'unavailable'
  | 'conflict';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export class NotFound extends StoreError {
  constructor(message: string) {
    super('not-found', message);
  }
}

export class AlreadyExists extends StoreError {
  constructor(message: string) {
    super('already-exists', message);
  }
}

export class OverQuota extends StoreError {
  readonly quotaBytes: number;
  readonly usedBytes: number;
  constructor(message: string, quotaBytes: number, usedBytes: number) {
    super('over-quota', message);
    this.quotaBytes = quotaBytes;
    this.usedBytes = usedBytes;
  }
}

export class InvalidInput extends StoreError {
  constructor(message: string) {
    super('invalid', message);
  }
}

/** The database or blob store cannot be reached or written: a temporary failure. */
export class StoreUnavailable extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}

/** data_dir cannot hold the store: not a directory, not writable, read-only, full (a configuration problem, not a temporary one). */
export class DataDirError extends Error {
  constructor(
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`data_dir ${path} cannot be used: ${reason}`, options);
    this.name = 'DataDirError';
  }
}

export function isStoreError(err: unknown): err is StoreError {
  return err instanceof StoreError;
}
