// Delivery status notifications (RFC 3464): a multipart/report (RFC 6522) with a
// human-readable part, the machine-readable message/delivery-status and the headers of
// the original message (text/rfc822-headers).
//
// Rules:
// - Sent for permanent failures (and expiry), and once as a delay warning; never to the null sender
//   (RFC 5321 4.5.5), so a bounce cannot bounce.
// - The DSN's own envelope sender is null; its From is the postmaster of our host.

import { randomBytes } from 'node:crypto';

export interface FailedRecipient {
  recipient: string;
  /** RFC 3463 status, e.g. "5.1.1". */
  status: string;
  /** The remote reply or our reason (Diagnostic-Code, RFC 3464 2.3.6). */
  diagnostic: string;
  remoteMta?: string;
}

export interface DsnInput {
  hostname: string;
  /** The original envelope sender: the DSN's recipient. */
  to: string;
  arrivalDate: Date;
  recipients: FailedRecipient[];
  original: Buffer;
  /** RFC 3464 2.3.3: 'delayed' is the warning sent once while retries continue. */
  action?: 'failed' | 'delayed';
  /** RFC 3464 2.3.9, for 'delayed'. */
  willRetryUntil?: Date;
  now?: Date;
}

function headerPart(message: Buffer): string {
  const end = message.indexOf('\r\n\r\n');
  return (end < 0 ? message : message.subarray(0, end + 2)).toString('latin1');
}

/** Text for a header field: one line, no control characters. */
function oneLine(s: string): string {
  return s.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim();
}

export function buildDsn(input: DsnInput): Buffer {
  const now = input.now ?? new Date();
  const boundary = `=_dsn_${randomBytes(12).toString('hex')}`;
  const messageId = `<${randomBytes(12).toString('hex')}@${input.hostname}>`;
  const action = input.action ?? 'failed';
  const human = [
    `This is the mail system at ${input.hostname}.`,
    '',
    ...(action === 'failed'
      ? ['Your message could not be delivered to one or more recipients.', 'It has not been delivered and will not be retried.']
      : ['Your message has not been delivered yet to one or more recipients.', `Delivery will be retried${input.willRetryUntil ? ` until ${input.willRetryUntil.toUTCString()}` : ''}; you need not send it again.`]),
    '',
    ...input.recipients.map((r) => `<${r.recipient}>: ${oneLine(r.diagnostic)}`),
  ];
  // RFC 3464 2.2 per-message fields, then 2.3 per-recipient fields.
  const status = [`Reporting-MTA: dns; ${input.hostname}`, `Arrival-Date: ${input.arrivalDate.toUTCString()}`];
  for (const r of input.recipients) {
    status.push(
      '',
      `Final-Recipient: rfc822; ${r.recipient}`,
      `Action: ${action}`,
      `Status: ${r.status}`,
      ...(r.remoteMta ? [`Remote-MTA: dns; ${r.remoteMta}`] : []),
      `Diagnostic-Code: smtp; ${oneLine(r.diagnostic)}`,
      `Last-Attempt-Date: ${now.toUTCString()}`,
      ...(action === 'delayed' && input.willRetryUntil ? [`Will-Retry-Until: ${input.willRetryUntil.toUTCString()}`] : []),
    );
  }
  const lines = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.hostname}>`,
    `To: <${input.to}>`,
    `Subject: ${action === 'failed' ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail (still being retried)'}`,
    `Date: ${now.toUTCString()}`,
    `Message-ID: ${messageId}`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Description: Notification',
    '',
    ...human,
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    'Content-Description: Delivery report',
    '',
    ...status,
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    'Content-Description: Undelivered message headers',
    '',
  ];
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n', 'latin1'), Buffer.from(headerPart(input.original), 'latin1'), Buffer.from(`\r\n--${boundary}--\r\n`)]);
}
