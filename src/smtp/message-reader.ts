// Reads the DATA stream (already dot-unstuffed by smtp-server, RFC 5321 4.5.2) into
// memory, normalising bare LF to CRLF (RFC 5321 2.3.8: clients that send bare LF are
// common enough to tolerate) and enforcing the size and line-length limits while the
// bytes arrive. The message is held in memory because the MIME indexer and DKIM need
// it whole before the trace headers can be written; the size limit bounds it.
//
// The stream is always read to its end, even after a limit is hit: smtp-server can
// only answer DATA once the terminating "." has been read.

import { reply, type SmtpReply } from './replies.js';

const LF = 10;
const CR = 13;
const CRLF = Buffer.from('\r\n');

export interface ReadLimits {
  maxMessageBytes: number;
  /** Longest line including its CRLF (RFC 5321 4.5.3.1.6 says at least 1000). */
  maxLineBytes: number;
}

export interface ReceivedMessage {
  chunks: Buffer[];
  size: number;
}

interface LineState {
  prevCR: boolean;
  lineLen: number;
  longest: number;
}

/** Appends `chunk` with bare LFs turned into CRLF, tracking the longest line. */
export function normaliseChunk(chunk: Buffer, st: LineState): Buffer {
  let parts: Buffer[] | null = null;
  let copied = 0;
  let lineStart = 0;
  let pos = chunk.indexOf(LF);
  while (pos !== -1) {
    const hasCR = pos > 0 ? chunk[pos - 1] === CR : st.prevCR;
    const len = st.lineLen + (pos - lineStart) + (hasCR ? 1 : 2);
    if (len > st.longest) st.longest = len;
    if (!hasCR) {
      parts ??= [];
      parts.push(chunk.subarray(copied, pos), CRLF);
      copied = pos + 1;
    }
    st.lineLen = 0;
    lineStart = pos + 1;
    pos = chunk.indexOf(LF, pos + 1);
  }
  st.lineLen += chunk.length - lineStart;
  if (st.lineLen + 2 > st.longest) st.longest = st.lineLen + 2;
  if (chunk.length > 0) st.prevCR = chunk[chunk.length - 1] === CR;
  if (!parts) return chunk;
  parts.push(chunk.subarray(copied));
  return Buffer.concat(parts);
}

/** Reads the whole message; throws the SmtpReply for a limit it broke (after draining). */
export async function readMessage(stream: AsyncIterable<Buffer>, limits: ReadLimits): Promise<ReceivedMessage> {
  const st: LineState = { prevCR: false, lineLen: 0, longest: 0 };
  const chunks: Buffer[] = [];
  let size = 0;
  let refused: SmtpReply | null = null;
  for await (const raw of stream) {
    if (refused) continue;
    const chunk = normaliseChunk(raw, st);
    size += chunk.length;
    if (size > limits.maxMessageBytes) refused = reply.tooBig(limits.maxMessageBytes);
    else if (st.longest > limits.maxLineBytes) refused = reply.lineTooLong(limits.maxLineBytes);
    if (refused) chunks.length = 0;
    else chunks.push(chunk);
  }
  if (refused) throw refused;
  return { chunks, size };
}

/** Counts Received fields in the header section (for loop detection, RFC 5321 6.3). */
export function countReceived(message: Buffer): number {
  let end = message.indexOf('\r\n\r\n');
  if (end < 0) end = message.length;
  const header = message.toString('latin1', 0, end);
  let count = 0;
  const re = /(?:^|\r\n)received[ \t]*:/gi;
  while (re.exec(header)) count++;
  return count;
}
