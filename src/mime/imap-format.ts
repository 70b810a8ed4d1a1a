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

export interface ImapFormatOptions {
  /**
   * The session may receive UTF-8 in quoted strings: IMAP4rev2 (RFC 9051 9, QUOTED-CHAR
   * includes UTF8-2/3/4) or IMAP4rev1 after ENABLE UTF8=ACCEPT (RFC 6855 3). Otherwise
   * non-ASCII strings go out as literals.
   */
  utf8?: boolean;
}

/**
 * An IMAP string: quoted when every character is a TEXT-CHAR (no CR/LF/NUL; 7-bit
 * unless `utf8`), else a literal. NUL cannot appear even in a literal (RFC 9051 4.3,
 * CHAR8), so it is dropped.
 */
export function imapString(s: string, options?: ImapFormatOptions): string {
  // eslint-disable-next-line no-control-regex
  const quotable = options?.utf8 === true ? !/[\r\n\0]/.test(s) : /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/.test(s);
  if (quotable) return '"' + s.replace(/[\\"]/g, '\\$&') + '"';
  const body = s.replace(/\0/g, '');
  return `{${Buffer.byteLength(body, 'utf8')}}\r\n${body}`;
}

/** Writes IMAP syntax with one quoting policy. */
class Writer {
  constructor(private readonly options: ImapFormatOptions | undefined) {}

  string(s: string): string {
    return imapString(s, this.options);
  }

  nstring(s: string | null | undefined): string {
    return s === null || s === undefined ? 'NIL' : imapString(s, this.options);
  }

  addressList(list: EnvelopeAddress[] | null): string {
    if (list === null || list.length === 0) return 'NIL';
    return '(' + list.map((a) => '(' + a.map((v) => this.nstring(v)).join(' ') + ')').join('') + ')';
  }

  envelope(e: Envelope): string {
    return (
      '(' +
      [
        this.nstring(e.date),
        this.nstring(e.subject),
        this.addressList(e.from),
        this.addressList(e.sender),
        this.addressList(e.replyTo),
        this.addressList(e.to),
        this.addressList(e.cc),
        this.addressList(e.bcc),
        this.nstring(e.inReplyTo),
        this.nstring(e.messageId),
      ].join(' ') +
      ')'
    );
  }

  params(params: readonly MimeParam[]): string {
    if (params.length === 0) return 'NIL';
    const items: string[] = [];
    for (const p of params) {
      // RFC 2231 values go out still encoded, under their starred name, like Dovecot.
      if (p.extended !== undefined) items.push(this.string(p.name + '*'), this.string(p.extended));
      else items.push(this.string(p.name), this.string(p.value));
    }
    return '(' + items.join(' ') + ')';
  }

  /** body-fld-dsp SP body-fld-lang SP body-fld-loc (RFC 9051 9, body-ext-1part / body-ext-mpart). */
  dspLangLoc(part: MimePart): string {
    const dsp = part.disposition === null ? 'NIL' : `(${this.string(part.disposition.type)} ${this.params(part.disposition.params)})`;
    const lang = part.language === null ? 'NIL' : '(' + part.language.map((l) => this.string(l)).join(' ') + ')';
    return `${dsp} ${lang} ${this.nstring(part.location)}`;
  }

  part(part: MimePart, extensible: boolean): string {
    if (part.type === 'multipart') {
      const kids = part.children.length === 0 ? (extensible ? EMPTY_BODYSTRUCTURE : EMPTY_BODY) : part.children.map((c) => this.part(c, extensible)).join('');
      const ext = extensible ? ` ${this.params(part.params)} ${this.dspLangLoc(part)}` : '';
      return `(${kids} ${this.string(part.subtype)}${ext})`;
    }
    let out =
      `(${this.string(part.type)} ${this.string(part.subtype)} ${this.params(part.params)} ` +
      `${this.nstring(part.id)} ${this.nstring(part.description)} ${this.string(part.encoding)} ${part.size}`;
    if (part.message !== null) {
      // body-type-msg: envelope, the embedded body, and lines (RFC 9051 9).
      out += ` ${this.envelope(part.message.envelope)} ${this.part(part.message.root, extensible)} ${part.lines ?? 0}`;
    } else if (part.type === 'text') {
      out += ` ${part.lines ?? 0}`;
    }
    // body-ext-1part: md5 is never computed (Content-MD5 is obsolete, RFC 6151 / RFC 1864 unused).
    if (extensible) out += ` NIL ${this.dspLangLoc(part)}`;
    return out + ')';
  }
}

/** RFC 9051 7.5.2 ENVELOPE of a message: `(date subject from sender reply-to to cc bcc in-reply-to message-id)`. */
export function formatEnvelope(source: { envelope: Envelope }, options?: ImapFormatOptions): string {
  return new Writer(options).envelope(source.envelope);
}

/** FETCH BODY (extensible=false) or BODYSTRUCTURE (extensible=true) of a whole message. */
export function formatBodyStructure(index: { root: MimePart }, extensible: boolean, options?: ImapFormatOptions): string {
  return new Writer(options).part(index.root, extensible);
}

/** The same for one part, e.g. the embedded message of a message/rfc822 part. */
export function formatPartStructure(part: MimePart, extensible: boolean, options?: ImapFormatOptions): string {
  return new Writer(options).part(part, extensible);
}
