// clamd's INSTREAM command over a unix socket or TCP (clamd(8)): "zINSTREAM\0", then
// chunks each prefixed with their length as a 4-byte big-endian integer, then a
// zero-length chunk; the answer is "stream: OK", "stream: <name> FOUND" or "… ERROR".
//
// Rules: one connection per scan, a timeout on the whole exchange, an answer of at
// most 4 KiB; anything but OK or FOUND is ClamavUnavailable (the caller decides
// between accepting and a temporary failure).

import net from 'node:net';

export type ClamavTarget = { socket: string } | { host: string; port: number };

export type ScanResult = { clean: true } | { clean: false; virus: string };

export class ClamavUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClamavUnavailable';
  }
}

const CHUNK = 64 * 1024;
const MAX_ANSWER = 4096;

export async function scanWithClamd(target: ClamavTarget, data: Buffer, timeoutMs: number): Promise<ScanResult> {
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = 'socket' in target ? net.connect(target.socket) : net.connect(target.port, target.host);
    const received: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (err: Error | null, text?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(text ?? '');
    };
    const timer = setTimeout(() => finish(new ClamavUnavailable(`clamd gave no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('error', (err) => finish(new ClamavUnavailable(`clamd: ${err.message}`, { cause: err })));
    socket.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_ANSWER) return finish(new ClamavUnavailable('clamd answer too long'));
      received.push(d);
      const text = Buffer.concat(received).toString('utf8');
      // The z-prefixed command's answer ends with NUL.
      if (text.includes('\0')) finish(null, text.slice(0, text.indexOf('\0')));
    });
    socket.on('end', () => finish(null, Buffer.concat(received).toString('utf8').replace(/\0.*$/s, '')));
    socket.on('connect', () => {
      socket.write('zINSTREAM\0');
      for (let off = 0; off < data.length; off += CHUNK) {
        const part = data.subarray(off, Math.min(off + CHUNK, data.length));
        const len = Buffer.alloc(4);
        len.writeUInt32BE(part.length);
        socket.write(len);
        socket.write(part);
      }
      socket.write(Buffer.alloc(4));
    });
  });
  const found = /^stream: (.+) FOUND$/.exec(answer.trim());
  if (found?.[1]) return { clean: false, virus: found[1].replace(/[^\x21-\x7e ]/g, '?').slice(0, 120) };
  if (/^stream: OK$/.test(answer.trim())) return { clean: true };
  throw new ClamavUnavailable(`clamd: ${answer.trim().slice(0, 200) || 'connection closed without an answer'}`);
}
