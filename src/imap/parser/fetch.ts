// FETCH arguments (RFC 9051 6.4.5, RFC 3501 6.4.5, RFC 3516 BINARY, RFC 7162 CONDSTORE/QRESYNC).

import { bad } from './errors.js';
import { isAtomChar, type Reader } from './reader.js';
import { parseSequenceSet, type SequenceSet } from './sequence-set.js';

export type SimpleFetchItem =
  | 'ENVELOPE'
  | 'FLAGS'
  | 'INTERNALDATE'
  | 'RFC822'
  | 'RFC822.HEADER'
  | 'RFC822.SIZE'
  | 'RFC822.TEXT'
  | 'BODY'
  | 'BODYSTRUCTURE'
  | 'UID'
  | 'MODSEQ'
  | 'SAVEDATE'
  | 'EMAILID'
  | 'THREADID';

const SIMPLE = new Set<string>([
  'ENVELOPE',
  'FLAGS',
  'INTERNALDATE',
  'RFC822',
  'RFC822.HEADER',
  'RFC822.SIZE',
  'RFC822.TEXT',
  'BODY',
  'BODYSTRUCTURE',
  'UID',
  'MODSEQ',
  'SAVEDATE',
  'EMAILID',
  'THREADID',
]);

export type SectionText = 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';

export interface BodySection {
  /** section-part: `1.2.3` -> [1, 2, 3]; empty for the whole message. */
  part: number[];
  text: SectionText | null;
  /** Header field names for HEADER.FIELDS(.NOT), as the client wrote them. */
  fields: string[];
}

/** partial = "<" number "." nz-number ">" */
export interface FetchPartial {
  offset: number;
  length: number;
}

export type FetchItem =
  | { item: SimpleFetchItem }
  | {
      item: 'BODY[]';
      /** BODY.PEEK: do not set \Seen (RFC 9051 6.4.5). */
      peek: boolean;
      section: BodySection;
      partial: FetchPartial | null;
      /** The name the response uses, without `<origin>`: `BODY[1.HEADER.FIELDS (From)]`. */
      label: string;
    }
  | { item: 'BINARY'; peek: boolean; part: number[]; partial: FetchPartial | null; label: string }
  | { item: 'BINARY.SIZE'; part: number[]; label: string };

export interface FetchArgs {
  set: SequenceSet;
  items: FetchItem[];
  changedSince: number | null;
  vanished: boolean;
}

