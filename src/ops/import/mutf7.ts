// RFC 3501 5.1.3 modified UTF-7, as Dovecot and Courier write folder names on disk
// (Maildir++ `.Entw&APw-rfe`). `&-` is `&`; `&…-` is base64 (`,` for `/`) of UTF-16BE.

export function decodeModifiedUtf7(name: string): string {
  return name.replace(/&([A-Za-z0-9+,]*)-/g, (_, b64: string) => {
    if (b64 === '') return '&';
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64');
    let out = '';
    for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
    return out;
  });
}

/**
 * The reverse, as Dovecot writes names: printable ASCII stays (`&` as `&-`), runs of
 * anything else become `&<base64 of UTF-16BE>-`. `extra` names ASCII characters to
 * encode as well (Maildir++ cannot have its separator `.` in a name).
 */
export function encodeModifiedUtf7(name: string, extra = ''): string {
  let out = '';
  let run = '';
  const flush = (): void => {
    if (run === '') return;
    const bytes = Buffer.alloc(run.length * 2);
    for (let i = 0; i < run.length; i++) bytes.writeUInt16BE(run.charCodeAt(i), i * 2);
    out += `&${bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    run = '';
  };
  for (const c of name) {
    const code = c.charCodeAt(0);
    if (code >= 0x20 && code <= 0x7e && !extra.includes(c)) {
      flush();
      out += c === '&' ? '&-' : c;
    } else run += c;
  }
  flush();
  return out;
}
