// Byte → Unicode decoding for MIME charsets (RFC 2046 4.1.2) through Node's ICU
// TextDecoder. Unknown or unsupported charsets never fail: the bytes are read as
// UTF-8 when they are valid UTF-8, else as windows-1252, which maps every byte.

import { TextDecoder } from 'node:util';

const decoders = new Map<string, TextDecoder | null>();
const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');

// Node 20's TextDecoder reports windows-1252 but decodes 0x80-0x9F as C1 controls
// (ISO-8859-1). WHATWG maps iso-8859-1, us-ascii and windows-1252 all to this
// table, which is also what mail labelled iso-8859-1 means in practice.
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

function decodeWindows1252(bytes: Uint8Array): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b >= 0x80 && b <= 0x9f) {
      out += Buffer.from(bytes.buffer, bytes.byteOffset + start, i - start).toString('latin1');
      out += String.fromCharCode(CP1252_HIGH[b - 0x80] as number);
      start = i + 1;
    }
  }
  return out + Buffer.from(bytes.buffer, bytes.byteOffset + start, bytes.length - start).toString('latin1');
}

/** Charset labels seen in real mail that WHATWG/ICU does not know by that name. */
const ALIASES: Record<string, string> = {
  'utf8': 'utf-8',
  'x-sjis': 'shift_jis',
  'sjis': 'shift_jis',
  'cp932': 'shift_jis',
  'ms932': 'shift_jis',
  'cp936': 'gbk',
  'cp949': 'euc-kr',
  'ks_c_5601': 'euc-kr',
  'x-euc-jp': 'euc-jp',
  'cp1250': 'windows-1250',
  'cp1251': 'windows-1251',
  'cp1252': 'windows-1252',
  'cp1253': 'windows-1253',
  'cp1254': 'windows-1254',
  'cp1255': 'windows-1255',
  'cp1256': 'windows-1256',
  'cp1257': 'windows-1257',
  'cp1258': 'windows-1258',
  'cp866': 'ibm866',
  'latin1': 'iso-8859-1',
  'latin2': 'iso-8859-2',
  'big5-hkscs': 'big5',
};

function decoderFor(charset: string): TextDecoder | null {
  // RFC 2231 5: a charset may carry a language suffix, `us-ascii*en`.
  let label = charset.trim().toLowerCase();
  const star = label.indexOf('*');
  if (star >= 0) label = label.slice(0, star);
  label = ALIASES[label] ?? label;
  const cached = decoders.get(label);
  if (cached !== undefined) return cached;
  let decoder: TextDecoder | null;
  try {
    decoder = new TextDecoder(label);
  } catch {
    decoder = null;
  }
  decoders.set(label, decoder);
  return decoder;
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] ?? 0) > 0x7f) return false;
  return true;
}

/** Bytes as UTF-8 if they are valid UTF-8, else one character per byte (ISO-8859-1). */
export function bytesToString(bytes: Buffer): string {
  if (isAscii(bytes)) return bytes.toString('latin1');
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** Decodes bytes in the named charset; never throws. */
export function decodeCharset(bytes: Uint8Array, charset: string | null | undefined): string {
  if (isAscii(bytes) && !/^\s*(utf-?16|utf-?32|iso-2022|ucs|utf-7)/i.test(charset ?? '')) {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }
  const label = (charset ?? '').trim().toLowerCase();
  // Mail labelled us-ascii (or unlabelled) with 8-bit bytes is nearly always UTF-8 in practice.
  if (label === '' || label === 'us-ascii' || label === 'ascii') return fallback(bytes);
  const decoder = decoderFor(label);
  if (decoder === null) return fallback(bytes);
  if (decoder.encoding === 'windows-1252') return decodeWindows1252(bytes);
  try {
    return decoder.decode(bytes);
  } catch {
    return fallback(bytes);
  }
}

function fallback(bytes: Uint8Array): string {
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return decodeWindows1252(bytes);
  }
}

/** Lenient UTF-8, for places where the charset is known to be UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string {
  return utf8Lenient.decode(bytes);
}
