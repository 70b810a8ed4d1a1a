// What the webmail needs from SMTP submission, injected by src/listeners.ts so that this
// folder does not import the SMTP code: the same sender check, the same recipient
// resolution, the same delivery (local copies and the outbound queue).

import type { Account } from '../../store/types.js';

export interface SubmissionRequest {
  account: Account;
  /** Envelope sender (already checked with checkSender). */
  mailFrom: string;
  /** Envelope recipients: To, Cc and Bcc addresses. */
  recipients: string[];
  /** The complete message, CRLF line ends, without Bcc. */
  message: Buffer;
  remoteAddress: string;
  /** Names this submission in logs and in the Received field. */
  id: string;
}

export interface SubmissionResult {
  /** Local mailboxes the message was delivered to. */
  delivered: number;
  /** Remote recipients handed to the outbound queue. */
  queued: number;
}

/** A refusal the user can act on; `temporary` means try again later. */
export class SubmissionRefused extends Error {
  constructor(
    readonly kind: 'sender' | 'recipient' | 'temporary' | 'permanent',
    message: string,
    readonly address?: string,
  ) {
    super(message);
    this.name = 'SubmissionRefused';
  }
}

export interface Submission {
  /** Throws SubmissionRefused('sender') unless the account may use this envelope sender. */
  checkSender(account: Account, address: string): Promise<void>;
  /** Resolves recipients and delivers; throws SubmissionRefused when refused. */
  send(request: SubmissionRequest): Promise<SubmissionResult>;
}
