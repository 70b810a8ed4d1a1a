// RFC 4978 COMPRESS=DEFLATE over a raw socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { RawClient, startServer } from './harness.js';

test('COMPRESS DEFLATE: both directions compressed after the tagged OK', async () => {
  const h = await startServer();
  try {
    const c = await RawClient.connect(h.port);
    await c.login();
    assert.match((await c.cmd('c0', 'CAPABILITY'))[0] ?? '', / COMPRESS=DEFLATE/);
    assert.deepEqual(await c.cmd('c1', 'COMPRESS DEFLATE'), ['c1 OK DEFLATE active']);
    const socket = c.socket;
    socket.removeAllListeners('data');
    const inflate = zlib.createInflateRaw();
    const deflate = zlib.createDeflateRaw();
    socket.on('data', (d: Buffer) => inflate.write(d));
    deflate.on('data', (d: Buffer) => socket.write(d));
    let text = '';
    inflate.on('data', (d: Buffer) => (text += d.toString()));
    const send = (line: string): void => {
      deflate.write(line);
      deflate.flush(zlib.constants.Z_SYNC_FLUSH);
    };
    const waitFor = async (re: RegExp): Promise<void> => {
      for (let i = 0; i < 100 && !re.test(text); i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(text, re);
    };
    send('a SELECT INBOX\r\n');
    await waitFor(/a OK \[READ-WRITE\] SELECT completed\r\n/);
    send('b COMPRESS DEFLATE\r\n');
    await waitFor(/b NO \[COMPRESSIONACTIVE\] Compression is already active\r\n/);
    send('c LOGOUT\r\n');
    await waitFor(/\* BYE Logging out\r\nc OK LOGOUT completed\r\n/);
    socket.destroy();
  } finally {
    await h.close();
  }
});
