// sequence-set (RFC 9051 9; RFC 5182 `$`). `*` stays symbolic: only the session
// knows the largest message number or UID in use when the command runs.

import { bad } from './errors.js';
import type { Reader } from './reader.js';

export type SeqNumber = number | '*';

export interface SeqRange {
  /** As written by the client; `n:m` and `m:n` mean the same (RFC 9051 9, seq-range). */
  from: SeqNumber;
  to: SeqNumber;
}

export type SequenceSet =
  | { kind: 'ranges'; ranges: SeqRange[] }
  /** `$`: the result saved by SEARCH RETURN (SAVE) (RFC 5182 2.1). */
  | { kind: 'saved' };

function seqNumber(r: Reader): SeqNumber {
  if (r.tryChar('*')) return '*';
  return r.nzNumber();
}

export function parseSequenceSet(r: Reader, allowSaved = true): SequenceSet {
  if (r.tryChar('$')) {
    if (!allowSaved) throw bad('$ is not allowed here');
    return { kind: 'saved' };
  }
  const ranges: SeqRange[] = [];
  while (true) {
    const c = r.peek();
    if (c === undefined || !(c === 0x2a || (c >= 0x30 && c <= 0x39))) throw bad('Invalid sequence set');
    const from = seqNumber(r);
    const to = r.tryChar(':') ? seqNumber(r) : from;
    ranges.push({ from, to });
    if (!r.tryChar(',')) break;
  }
  return { kind: 'ranges', ranges };
}

/** Sequence sets whose meaning may not contain `*` (e.g. QRESYNC known-uids, RFC 7162 3.2.5). */
export function hasStar(set: SequenceSet): boolean {
  return set.kind === 'ranges' && set.ranges.some((r) => r.from === '*' || r.to === '*');
}

/**
 * Resolves a set against the largest number in use (the message count for
 * sequence numbers, the highest UID for UIDs) into sorted, merged, inclusive
 * ranges. RFC 9051 6.4.8: `*` is the largest number in use, so with an empty
 * mailbox `*` matches nothing; for UIDs `n:*` always includes the largest UID
 * even when n is greater than it. Numbers above `largest` are kept only when
 * `clamp` is false (UID sets: absent UIDs are simply ignored by the caller).
 */
export function resolveSequenceSet(set: SeqRange[], largest: number, clamp = true): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (const { from, to } of set) {
    if (largest === 0 && (from === '*' || to === '*')) continue;
    const a = from === '*' ? largest : from;
    const b = to === '*' ? largest : to;
    let lo = Math.min(a, b);
    let hi = Math.max(a, b);
    if (clamp) {
      if (lo > largest) continue;
      hi = Math.min(hi, largest);
    }
    if (lo < 1) lo = 1;
    spans.push([lo, hi]);
  }
  spans.sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s[0] <= last[1] + 1) last[1] = Math.max(last[1], s[1]);
    else merged.push([s[0], s[1]]);
  }
  return merged;
}

/**
 * True when the set names a number above `largest`. For message sequence
 * numbers that is a client error (RFC 9051 6.4.8 / Dovecot: BAD "Invalid
 * messageset"); `*` never counts, it always means the largest.
 */
export function hasNumberAbove(set: SeqRange[], largest: number): boolean {
  return set.some((r) => (r.from !== '*' && r.from > largest) || (r.to !== '*' && r.to > largest));
}
