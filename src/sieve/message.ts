// What Sieve tests see of a message: decoded header fields, the addresses in
// address headers, body text (RFC 5173 transforms), dates, and the envelope.
// Built lazily from the raw bytes; each piece is computed once per delivery,
// however many recipients' scripts ask.

import { decodeCharset, decodeMimeWords, decodePartBody, extractText, indexMessage, parseAddressList, parseHeaderBlock, type HeaderField } from '../mime/index.js';
import type { MessageIndex, MimePart } from '../mime/types.js';

const MAX_HEADER_BYTES = 256 * 1024;
const MAX_BODY_TEXT = 1024 * 1024;

export interface SieveAddress {
  /** The whole address as written (local@domain). */
  all: string;
  localpart: string;
  domain: string;
}

export class MessageView {
  private fieldsCache: HeaderField[] | undefined;
  private bodyStartCache: number | undefined;
  private indexCache: MessageIndex | undefined;
  private textCache: string | undefined;

  constructor(readonly raw: Buffer) {}

  get size(): number {
    return this.raw.length;
  }

  private get fields(): HeaderField[] {
    if (!this.fieldsCache) {
      const block = parseHeaderBlock(this.raw, 0, this.raw.length, MAX_HEADER_BYTES);
      this.fieldsCache = block.fields;
      this.bodyStartCache = block.bodyStart;
    }
    return this.fieldsCache;
  }

  private get index(): MessageIndex {
    this.indexCache ??= indexMessage(this.raw);
    return this.indexCache;
  }

  /** Raw (undecoded, unfolded) values of a header field, in order. */
  rawHeaders(name: string): string[] {
    const n = name.toLowerCase();
    return this.fields.filter((f) => f.name === n).map((f) => f.value);
  }

  /** RFC 5228 5.7: values with RFC 2047 encoded words decoded. */
  headers(name: string): string[] {
    return this.rawHeaders(name).map((v) => decodeMimeWords(v));
  }

  exists(name: string): boolean {
    return this.rawHeaders(name).length > 0;
  }

  /** Addresses of one header field occurrence each, flattened (groups expanded). */
  addresses(name: string): SieveAddress[][] {
    return this.rawHeaders(name).map((v) => {
      const out: SieveAddress[] = [];
      for (const a of parseAddressList(v)) {
        const members = a.kind === 'group' ? a.members : [a];
        for (const m of members) if (m.mailbox !== null) out.push(toSieveAddress(m.mailbox, m.host ?? ''));
      }
      return out;
    });
  }

  /** RFC 5173 5.1 :raw — the body as it is, undecoded. */
  rawBody(): string {
    void this.fields;
    const start = this.bodyStartCache ?? this.raw.length;
    return this.raw.subarray(start, start + MAX_BODY_TEXT).toString('latin1');
  }

  /** RFC 5173 5.3 :text — the decoded text of the text parts. */
  text(): string {
    this.textCache ??= extractText(this.raw, this.index, { maxBytes: MAX_BODY_TEXT }).body;
    return this.textCache;
  }

  /** RFC 5173 5.2 :content — decoded parts whose Content-Type matches one of the types. */
  content(types: string[]): string[] {
    const wanted = types.map((t) => t.toLowerCase());
    const out: string[] = [];
    const visit = (p: MimePart): void => {
      const full = `${p.type}/${p.subtype}`;
      const hit = wanted.some((w) => w === '' || w === full || (!w.includes('/') && w === p.type));
      if (hit && p.children.length === 0 && p.type !== 'message') {
        // Transfer encoding and charset decoded, markup kept (RFC 5173 5.2).
        const charset = p.params.find((x) => x.name.toLowerCase() === 'charset')?.value ?? null;
        const body = decodePartBody(this.raw, p).subarray(0, MAX_BODY_TEXT);
        out.push(p.type === 'text' ? decodeCharset(body, charset) : body.toString('latin1'));
      }
      for (const c of p.children) visit(c);
    };
    visit(this.index.root);
    return out;
  }
}

export function toSieveAddress(local: string, domain: string): SieveAddress {
  return { all: domain === '' ? local : `${local}@${domain}`, localpart: local, domain };
}

/** An envelope address (no display name); '' for the null sender. */
export function parseEnvelopeAddress(address: string): SieveAddress {
  const a = address.replace(/^<|>$/g, '');
  const at = a.lastIndexOf('@');
  if (at < 0) return toSieveAddress(a, '');
  return toSieveAddress(a.slice(0, at), a.slice(at + 1));
}

/** RFC 5233: "user+detail"; detail is null when there is no separator. */
export function subaddress(localpart: string, separator = '+'): { user: string; detail: string | null } {
  const i = localpart.indexOf(separator);
  if (i < 0) return { user: localpart, detail: null };
  return { user: localpart.slice(0, i), detail: localpart.slice(i + separator.length) };
}
