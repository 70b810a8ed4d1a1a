// Messages Sieve sends by itself: vacation replies (RFC 5230, RFC 3834) and the
// notice for a "reject" that cannot be refused in the SMTP dialogue (an MDN,
// RFC 5429 2.1 and RFC 8098).
//
// Rules (RFC 5230 4.5, RFC 3834 2-3):
// - Never answer the null sender, a mailing list (List-* fields), bulk or junk
//   Precedence, anything Auto-Submitted, MAILER-DAEMON / owner-* / *-request,
//   or one of the recipient's own addresses.
// - Answer only mail that names the recipient in To/Cc/Bcc (or Resent-*): a
//   message that reached the user by Bcc of a list is not a conversation.
// - Replies carry Auto-Submitted: auto-replied, In-Reply-To and References, and
//   are sent with the null envelope sender.

import { randomBytes } from 'node:crypto';
import type { MessageView } from './message.js';
import type { VacationAction } from './interpreter.js';

const LIST_FIELDS = ['list-id', 'list-help', 'list-subscribe', 'list-unsubscribe', 'list-post', 'list-owner', 'list-archive'];
const RECIPIENT_FIELDS = ['to', 'cc', 'bcc', 'resent-to', 'resent-cc', 'resent-bcc'];

/** Lower-cased, and without a "+detail" (RFC 5233), for comparing addresses. */
export function addressKey(address: string): string {
  const a = address.trim().toLowerCase().replace(/^<|>$/g, '');
  const at = a.lastIndexOf('@');
  if (at < 0) return a;
  const local = a.slice(0, at);
  const plus = local.indexOf('+');
  return (plus < 0 ? local : local.slice(0, plus)) + a.slice(at);
}

/** Why no vacation reply goes out for this message, or null when one may. */
export function vacationRefusal(message: MessageView, sender: string, own: string[]): string | null {
  if (sender === '') return 'null sender';
  const local = sender.slice(0, sender.lastIndexOf('@')).toLowerCase();
  if (/^(mailer-daemon|postmaster|listserv|majordomo|owner-.*|.*-request|.*-owner|no-?reply)$/.test(local)) return `automated sender ${sender}`;
  const mine = new Set(own.map(addressKey));
  if (mine.has(addressKey(sender))) return 'sender is the recipient';
  for (const f of LIST_FIELDS) if (message.exists(f)) return `mailing list (${f})`;
  const precedence = message.headers('precedence')[0]?.trim().toLowerCase();
  if (precedence === 'bulk' || precedence === 'junk' || precedence === 'list') return `Precedence: ${precedence}`;
  const auto = message.headers('auto-submitted')[0]?.trim().toLowerCase();
  if (auto !== undefined && !auto.startsWith('no')) return `Auto-Submitted: ${auto}`;
  if (message.exists('x-auto-response-suppress') && /\b(all|oof|autoreply)\b/i.test(message.headers('x-auto-response-suppress')[0] ?? '')) return 'X-Auto-Response-Suppress';
  const named = RECIPIENT_FIELDS.flatMap((f) => message.addresses(f).flat()).some((a) => mine.has(addressKey(a.all)));
  if (!named) return 'recipient not named in To/Cc';
  return null;
}

function encodeHeaderText(s: string): string {
  const clean = s.replace(/[\r\n]+/g, ' ').trim();
   
  if (/^[\x20-\x7e]*$/.test(clean)) return clean;
  return `=?UTF-8?B?${Buffer.from(clean, 'utf8').toString('base64')}?=`;
}

function textBody(text: string): string[] {
  const normalized = text.replace(/\r?\n/g, '\r\n');
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(normalized)) return ['Content-Type: text/plain; charset=us-ascii', 'Content-Transfer-Encoding: 7bit', '', normalized];
  const b64 = Buffer.from(normalized, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  return ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', '', b64];
}

export interface VacationReplyInput {
  action: VacationAction;
  hostname: string;
  /** The address the reply comes from when the script gives no :from. */
  recipient: string;
  sender: string;
  original: MessageView;
  now?: Date;
}

/** RFC 5230 5: the reply message. */
export function buildVacationReply(input: VacationReplyInput): Buffer {
  const { action, original } = input;
  const now = input.now ?? new Date();
  const originalSubject = original.headers('subject')[0] ?? '';
  const subject = action.subject ?? `Auto: ${originalSubject}`.trim();
  const messageId = original.rawHeaders('message-id')[0]?.trim();
  const references = [...(original.rawHeaders('references')[0]?.trim().split(/\s+/) ?? []), ...(messageId ? [messageId] : [])].filter((r) => r !== '');
  const from = action.from ?? input.recipient;
  const head = [
    `From: ${from.includes('<') ? from : `<${from}>`}`,
    `To: <${input.sender}>`,
    `Subject: ${encodeHeaderText(subject)}`,
    `Date: ${now.toUTCString()}`,
    `Message-ID: <${randomBytes(12).toString('hex')}@${input.hostname}>`,
    ...(messageId ? [`In-Reply-To: ${messageId}`] : []),
    ...(references.length > 0 ? [`References: ${references.slice(-10).join(' ')}`] : []),
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
  ];
  // :mime: the reason is a MIME entity with its own Content-* fields.
  const body = action.mime ? [action.reason.replace(/\r?\n/g, '\r\n')] : textBody(action.reason);
  return Buffer.from([...head, ...body].join('\r\n').replace(/(\r\n)?$/, '\r\n'), 'utf8');
}

export interface RejectNoticeInput {
  hostname: string;
  recipient: string;
  sender: string;
  reason: string;
  original: Buffer;
  now?: Date;
}

/** RFC 5429 2.1: the MDN for a message rejected after the SMTP dialogue. */
export function buildRejectNotice(input: RejectNoticeInput): Buffer {
  const now = input.now ?? new Date();
  const boundary = `=_mdn_${randomBytes(12).toString('hex')}`;
  const headerEnd = input.original.indexOf('\r\n\r\n');
  const originalHeaders = (headerEnd < 0 ? input.original : input.original.subarray(0, headerEnd + 2)).toString('latin1');
  const messageId = /^message-id:\s*(.*)$/im.exec(originalHeaders)?.[1]?.trim();
  const lines = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.hostname}>`,
    `To: <${input.sender}>`,
    `Subject: ${encodeHeaderText(`Rejected: your message to ${input.recipient}`)}`,
    `Date: ${now.toUTCString()}`,
    `Message-ID: <${randomBytes(12).toString('hex')}@${input.hostname}>`,
    ...(messageId ? [`In-Reply-To: ${messageId}`] : []),
    'Auto-Submitted: auto-replied (rejected)',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=disposition-notification; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    ...textBody(`Your message to <${input.recipient}> was automatically rejected:\n\n${input.reason}\n`),
    `--${boundary}`,
    'Content-Type: message/disposition-notification',
    '',
    `Reporting-UA: ${input.hostname}; Steadymail Sieve`,
    `Final-Recipient: rfc822; ${input.recipient}`,
    ...(messageId ? [`Original-Message-ID: ${messageId}`] : []),
    'Disposition: automatic-action/MDN-sent-automatically; deleted',
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    originalHeaders.replace(/\r\n$/, ''),
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}
