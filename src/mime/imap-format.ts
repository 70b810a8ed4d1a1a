// IMAP wire syntax for ENVELOPE and BODY/BODYSTRUCTURE (RFC 9051 7.5.2 and its
// formal syntax in section 9; RFC 3501 7.4.2), shaped like Dovecot's output so
// clients tuned against Dovecot see what they expect.
//
// The returned strings are meant to be written as UTF-8: literal lengths count
// UTF-8 octets.
import type { Envelope, EnvelopeAddress, MimeParam, MimePart } from './types.js';

/** Dovecot's stand-in for a multipart without parts: the grammar needs at least one (RFC 9051 9 body-type-mpart). */
const EMPTY_BODY = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)';
const EMPTY_BODYSTRUCTURE = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)';

/**
 * An IMAP string: quoted when every character is a TEXT-CHAR (7-bit, no CR/LF/NUL),
 * else a literal. NUL cannot appear even in a literal (RFC 9051 4.3, CHAR8), so it is dropped.
 */
export function imapString(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/.test(s)) return '"' + s.replace(/[\\"]/g, '\\$&') + '"';
  const body = s.replace(/\0/g, '');
  return `{${Buffer.byteLength(body, 'utf8')}}\r\n${body}`;
}

export function imapNString(s: string | null | undefined): string {
  return s === null || s === undefined ? 'NIL' : imapString(s);
}

function addressList(list: EnvelopeAddress[] | null): string {
  if (list === null || list.length === 0) return 'NIL';
  return '(' + list.map((a) => '(' + a.map(imapNString).join(' ') + ')').join('') + ')';
}

/** RFC 9051 7.5.2 ENVELOPE of a message: `(date subject from sender reply-to to cc bcc in-reply-to message-id)`. */
export function formatEnvelope(source: { envelope: Envelope }): string {
  const e = source.envelope;
  return (
    '(' +
    [
      imapNString(e.date),
      imapNString(e.subject),
      addressList(e.from),
      addressList(e.sender),
      addressList(e.replyTo),
      addressList(e.to),
      addressList(e.cc),
      addressList(e.bcc),
      imapNString(e.inReplyTo),
      imapNString(e.messageId),
    ].join(' ') +
    ')'
  );
}

function paramList(params: readonly MimeParam[]): string {
  if (params.length === 0) return 'NIL';
  const items: string[] = [];
  for (const p of params) {
    // RFC 2231 values go out still encoded, under their starred name, like Dovecot.
    if (p.extended !== undefined) items.push(imapString(p.name + '*'), imapString(p.extended));
    else items.push(imapString(p.name), imapString(p.value));
  }
  return '(' + items.join(' ') + ')';
}

/** body-fld-dsp SP body-fld-lang SP body-fld-loc (RFC 9051 9, body-ext-1part / body-ext-mpart). */
function dspLangLoc(part: MimePart): string {
  const dsp = part.disposition === null ? 'NIL' : `(${imapString(part.disposition.type)} ${paramList(part.disposition.params)})`;
  const lang = part.language === null ? 'NIL' : '(' + part.language.map(imapString).join(' ') + ')';
  return `${dsp} ${lang} ${imapNString(part.location)}`;
}

function formatPart(part: MimePart, extensible: boolean): string {
  if (part.type === 'multipart') {
    const kids = part.children.length === 0 ? (extensible ? EMPTY_BODYSTRUCTURE : EMPTY_BODY) : part.children.map((c) => formatPart(c, extensible)).join('');
    const ext = extensible ? ` ${paramList(part.params)} ${dspLangLoc(part)}` : '';
    return `(${kids} ${imapString(part.subtype)}${ext})`;
  }
  let out =
    `(${imapString(part.type)} ${imapString(part.subtype)} ${paramList(part.params)} ` +
    `${imapNString(part.id)} ${imapNString(part.description)} ${imapString(part.encoding)} ${part.size}`;
  if (part.message !== null) {
    // body-type-msg: envelope, the embedded body, and lines (RFC 9051 9).
    out += ` ${formatEnvelope(part.message)} ${formatPart(part.message.root, extensible)} ${part.lines ?? 0}`;
  } else if (part.type === 'text') {
    out += ` ${part.lines ?? 0}`;
  }
  // body-ext-1part: md5 is never computed (Content-MD5 is obsolete, RFC 6151 / RFC 1864 unused).
  if (extensible) out += ` NIL ${dspLangLoc(part)}`;
  return out + ')';
}

/** FETCH BODY (extensible=false) or BODYSTRUCTURE (extensible=true) of a whole message. */
export function formatBodyStructure(index: { root: MimePart }, extensible: boolean): string {
  return formatPart(index.root, extensible);
}

/** The same for one part, e.g. the embedded message of a message/rfc822 part. */
export function formatPartStructure(part: MimePart, extensible: boolean): string {
  return formatPart(part, extensible);
}
