// RFC 2047 encoded-words: `=?charset?B|Q?text?=`, in any charset TextDecoder knows.
// Decoding is deliberately lenient, as clients are: encoded-words are recognised
// anywhere (also inside quoted strings and glued to other text), whitespace
// between two adjacent encoded-words is dropped (RFC 2047 6.2), and adjacent
// words in the same charset are decoded together so a multibyte character split
// across two words (common with long UTF-8 subjects) survives.
import { decodeCharset } from './charset.js';

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?]*?)\?=/g;

function qDecode(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5f /* _ */) {
      bytes.push(0x20); // RFC 2047 4.2 (2)
    } else if (c === 0x3d /* = */ && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      for (const b of Buffer.from(text[i] as string, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes);
}

function bDecode(text: string): Buffer {
  return Buffer.from(text.replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
}

/** Decodes every RFC 2047 encoded-word in s; text that is not an encoded-word is kept as is. */
export function decodeMimeWords(s: string): string {
  if (!s.includes('=?')) return s;
  let out = '';
  let cursor = 0;
  let sawWord = false;
  let pendingCharset = '';
  let pending: Buffer[] = [];
  const flush = (): void => {
    if (pending.length > 0) out += decodeCharset(Buffer.concat(pending), pendingCharset);
    pending = [];
  };
  ENCODED_WORD.lastIndex = 0;
  for (let m = ENCODED_WORD.exec(s); m !== null; m = ENCODED_WORD.exec(s)) {
    const between = s.slice(cursor, m.index);
    const charset = (m[1] as string).toLowerCase().replace(/\*.*$/, ''); // RFC 2231 5 language suffix
    const bytes = (m[2] as string).toLowerCase() === 'b' ? bDecode(m[3] as string) : qDecode(m[3] as string);
    const joined = sawWord && /^[ \t\r\n]*$/.test(between);
    if (joined && pending.length > 0 && pendingCharset === charset) {
      pending.push(bytes);
    } else {
      flush();
      if (!joined) out += between;
      pendingCharset = charset;
      pending = [bytes];
    }
    sawWord = true;
    cursor = m.index + m[0].length;
  }
  flush();
  return out + s.slice(cursor);
}
