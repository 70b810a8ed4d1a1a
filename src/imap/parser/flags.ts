// Flags (RFC 9051 2.3.2, 9: flag, flag-list, flag-keyword).

import type { SystemFlag } from '../../store/types.js';
import { bad } from './errors.js';
import type { Reader } from './reader.js';

export type { SystemFlag };

const SYSTEM: ReadonlyMap<string, SystemFlag> = new Map([
  ['\\SEEN', '\\Seen'],
  ['\\ANSWERED', '\\Answered'],
  ['\\FLAGGED', '\\Flagged'],
  ['\\DELETED', '\\Deleted'],
  ['\\DRAFT', '\\Draft'],
]);

/** Flags the client asked to set or clear: system flags in canonical case, keywords as written. */
export interface FlagSet {
  system: SystemFlag[];
  /** Keywords are atoms and compared case-insensitively; the first spelling seen is kept. */
  keywords: string[];
}

export function canonicalSystemFlag(flag: string): SystemFlag | undefined {
  return SYSTEM.get(flag.toUpperCase());
}

/**
 * One flag of STORE / APPEND. RFC 9051 removed \Recent and any other
 * backslash name is not a flag a client may set: both are rejected, as Dovecot does.
 */
export function parseFlag(r: Reader): string {
  if (r.tryChar('\\')) {
    if (r.isChar('*')) throw bad('\\* is not a flag a message can have');
    const name = '\\' + r.atom('flag');
    const sys = canonicalSystemFlag(name);
    if (!sys) throw bad(`Invalid system flag ${name}`);
    return sys;
  }
  return r.atom('flag keyword');
}

export function addFlag(set: FlagSet, flag: string): void {
  const sys = canonicalSystemFlag(flag);
  if (flag.startsWith('\\') && sys) {
    if (!set.system.includes(sys)) set.system.push(sys);
    return;
  }
  const upper = flag.toUpperCase();
  if (!set.keywords.some((k) => k.toUpperCase() === upper)) set.keywords.push(flag);
}

/** flag-list = "(" [flag *(SP flag)] ")" */
export function parseFlagList(r: Reader): FlagSet {
  const set: FlagSet = { system: [], keywords: [] };
  for (const f of r.list(() => parseFlag(r), true)) addFlag(set, f);
  return set;
}
