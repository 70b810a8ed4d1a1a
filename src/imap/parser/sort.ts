// SORT and THREAD (RFC 5256), ESORT return options (RFC 5267), DISPLAYFROM /
// DISPLAYTO (RFC 5957).

import { bad } from './errors.js';
import { checkCharset, parseSearchKeys, parseSearchReturn, type SearchKey, type SearchReturn } from './search.js';
import type { Reader } from './reader.js';
import type { SortCriterion, SortKey } from './types.js';

const SORT_KEYS = new Set<string>(['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO']);

function parseSortCriterion(r: Reader): SortCriterion {
  let word = r.keyword('sort key');
  let reverse = false;
  if (word === 'REVERSE') {
    reverse = true;
    r.sp();
    word = r.keyword('sort key');
  }
  if (!SORT_KEYS.has(word)) throw bad(`Unknown sort key ${word}`);
  return { key: word as SortKey, reverse };
}

/** charset SP search-key *(SP search-key): the charset is mandatory in SORT and THREAD. */
function parseCriteria(r: Reader): { charset: string; criteria: SearchKey[] } {
  const charset = checkCharset(r.astring().toString('latin1'));
  r.sp();
  return { charset, criteria: parseSearchKeys(r) };
}

/** SORT [SP RETURN (...)] SP sort-criteria SP search-criteria */
export function parseSortArgs(r: Reader): { sort: SortCriterion[]; return: SearchReturn | null; charset: string; criteria: SearchKey[] } {
  r.sp();
  const ret = parseSearchReturn(r);
  if (ret) r.sp();
  const sort = r.list(() => parseSortCriterion(r));
  r.sp();
  return { sort, return: ret, ...parseCriteria(r) };
}

/** THREAD SP thread-alg SP search-criteria; the algorithm is checked by the session against what it advertises. */
export function parseThreadArgs(r: Reader): { algorithm: string; charset: string; criteria: SearchKey[] } {
  r.sp();
  const algorithm = r.keyword('thread algorithm');
  r.sp();
  return { algorithm, ...parseCriteria(r) };
}
