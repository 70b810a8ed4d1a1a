// Session-level errors: a handler throws ProtocolError and the session maps it
// to one tagged reply in one place (session.ts). Store errors are mapped here
// to IMAP response codes (RFC 5530).

import { isStoreError } from '../store/errors.js';
import { BlobMissing } from '../store/blobs/blob-store.js';

export type ProtocolErrorKind = 'bad' | 'no' | 'bye';

export class ProtocolError extends Error {
  readonly kind: ProtocolErrorKind;
  /** Response code without brackets, e.g. `TRYCREATE` or `OVERQUOTA`. */
  readonly code: string | undefined;
  constructor(kind: ProtocolErrorKind, message: string, code?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProtocolError';
    this.kind = kind;
    this.code = code;
  }
}

export function no(message: string, code?: string): ProtocolError {
  return new ProtocolError('no', message, code);
}

export function bad(message: string, code?: string): ProtocolError {
  return new ProtocolError('bad', message, code);
}

/** Store errors become NO with the RFC 5530 code a client can act on; anything else is not ours to map. */
export function fromStoreError(err: unknown): ProtocolError | undefined {
  // A message whose body is gone (see `steadymail repair`): this command fails, the session lives on.
  if (err instanceof BlobMissing) return new ProtocolError('no', 'The body of this message is missing on the server', 'SERVERBUG', { cause: err });
  if (!isStoreError(err)) return undefined;
  switch (err.code) {
    case 'not-found':
      return new ProtocolError('no', err.message, 'NONEXISTENT', { cause: err });
    case 'already-exists':
      return new ProtocolError('no', err.message, 'ALREADYEXISTS', { cause: err });
    case 'over-quota':
      return new ProtocolError('no', 'Quota exceeded', 'OVERQUOTA', { cause: err });
    case 'invalid':
      return new ProtocolError('no', err.message, 'CANNOT', { cause: err });
    case 'in-use':
      return new ProtocolError('no', err.message, 'INUSE', { cause: err });
    case 'unavailable':
    case 'conflict':
      return new ProtocolError('no', 'Temporary failure, try again', 'UNAVAILABLE', { cause: err });
  }
}
