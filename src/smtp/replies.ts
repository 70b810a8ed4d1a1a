// SMTP replies as typed errors. Every refusal the SMTP code makes is an SmtpReply
// carrying the basic code (RFC 5321 4.2) and the enhanced status code (RFC 3463),
// so the mapping from a situation to its reply lives in one table.

export class SmtpReply extends Error {
  readonly responseCode: number;
  readonly enhanced: string;
  constructor(responseCode: number, enhanced: string, text: string, options?: { cause?: unknown }) {
    // smtp-server sends `${responseCode} ${message}`; library.ts keeps a leading
    // enhanced code in the text instead of adding its own guess.
    super(`${enhanced} ${text}`, options);
    this.name = 'SmtpReply';
    this.responseCode = responseCode;
    this.enhanced = enhanced;
  }
}

/** The replies Steadymail gives, by situation. RFC 3463 codes; RFC 5321 basic codes. */
export const reply = {
  // RCPT TO (RFC 5321 4.5.3.1.10, RFC 3463 3.2 / 3.3)
  unknownUser: () => new SmtpReply(550, '5.1.1', 'No such user here'),
  relayDenied: () => new SmtpReply(550, '5.7.1', 'Relaying denied: this server does not accept mail for that domain'),
  disabled: () => new SmtpReply(550, '5.2.1', 'Mailbox disabled, not accepting messages'),
  overQuota: () => new SmtpReply(452, '4.2.2', 'Mailbox full, try again later'),
  badAddress: () => new SmtpReply(553, '5.1.3', 'Bad recipient address syntax'),
  // MAIL FROM on submission (RFC 6409 6.1)
  senderNotOwned: () => new SmtpReply(553, '5.7.1', 'Sender address is not one of your addresses'),
  authRequired: () => new SmtpReply(530, '5.7.0', 'Authentication required'),
  // AUTH (RFC 4954 6)
  authFailed: () => new SmtpReply(535, '5.7.8', 'Authentication credentials invalid'),
  authThrottled: () => new SmtpReply(454, '4.7.0', 'Too many failed authentications, try again later'),
  encryptionRequired: () => new SmtpReply(538, '5.7.11', 'Encryption required for requested authentication mechanism'),
  // Connection
  tooManyConnections: () => new SmtpReply(421, '4.7.0', 'Too many connections from your address, try again later'),
  // DATA
  tooBig: (limit: number) => new SmtpReply(552, '5.3.4', `Message exceeds the size limit of ${limit} bytes`),
  lineTooLong: (limit: number) => new SmtpReply(500, '5.5.6', `Message has a line longer than ${limit} bytes (RFC 5321 4.5.3.1.6)`),
  loop: (count: number) => new SmtpReply(554, '5.4.6', `Routing loop detected: ${count} Received headers`),
  dmarcReject: (domain: string) => new SmtpReply(550, '5.7.1', `Message rejected by the DMARC policy of ${domain}`),
  // A forwarded copy would fail DMARC at its destination and bounce to a forged sender.
  dmarcForward: (domain: string) => new SmtpReply(550, '5.7.1', `Message fails the DMARC policy (reject) of ${domain} and cannot be forwarded`),
  storeFailure: (cause: unknown) => new SmtpReply(451, '4.3.0', 'Temporary local problem, please try again later', { cause }),
  // RFC 5429 2.2: a Sieve reject of the only recipient, refused in the dialogue.
  sieveReject: (reason: string) => new SmtpReply(550, '5.7.1', reason.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim().slice(0, 400) || 'Message rejected by the recipient'),
  quotaAtData: () => new SmtpReply(452, '4.2.2', 'A recipient mailbox became full, try again later'),
} as const;
