// ENVELOPE (RFC 9051 7.5.2) from a header block. Values are raw — unfolded but
// not RFC 2047-decoded — because IMAP clients decode encoded-words themselves.
import { parseAddressList, type ParsedAddress, type ParsedMailbox } from './address.js';
import { headerValue, type HeaderField } from './headers.js';
import type { Envelope, EnvelopeAddress } from './types.js';

/**
 * Dovecot's placeholders for a mailbox or host that the header leaves out: a NIL
 * host would turn the address into an RFC 9051 group marker.
 */
const MISSING_MAILBOX = 'MISSING_MAILBOX';
const MISSING_DOMAIN = 'MISSING_DOMAIN';

function toTuple(m: ParsedMailbox): EnvelopeAddress {
  return [m.name, m.adl, m.mailbox ?? MISSING_MAILBOX, m.host ?? MISSING_DOMAIN];
}

/** Flattens parsed addresses into IMAP form, groups as start/end markers (RFC 9051 7.5.2). */
export function toEnvelopeAddresses(list: readonly ParsedAddress[]): EnvelopeAddress[] {
  const out: EnvelopeAddress[] = [];
  for (const a of list) {
    if (a.kind === 'mailbox') {
      out.push(toTuple(a));
    } else {
      out.push([null, null, a.name, null]);
      for (const m of a.members) out.push(toTuple(m));
      out.push([null, null, null, null]);
    }
  }
  return out;
}

function addresses(fields: readonly HeaderField[], name: string): EnvelopeAddress[] | null {
  const v = headerValue(fields, name);
  if (v === null) return null;
  const list = toEnvelopeAddresses(parseAddressList(v));
  return list.length > 0 ? list : null;
}

export function buildEnvelope(fields: readonly HeaderField[]): Envelope {
  const from = addresses(fields, 'from');
  return {
    date: headerValue(fields, 'date'),
    subject: headerValue(fields, 'subject'),
    from,
    // RFC 9051 7.5.2: absent or empty Sender / Reply-To take the value of From.
    sender: addresses(fields, 'sender') ?? from,
    replyTo: addresses(fields, 'reply-to') ?? from,
    to: addresses(fields, 'to'),
    cc: addresses(fields, 'cc'),
    bcc: addresses(fields, 'bcc'),
    inReplyTo: headerValue(fields, 'in-reply-to'),
    messageId: headerValue(fields, 'message-id'),
  };
}
