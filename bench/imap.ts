// IMAP benchmarks over real sockets (not tests: numbers for people to read).
// `node --import tsx bench/imap.ts [messages]`, or the `imap` section of `npm run bench`.
// Measures FETCH of headers and full bodies, SEARCH (full-text index) and the APPEND
// rate; memory per IDLE connection is the `imap-idle` section (bench/imap-idle.ts).

import { indexMessage, toStoredStructure } from '../src/mime/index.js';
import { RawClient, startServer } from '../test/imap/harness.js';


function message(i: number): Buffer {
  const body = Array.from({ length: 60 }, (_, l) => `Line ${l} of message ${i}: the quick brown fox jumps over the lazy dog.`).join('\r\n');
  return Buffer.from(
    `From: Sender ${i} <s${i}@example.org>\r\nTo: alice@example.com\r\nSubject: Message number ${i}\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <m${i}@example.org>\r\n\r\n${body}${i % 97 === 0 ? ' needle' : ''}\r\n`,
  );
}

async function timed(label: string, fn: () => Promise<number>, rows: string[][]): Promise<void> {
  const start = performance.now();
  const units = await fn();
  const ms = performance.now() - start;
  rows.push([label, `${ms.toFixed(0)} ms`, units > 0 ? `${((units * 1000) / ms).toFixed(0)}/s` : '']);
  console.log(label, ms.toFixed(0), 'ms');
}

/** Fills one mailbox with `messages` messages, then times FETCH, SEARCH and APPEND over one real connection. */
export async function benchImap(messages = 1000): Promise<string[][]> {
  const h = await startServer({ limits: { maxLineBytes: 65536, maxLiteralBytes: 50 << 20, idleTimeoutMs: 600_000, maxConnectionsPerIp: 20, authFailureDelayMs: 0 } });
  const rows: string[][] = [];
  try {
    const inbox = (await h.store.getMailbox(h.account.id, 'INBOX'))!;
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < messages) {
          const raw = message(next++);
          const blob = await h.store.blobs.put(raw);
          await h.store.appendMessage(inbox.id, { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: toStoredStructure(indexMessage(raw)) });
        }
      }),
    );
    const c = await RawClient.connect(h.port);
    await c.login();
    await c.cmd('s', 'SELECT INBOX');
    await timed(`FETCH ${messages} headers (FLAGS, HEADER.FIELDS)`, async () => {
      await c.cmd('f', `FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE)])`, 120_000);
      return messages;
    }, rows);
    await timed(`FETCH ${messages} ENVELOPE + BODYSTRUCTURE`, async () => {
      await c.cmd('e', `FETCH 1:* (ENVELOPE BODYSTRUCTURE)`, 120_000);
      return messages;
    }, rows);
    await timed(`FETCH ${messages} full bodies (BODY.PEEK[])`, async () => {
      await c.cmd('b', `FETCH 1:* (BODY.PEEK[])`, 120_000);
      return messages;
    }, rows);
    await timed(`SEARCH BODY over ${messages} (index)`, async () => {
      await c.cmd('x', 'SEARCH BODY needle', 120_000);
      return messages;
    }, rows);
    await timed(`SEARCH FROM over ${messages} (index)`, async () => {
      await c.cmd('y', 'SEARCH FROM s500', 120_000);
      return messages;
    }, rows);
    const appendRaw = message(0).toString();
    await timed('APPEND 200 messages, one client', async () => {
      for (let i = 0; i < 200; i++) {
        c.write(`a${i} APPEND INBOX {${Buffer.byteLength(appendRaw)}+}\r\n${appendRaw}\r\n`);
        await c.until(`a${i}`);
      }
      return 200;
    }, rows);
    c.close();
  } finally {
    await h.close();
  }
  return rows;
}

export function imapSection(rows: string[][]): string[] {
  return ['| operation | time | rate |', '|---|---:|---:|', ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await benchImap(Number(process.argv[2] ?? 1000));
  console.log(imapSection(rows).join('\n'));
}
