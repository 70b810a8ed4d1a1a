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
