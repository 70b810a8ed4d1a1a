// What a trace may show of a client's line: never a password or an AUTH payload, and of a
// message body only its size and SHA-256 unless the operator asked for bodies. Pure
// functions, one per protocol; the line given is one command line without CRLF.
import { createHash } from 'node:crypto';

export const MASK = '***';

/** A body's stand-in: `[1234 bytes sha256 ab12…]`. */
export function summariseBody(data: Buffer | string): string {
  const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  return `[${buf.length} bytes sha256 ${createHash('sha256').update(buf).digest('hex')}]`;
}

/** POP3 (RFC 1939, RFC 5034): PASS and AUTH initial responses; SASL continuation lines. */
export function maskPop3(line: string, inSasl: boolean): string {
  if (inSasl) return line === '*' ? '*' : MASK;
  const m = /^(\S+)(\s+.*)?$/.exec(line);
  const word = m?.[1]?.toUpperCase();
  if (word === 'PASS') return `${m![1]!} ${MASK}`;
  if (word === 'AUTH') {
    const parts = line.split(/\s+/);
    return parts.length > 2 ? `${parts[0]!} ${parts[1]!} ${MASK}` : line;
  }
  return line;
}

/** SMTP (RFC 4954): AUTH initial responses; SASL continuation lines. */
export function maskSmtp(line: string, inSasl: boolean): string {
  if (inSasl) return line === '*' ? '*' : MASK;
  if (/^AUTH\s/i.test(line)) {
    const parts = line.trim().split(/\s+/);
    return parts.length > 2 ? `${parts[0]!} ${parts[1]!} ${MASK}` : line;
  }
  return line;
}

/** ManageSieve (RFC 5804 2.1): AUTHENTICATE's initial response and continuation lines. */
export function maskManageSieve(line: string, inSasl: boolean): string {
  if (inSasl) return MASK;
  const m = /^(AUTHENTICATE\s+"[^"]*")/i.exec(line);
  return m ? (line.length > m[1]!.length ? `${m[1]!} ${MASK}` : line) : line;
}

/** A ManageSieve token as the framing gives it (src/managesieve/parser.ts). */
export type ManageSieveToken = { kind: 'atom'; value: string } | { kind: 'number'; value: number } | { kind: 'string'; value: string; literal: boolean };

/**
 * ManageSieve: one command as the framing parsed it, as a trace shows it. AUTHENTICATE
 * keeps its mechanism only (maskManageSieve), a SASL line is masked whole; a script
 * (PUTSCRIPT, CHECKSCRIPT) and any literal over 256 bytes is size and hash unless `bodies`.
 */
export function describeManageSieve(tokens: readonly ManageSieveToken[], inSasl: boolean, bodies: boolean): string {
  if (inSasl) return maskManageSieve('', true);
  const command = tokens[0]?.kind === 'atom' ? tokens[0].value.toUpperCase() : '';
  if (command === 'AUTHENTICATE') {
    const mech = tokens[1]?.kind === 'string' ? tokens[1].value : '';
    return maskManageSieve(`${tokens[0]!.value} "${mech.replace(/["\\]/g, '')}"${tokens.length > 2 ? ' <response>' : ''}`, false);
  }
  const script = command === 'PUTSCRIPT' ? 2 : command === 'CHECKSCRIPT' ? 1 : -1;
  return tokens
    .map((t, i) => {
      if (t.kind !== 'string') return String(t.value);
      const size = Buffer.byteLength(t.value, 'utf8');
      const shown = !bodies && (i === script || size > 256) ? summariseBody(Buffer.from(t.value, 'utf8')) : JSON.stringify(t.value);
      return t.literal ? `{${size}+} ${shown}` : shown;
    })
    .join(' ');
}

/** A ManageSieve reply as a trace shows it: one line; GETSCRIPT's script as size and hash unless `bodies`. */
export function describeManageSieveReply(text: string, bodies: boolean): string {
  const lit = /^\{(\d+)\}\r\n/.exec(text);
  if (lit) {
    const data = Buffer.from(text.slice(lit[0].length), 'utf8').subarray(0, Number(lit[1]));
    const rest = Buffer.from(text.slice(lit[0].length), 'utf8').subarray(data.length).toString('utf8');
    const shown = bodies ? JSON.stringify(data.toString('utf8')) : summariseBody(data);
    return `${lit[0].trim()} ${shown}${rest.replace(/\r\n/g, ' ').trimEnd()}`;
  }
  return text.replace(/\r\n$/, '').replace(/\r\n/g, ' | ');
}

/**
 * IMAP (RFC 9051): LOGIN's password (quoted, atom or literal), AUTHENTICATE's initial
 * response; literals of APPEND summarised unless `bodies`. `raw` is a whole command as
 * framed (first line, literals and their continuation lines), CRLF-separated.
 */
export function maskImap(raw: Buffer, bodies: boolean): string {
  const text = raw.toString('latin1');
  const tagged = /^(\S+)\s+(\S+)/.exec(text);
  const command = tagged?.[2]?.toUpperCase();
  if (command === 'LOGIN') {
    // tag LOGIN user password: keep the user (its first token, quoted, atom or literal), mask the rest.
    const rest = text.slice(tagged![0].length).replace(/^\s+/, '');
    const user = /^("(?:[^"\\]|\\.)*"|\{\d+\+?\}\r\n[^\r\n ]*|\S+)/.exec(rest)?.[1] ?? '';
    return `${tagged![1]!} ${tagged![2]!} ${user.replace(/\r\n/g, ' ')} ${MASK}`;
  }
  if (command === 'AUTHENTICATE') {
    const parts = text.trim().split(/\s+/);
    return parts.length > 3 ? `${parts[0]!} ${parts[1]!} ${parts[2]!} ${MASK}` : text.trim();
  }
  // Literals: `{n}` / `{n+}` / `~{n}` at a line end, followed by n octets.
  const out: string[] = [];
  let at = 0;
  const literal = /~?\{(\d+)\+?\}\r\n/g;
  let m: RegExpExecArray | null;
  while ((m = literal.exec(text)) !== null) {
    const size = Number(m[1]);
    const start = m.index + m[0].length;
    out.push(text.slice(at, m.index + m[0].length - 2));
    const data = raw.subarray(start, start + size);
    const large = command === 'APPEND' || size > 256;
    out.push(' ', large && !bodies ? summariseBody(data) : JSON.stringify(data.toString('utf8')));
    at = start + size;
    literal.lastIndex = at;
  }
  out.push(text.slice(at));
  return out.join('').replace(/\r\n$/, '').replace(/\r\n/g, ' ');
}

/** A server reply as a trace shows it: lines kept up to `max` characters. */
export function clip(text: string, max = 2000): string {
  const t = text.replace(/\r\n$/, '');
  return t.length > max ? `${t.slice(0, max)}… [${t.length - max} more characters]` : t;
}
