// RFC 5256 SORT over the keys the MIME index precomputed at delivery
// (base subject, first addresses); comparison is i;ascii-casemap, ties by MSN.
import type { SortCriterion } from '../parser/index.js';
import type { SearchReturn } from '../parser/index.js';
import type { Cmd, CommandContext, Reply } from '../handler.js';
import { formatSequenceSet, quoted, untagged } from '../respond.js';
import { runSearch, type SearchHit } from './search.js';

function key(h: SearchHit, c: SortCriterion): string | number {
  const idx = h.target.index;
  const sort = idx?.sort;
  switch (c.key) {
    case 'ARRIVAL':
      return h.meta.internalDate.getTime();
    case 'DATE':
      // RFC 5256 3: a missing or unparseable Date sorts by the internal date.
      return idx?.decoded.date ?? h.meta.internalDate.getTime();
    case 'SIZE':
      return h.meta.size;
    case 'SUBJECT':
      return (sort?.subject ?? '').toUpperCase();
    case 'FROM':
      return (sort?.from ?? '').toUpperCase();
    case 'TO':
      return (sort?.to ?? '').toUpperCase();
    case 'CC':
      return (sort?.cc ?? '').toUpperCase();
    case 'DISPLAYFROM':
      return (sort?.displayFrom ?? '').toUpperCase();
    case 'DISPLAYTO':
      return (sort?.displayTo ?? '').toUpperCase();
  }
}

export async function* sort(cmd: Cmd<'SORT'>, ctx: CommandContext): Reply {
  const needsIndex = cmd.sort.some((c) => c.key !== 'ARRIVAL' && c.key !== 'SIZE');
  const hits = await runSearch(ctx, cmd.criteria, { index: needsIndex });
  hits.sort((a, b) => {
    for (const c of cmd.sort) {
      const ka = key(a, c);
      const kb = key(b, c);
      if (ka !== kb) return (ka < kb ? -1 : 1) * (c.reverse ? -1 : 1);
    }
    return a.msn - b.msn;
  });
  const nums = hits.map((h) => (cmd.uid ? h.meta.uid : h.msn));
  if (cmd.return !== null) {
    // RFC 5182 2.4: SORT RETURN (SAVE) saves the matching messages for `$`.
    if (cmd.return.includes('SAVE')) ctx.session.savedSearch = hits.map((h) => h.meta.uid).sort((a, b) => a - b);
    const ret = cmd.return.filter((o) => o !== 'SAVE');
    if (ret.length > 0 || cmd.return.length === 0) yield esortLine(cmd.tag, cmd.uid, ret, nums);
    return undefined;
  }
  yield untagged(`SORT${nums.map((n) => ' ' + n).join('')}`);
  return undefined;
}

/**
 * RFC 5267 3.1 ESORT: an ESEARCH response where MIN/MAX are the first/last in
 * sort order and ALL keeps the sort order.
 */
function esortLine(tag: string, uid: boolean, ret: SearchReturn, nums: number[]): Buffer {
  const opts: readonly string[] = ret.length === 0 ? ['ALL'] : ret;
  const parts = [`ESEARCH (TAG ${quoted(tag)})`];
  if (uid) parts.push('UID');
  if (nums.length > 0 && opts.includes('MIN')) parts.push(`MIN ${nums[0]}`);
  if (nums.length > 0 && opts.includes('MAX')) parts.push(`MAX ${nums[nums.length - 1]}`);
  if (opts.includes('COUNT')) parts.push(`COUNT ${nums.length}`);
  if (nums.length > 0 && opts.includes('ALL')) parts.push(`ALL ${formatSequenceSet(nums, { sort: false })}`);
  return untagged(parts.join(' '));
}
