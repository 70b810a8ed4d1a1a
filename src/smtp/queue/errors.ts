// The outcome of a failed attempt, as the queue acts on it: retry later or bounce now.

/** RFC 3463 enhanced status code and the reply (or local reason) that caused it. */
export class DeliveryError extends Error {
  constructor(
    readonly kind: 'temporary' | 'permanent',
    /** RFC 3463 status, e.g. "5.1.1". */
    readonly status: string,
    message: string,
    /** The host that answered, when one did (DSN Remote-MTA, RFC 3464 2.3.5). */
    readonly remoteMta?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function temporary(status: string, message: string, remoteMta?: string, cause?: unknown): DeliveryError {
  return new DeliveryError('temporary', status, message, remoteMta, { cause });
}

export function permanent(status: string, message: string, remoteMta?: string, cause?: unknown): DeliveryError {
  return new DeliveryError('permanent', status, message, remoteMta, { cause });
}

/** The enhanced status code in an SMTP reply (RFC 3463), or one derived from the basic code. */
export function statusOf(response: string | undefined, code: number | undefined): string {
  const m = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(response ?? '');
  if (m?.[1]) return m[1];
  return code !== undefined && code >= 500 ? '5.0.0' : '4.0.0';
}
