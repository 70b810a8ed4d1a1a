// ENVELOPE (RFC 9051 7.5.2) from a header block. Values are raw — unfolded but
// not RFC 2047-decoded — because IMAP clients decode encoded-words themselves.
import type { ParsedAddress, ParsedMailbox } from './address.js';
import type { HeaderView } from './header-view.js';
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

function addresses(header: HeaderView, name: string): EnvelopeAddress[] | null {
  const parsed = header.addresses(name);
  if (parsed === null) return null;
  const list = toEnvelopeAddresses(parsed);
  return list.length > 0 ? list : null;
}

export function buildEnvelope(header: HeaderView): Envelope {
  const from = addresses(header, 'from');
  return {
    date: header.value('date'),
    subject: header.value('subject'),
    from,
    // RFC 9051 7.5.2: absent or empty Sender / Reply-To take the value of From.
    sender: addresses(header, 'sender') ?? from,
    replyTo: addresses(header, 'reply-to') ?? from,
    to: addresses(header, 'to'),
    cc: addresses(header, 'cc'),
    bcc: addresses(header, 'bcc'),
    inReplyTo: header.value('in-reply-to'),
    messageId: header.value('message-id'),
  };
}
