// Structured MIME header values: Content-Type (RFC 2045 5.1), Content-Disposition
// (RFC 2183 2), parameter continuations and charsets (RFC 2231 3-4). The lexer is
// lenient the way deployed clients are: unquoted values may contain tspecials, a
// missing `=` drops one parameter rather than the whole header.
import { decodeCharset } from './charset.js';
import type { MimeParam } from './types.js';

/** Skips whitespace and (nested) comments (RFC 5322 3.2.2 CFWS). */
export function skipCfws(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) {
      i++;
    } else if (c === 0x28 /* ( */) {
      let depth = 0;
      while (i < s.length) {
        const d = s[i];
        if (d === '\\') i++;
        else if (d === '(') depth++;
        else if (d === ')') {
          depth--;
          if (depth === 0) {
            i++;
            break;
          }
        }
        i++;
      }
    } else {
      break;
    }
  }
  return i;
}

const TSPECIALS = '()<>@,;:\\"/[]?= \t\r\n';

/** An RFC 2045 token: anything but tspecials, space and controls. */
export function readToken(s: string, i: number): [string, number] {
  const start = i;
  while (i < s.length && !TSPECIALS.includes(s[i] as string) && s.charCodeAt(i) > 0x1f) i++;
  return [s.slice(start, i), i];
}

/** A quoted-string starting at s[i] === '"'; a missing closing quote ends at the end of input. */
export function readQuoted(s: string, i: number): [string, number] {
  let out = '';
  i++;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === '"') return [out, i + 1];
    if (c === '\\' && i + 1 < s.length) {
      out += s[i + 1];
      i += 2;
      continue;
    }
    // Folding inside a quoted string is whitespace (RFC 5322 3.2.4).
    if (c !== '\r' && c !== '\n') out += c;
    i++;
  }
  return [out, i];
}

interface RawParam {
  name: string;
  value: string;
}

function readParams(s: string, i: number): RawParam[] {
  const out: RawParam[] = [];
  while (i < s.length) {
    i = skipCfws(s, i);
    if (s[i] === ';') {
      i++;
      continue;
    }
    if (i >= s.length) break;
    const [name, afterName] = readToken(s, i);
    i = skipCfws(s, afterName);
    if (name === '' || s[i] !== '=') {
      // Not a parameter: skip to the next ';'.
      const semi = s.indexOf(';', Math.max(i, afterName + (name === '' ? 1 : 0)));
      if (semi < 0) break;
      i = semi + 1;
      continue;
    }
    i = skipCfws(s, i + 1);
    let value: string;
    if (s[i] === '"') {
      [value, i] = readQuoted(s, i);
    } else {
      const start = i;
      while (i < s.length && s[i] !== ';' && s[i] !== ' ' && s[i] !== '\t' && s[i] !== '(') i++;
      value = s.slice(start, i);
    }
    out.push({ name: name.toLowerCase(), value });
  }
  return out;
}

function percentDecode(s: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      for (const b of Buffer.from(s[i] as string, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes);
}

function percentEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(b);
    out += b > 0x20 && b < 0x7f && !`*'%()<>@,;:\\"/[]?=`.includes(ch) ? ch : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

interface Section {
  n: number;
  encoded: boolean;
  value: string;
}

/** Joins RFC 2231 continuations and decodes extended values, keeping header order. */
function mergeRfc2231(raw: RawParam[]): MimeParam[] {
  const order: string[] = [];
  const groups = new Map<string, Section[]>();
  for (const p of raw) {
    const m = /^(.*?)\*(\d+)(\*?)$/.exec(p.name);
    let key: string;
    let section: Section;
    if (m !== null && m[1] !== '') {
      key = (m[1] as string) + '*';
      section = { n: Number(m[2]), encoded: m[3] === '*', value: p.value };
    } else if (p.name.endsWith('*') && p.name.length > 1) {
      key = p.name;
      section = { n: 0, encoded: true, value: p.value };
    } else {
      key = p.name;
      section = { n: 0, encoded: false, value: p.value };
    }
    let list = groups.get(key);
    if (list === undefined) {
      // A repeated plain parameter: the first one wins.
      list = [];
      groups.set(key, list);
      order.push(key);
    } else if (!key.endsWith('*')) {
      continue;
    }
    if (list.some((s) => s.n === section.n)) continue;
    list.push(section);
  }
  const out: MimeParam[] = [];
  for (const key of order) {
    const sections = (groups.get(key) ?? []).sort((a, b) => a.n - b.n);
    if (!key.endsWith('*')) {
      out.push({ name: key, value: sections[0]?.value ?? '' });
      continue;
    }
    const name = key.slice(0, -1);
    if (!sections.some((s) => s.encoded)) {
      // Plain continuations (RFC 2231 3): just concatenated.
      out.push({ name, value: sections.map((s) => s.value).join('') });
      continue;
    }
    // RFC 2231 4: the first section carries charset'language'.
    let charset = '';
    let lang = '';
    const parts: Buffer[] = [];
    let extended = '';
    sections.forEach((s, idx) => {
      let v = s.value;
      if (idx === 0 && s.encoded) {
        const q1 = v.indexOf("'");
        const q2 = q1 >= 0 ? v.indexOf("'", q1 + 1) : -1;
        if (q2 >= 0) {
          charset = v.slice(0, q1);
          lang = v.slice(q1 + 1, q2);
          v = v.slice(q2 + 1);
        }
      }
      parts.push(s.encoded ? percentDecode(v) : Buffer.from(v, 'utf8'));
      extended += s.encoded ? v : percentEncode(v);
    });
    const value = decodeCharset(Buffer.concat(parts), charset === '' ? 'utf-8' : charset);
    out.push({ name, value, extended: `${charset}'${lang}'${extended}` });
  }
  return out;
}

export interface ContentType {
  type: string;
  subtype: string;
  params: MimeParam[];
}

/** Parses a Content-Type value; null when type/subtype is missing or malformed (RFC 2045 5.2). */
export function parseContentType(value: string): ContentType | null {
  let i = skipCfws(value, 0);
  const [type, afterType] = readToken(value, i);
  i = skipCfws(value, afterType);
  if (type === '' || value[i] !== '/') return null;
  i = skipCfws(value, i + 1);
  const [subtype, afterSub] = readToken(value, i);
  if (subtype === '') return null;
  return { type: type.toLowerCase(), subtype: subtype.toLowerCase(), params: mergeRfc2231(readParams(value, afterSub)) };
}

/** Parses a Content-Disposition value (RFC 2183 2); null when there is no disposition type. */
export function parseDisposition(value: string): { type: string; params: MimeParam[] } | null {
  const i = skipCfws(value, 0);
  const [type, after] = readToken(value, i);
  if (type === '') return null;
  return { type: type.toLowerCase(), params: mergeRfc2231(readParams(value, after)) };
}

/** A token-valued header such as Content-Transfer-Encoding, lower-cased, comments removed. */
export function parseTokenHeader(value: string): string | null {
  const [tok] = readToken(value, skipCfws(value, 0));
  return tok === '' ? null : tok.toLowerCase();
}

/** A parameter's value; an RFC 2231 extended value is preferred over a plain one of the same name. */
export function paramValue(params: readonly MimeParam[], name: string): string | null {
  let plain: string | null = null;
  for (const p of params) {
    if (p.name !== name) continue;
    if (p.extended !== undefined) return p.value;
    plain ??= p.value;
  }
  return plain;
}
