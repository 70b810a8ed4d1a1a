// One message header as the indexer reads it: field lookup plus address lists
// parsed once and shared by ENVELOPE, decoded values and SORT keys.
import { parseAddressList, type ParsedAddress } from './address.js';
import { headerValue, type HeaderField } from './headers.js';

/** The fields the index reads; everything else in a header is skipped undecoded. */
export const INDEXED_FIELDS: ReadonlySet<string> = new Set([
  'content-type', 'content-transfer-encoding', 'content-id', 'content-description',
  'content-disposition', 'content-language', 'content-location',
  'date', 'subject', 'from', 'sender', 'reply-to', 'to', 'cc', 'bcc',
  'in-reply-to', 'message-id', 'references',
]);

export class HeaderView {
  private readonly addressCache = new Map<string, ParsedAddress[] | null>();

  constructor(readonly fields: readonly HeaderField[]) {}

  value(name: string): string | null {
    return headerValue(this.fields, name);
  }

  /** The parsed address list of a header, null when the header is absent. */
  addresses(name: string): ParsedAddress[] | null {
    let list = this.addressCache.get(name);
    if (list === undefined) {
      const v = this.value(name);
      list = v === null ? null : parseAddressList(v);
      this.addressCache.set(name, list);
    }
    return list;
  }
}