// RFC 9051 6.4.5 macros; they may not be combined with other items.
const MACROS: ReadonlyMap<string, SimpleFetchItem[]> = new Map([
  ['ALL', ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE']],
  ['FAST', ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']],
  ['FULL', ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY']],
]);

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** RFC 5322 3.6.8 field-name: printable US-ASCII except ":". */
function headerFieldName(r: Reader): string {
  const name = r.astring().toString('latin1');
  if (name.length === 0 || !/^[\x21-\x39\x3b-\x7e]+$/.test(name)) throw bad('Invalid header field name');
  return name;
}

function sectionPart(r: Reader): number[] {
  const part: number[] = [];
  while (isDigit(r.peek())) {
    part.push(r.nzNumber());
    if (!(r.isChar('.') && isDigit(r.peek(1)))) break;
    r.pos++;
  }
  return part;
}

function parseSection(r: Reader): BodySection {
  r.expect('[');
  const part = sectionPart(r);
  let text: SectionText | null = null;
  let fields: string[] = [];
  const dotted = part.length > 0 && r.tryChar('.');
  if (dotted || (part.length === 0 && !r.isChar(']'))) {
    const word = r.takeWhile((c) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2e).toUpperCase();
    switch (word) {
      case 'HEADER':
      case 'TEXT':
        text = word;
        break;
      case 'MIME':
        // RFC 9051 6.4.5: MIME only refers to a body part, never the whole message.
        if (part.length === 0) throw bad('MIME needs a part number');
        text = word;
        break;
      case 'HEADER.FIELDS':
      case 'HEADER.FIELDS.NOT':
        text = word;
        r.sp();
        fields = r.list(() => headerFieldName(r));
        break;
      default:
        throw bad('Invalid section');
    }
  }
  r.expect(']');
  return { part, text, fields };
}

function parsePartial(r: Reader): FetchPartial | null {
  if (!r.tryChar('<')) return null;
  const offset = r.number();
  r.expect('.');
  const length = r.nzNumber();
  r.expect('>');
  return { offset, length };
}

export function sectionLabel(s: BodySection): string {
  let spec = s.part.join('.');
  if (s.text) spec += (spec ? '.' : '') + s.text;
  if (s.fields.length > 0) spec += ` (${s.fields.join(' ')})`;
  return `[${spec}]`;
}

function binaryPart(r: Reader): number[] {
  r.expect('[');
  const part = sectionPart(r);
  r.expect(']');
  return part;
}

export function parseFetchItem(r: Reader): FetchItem {
  const name = r.takeWhile((c) => isAtomChar(c) && c !== 0x5b && c !== 0x3c).toUpperCase();
  if (name.length === 0) throw bad('Missing fetch item');
  switch (name) {
    case 'BODY':
    case 'BODY.PEEK': {
      if (!r.isChar('[')) {
        if (name === 'BODY.PEEK') throw bad('BODY.PEEK needs a section');
        return { item: 'BODY' };
      }
      const section = parseSection(r);
      return { item: 'BODY[]', peek: name === 'BODY.PEEK', section, partial: parsePartial(r), label: `BODY${sectionLabel(section)}` };
    }
    case 'BINARY':
    case 'BINARY.PEEK': {
      const part = binaryPart(r);
      return { item: 'BINARY', peek: name === 'BINARY.PEEK', part, partial: parsePartial(r), label: `BINARY[${part.join('.')}]` };
    }
    case 'BINARY.SIZE': {
      const part = binaryPart(r);
      return { item: 'BINARY.SIZE', part, label: `BINARY.SIZE[${part.join('.')}]` };
    }
    default:
      if (!SIMPLE.has(name) || r.isChar('[') || r.isChar('<')) throw bad(`Unknown fetch item ${name}`);
      return { item: name as SimpleFetchItem };
  }
}

/** FETCH SP sequence-set SP (macro / fetch-att / "(" fetch-att *(SP fetch-att) ")") [SP fetch-modifiers] */
export function parseFetchArgs(r: Reader, uid: boolean): FetchArgs {
  r.sp();
  const set = parseSequenceSet(r);
  r.sp();
  let items: FetchItem[];
  if (r.isChar('(')) {
    items = r.list(() => parseFetchItem(r));
  } else {
    const start = r.pos;
    const macro = MACROS.get(r.takeWhile(isAtomChar).toUpperCase());
    if (macro) {
      items = macro.map((item) => ({ item }));
    } else {
      r.pos = start;
      items = [parseFetchItem(r)];
    }
  }
  let changedSince: number | null = null;
  let vanished = false;
  if (r.trySp()) {
    const seen = new Set<string>();
    r.list(() => {
      const mod = r.keyword('fetch modifier');
      if (seen.has(mod)) throw bad(`Duplicate fetch modifier ${mod}`);
      seen.add(mod);
      if (mod === 'CHANGEDSINCE') {
        r.sp();
        changedSince = r.number64();
      } else if (mod === 'VANISHED') {
        vanished = true;
      } else {
        throw bad(`Unknown fetch modifier ${mod}`);
      }
    });
  }
  // RFC 7162 3.2.6: VANISHED only with UID FETCH and together with CHANGEDSINCE.
  if (vanished && (!uid || changedSince === null)) throw bad('VANISHED needs UID FETCH and CHANGEDSINCE');
  return { set, items, changedSince, vanished };
}
