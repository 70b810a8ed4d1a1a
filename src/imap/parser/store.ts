// STORE arguments (RFC 9051 6.4.6, RFC 7162 3.1.3 UNCHANGEDSINCE).

import { bad } from './errors.js';
import { addFlag, parseFlag, parseFlagList, type FlagSet } from './flags.js';
import type { Reader } from './reader.js';
import { parseSequenceSet, type SequenceSet } from './sequence-set.js';

/** FLAGS replaces, +FLAGS adds, -FLAGS removes. */
export type StoreAction = 'set' | 'add' | 'remove';

export interface StoreArgs {
  set: SequenceSet;
  unchangedSince: number | null;
  action: StoreAction;
  silent: boolean;
  flags: FlagSet;
}

/**
 * STORE SP sequence-set [SP store-modifiers] SP store-att-flags
 * store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
 */
export function parseStoreArgs(r: Reader): StoreArgs {
  r.sp();
  const set = parseSequenceSet(r);
  r.sp();
  let unchangedSince: number | null = null;
  if (r.isChar('(')) {
    r.list(() => {
      const mod = r.keyword('store modifier');
      if (mod !== 'UNCHANGEDSINCE' || unchangedSince !== null) throw bad(`Invalid store modifier ${mod}`);
      r.sp();
      unchangedSince = r.number64();
    });
    r.sp();
  }
  const action: StoreAction = r.tryChar('+') ? 'add' : r.tryChar('-') ? 'remove' : 'set';
  const item = r.keyword('store item');
  if (item !== 'FLAGS' && item !== 'FLAGS.SILENT') throw bad(`Invalid STORE item ${item}`);
  r.sp();
  let flags: FlagSet;
  if (r.isChar('(')) {
    flags = parseFlagList(r);
  } else {
    // RFC 9051 9 allows the flags without parentheses too.
    flags = { system: [], keywords: [] };
    addFlag(flags, parseFlag(r));
    while (r.trySp()) addFlag(flags, parseFlag(r));
  }
  return { set, unchangedSince, action, silent: item === 'FLAGS.SILENT', flags };
}
