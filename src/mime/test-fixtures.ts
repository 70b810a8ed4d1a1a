// Shared helpers for the mime tests: building fixture messages and checking
// that every offset in an index is consistent with the raw bytes.
import assert from 'node:assert/strict';
import type { MessageIndex, MimePart } from './types.js';

/** A message from lines joined with CRLF (no trailing CRLF unless the last line is ''). */
export function crlf(...lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

export function lf(...lines: string[]): Buffer {
  return Buffer.from(lines.join('\n'), 'utf8');
}

export function slice(raw: Buffer, start: number, end: number): string {
  return raw.subarray(start, end).toString('latin1');
}

/** Walks a part tree asserting the offset invariants; returns the number of parts seen. */
export function assertOffsets(raw: Buffer, part: MimePart, lo = 0, hi = raw.length): number {
  assert.ok(Number.isInteger(part.headerStart) && Number.isInteger(part.bodyStart) && Number.isInteger(part.bodyEnd));
  assert.ok(lo <= part.headerStart, `headerStart ${part.headerStart} < ${lo}`);
  assert.ok(part.headerStart <= part.bodyStart, `headerStart ${part.headerStart} > bodyStart ${part.bodyStart}`);
  assert.ok(part.bodyStart <= part.bodyEnd, `bodyStart ${part.bodyStart} > bodyEnd ${part.bodyEnd}`);
  assert.ok(part.bodyEnd <= hi, `bodyEnd ${part.bodyEnd} > ${hi}`);
  assert.equal(part.size, part.bodyEnd - part.bodyStart);
  let n = 1;
  let prevEnd = part.bodyStart;
  for (const c of part.children) {
    assert.ok(c.headerStart >= prevEnd, 'children overlap');
    n += assertOffsets(raw, c, part.bodyStart, part.bodyEnd);
    prevEnd = c.bodyEnd;
  }
  if (part.message !== null) {
    assert.equal(part.message.root.headerStart, part.bodyStart);
    assert.equal(part.message.root.bodyEnd, part.bodyEnd);
    n += assertOffsets(raw, part.message.root, part.bodyStart, part.bodyEnd);
  }
  return n;
}

export function assertIndex(raw: Buffer, index: MessageIndex): void {
  assert.equal(index.size, raw.length);
  assert.equal(index.root.headerStart, 0);
  assert.equal(index.root.bodyEnd, raw.length);
  assert.equal(assertOffsets(raw, index.root), index.partCount);
  // The index is stored as JSON: it must survive a round trip unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(index)), index);
}

/** Body text of a part. */
export function body(raw: Buffer, p: MimePart | undefined): string {
  assert.ok(p !== undefined, 'part missing');
  return slice(raw, p.bodyStart, p.bodyEnd);
}

/** MIME header text of a part (blank line included). */
export function header(raw: Buffer, p: MimePart | undefined): string {
  assert.ok(p !== undefined, 'part missing');
  return slice(raw, p.headerStart, p.bodyStart);
}
