// RFC 5464 METADATA: GETMETADATA and SETMETADATA arguments.

import { bad } from './errors.js';
import { parseMailbox, type MailboxNameOptions } from './mailbox-name.js';
import type { Reader } from './reader.js';

export type MetadataDepth = '0' | '1' | 'infinity';

export interface GetMetadataArgs {
  /** '' for the server's entries. */
  mailbox: string;
  maxSize: number | null;
  depth: MetadataDepth;
  entries: string[];
}

export interface SetMetadataArgs {
  mailbox: string;
  entries: Array<{ name: string; value: Buffer | null }>;
}

/**
 * RFC 5464 3.2: entry names are slash-separated, start with /private or /shared,
 * contain no `*`, `%`, `//` or controls, and do not end with `/`.
 */
function entry(r: Reader): string {
  const name = r.astringText('entry name');
  const controls = [...name].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
  if (controls || !/^\/(private|shared)(\/[^/*%]+)*$/i.test(name)) throw bad(`Invalid entry name ${JSON.stringify(name.slice(0, 100))}`);
  return name;
}

/** GETMETADATA SP [getmetadata-options SP] mailbox SP entries (RFC 5464 4.2) */
export function parseGetMetadataArgs(r: Reader, opts: MailboxNameOptions): GetMetadataArgs {
  r.sp();
  let maxSize: number | null = null;
  let depth: MetadataDepth = '0';
  if (r.isChar('(')) {
    r.list(() => {
      const option = r.keyword('option');
      r.sp();
      if (option === 'MAXSIZE') maxSize = r.number();
      else if (option === 'DEPTH') {
        const d = r.keyword('depth').toLowerCase();
        if (d !== '0' && d !== '1' && d !== 'infinity') throw bad('DEPTH must be 0, 1 or infinity');
        depth = d;
      } else throw bad(`Unknown GETMETADATA option ${option}`);
    });
    r.sp();
  }
  const mailbox = parseMailbox(r, opts);
  r.sp();
  const entries = r.isChar('(') ? r.list(() => entry(r)) : [entry(r)];
  return { mailbox, maxSize, depth, entries };
}

/** SETMETADATA SP mailbox SP "(" entry SP value *(SP entry SP value) ")" (RFC 5464 4.3) */
export function parseSetMetadataArgs(r: Reader, opts: MailboxNameOptions): SetMetadataArgs {
  r.sp();
  const mailbox = parseMailbox(r, opts);
  r.sp();
  const entries = r.list(() => {
    const name = entry(r);
    r.sp();
    const value = r.isLiteral() ? r.literal(true, false).data : r.nstring();
    return { name, value };
  });
  return { mailbox, entries };
}
