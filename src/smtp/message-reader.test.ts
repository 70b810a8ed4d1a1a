import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countReceived, readMessage } from './message-reader.js';
import { SmtpReply } from './replies.js';

async function* pieces(...parts: string[]): AsyncIterable<Buffer> {
  for (const p of parts) yield Buffer.from(p);
}

const limits = { maxMessageBytes: 1000, maxLineBytes: 20 };

test('bare LF becomes CRLF, also when CR and LF arrive in different chunks', async () => {
  const m = await readMessage(pieces('a\nb\r', '\nc\n', '\nd'), limits);
  assert.equal(Buffer.concat(m.chunks).toString(), 'a\r\nb\r\nc\r\n\r\nd');
  assert.equal(m.size, 'a\r\nb\r\nc\r\n\r\nd'.length);
});

test('a CRLF message passes through untouched', async () => {
  const m = await readMessage(pieces('Subject: x\r\n\r\nbody\r\n'), limits);
  assert.equal(Buffer.concat(m.chunks).toString(), 'Subject: x\r\n\r\nbody\r\n');
});

test('line length counts the CRLF and spans chunks (RFC 5321 4.5.3.1.6)', async () => {
  await readMessage(pieces('x'.repeat(18), '\r\n'), limits);
  await assert.rejects(readMessage(pieces('x'.repeat(10), 'x'.repeat(9), '\r\n'), limits), (e: unknown) => e instanceof SmtpReply && e.message.startsWith('5.5.6'));
  await assert.rejects(readMessage(pieces('x'.repeat(25)), limits), (e: unknown) => e instanceof SmtpReply && e.responseCode === 500);
});

test('size limit: 552 5.3.4 after reading everything', async () => {
  let read = 0;
  async function* many(): AsyncIterable<Buffer> {
    for (let i = 0; i < 200; i++) {
      read++;
      yield Buffer.from('0123456789\r\n');
    }
  }
  await assert.rejects(readMessage(many(), limits), (e: unknown) => e instanceof SmtpReply && e.responseCode === 552 && e.message.startsWith('5.3.4'));
  assert.equal(read, 200, 'the stream is drained so that the reply can be sent');
});

test('countReceived counts only header fields', () => {
  const msg = Buffer.from('Received: a\r\nreceived : b\r\n\tc\r\nSubject: x\r\n\r\nReceived: in the body\r\n');
  assert.equal(countReceived(msg), 2);
});
