// RFC 5256 SORT over the keys the MIME index precomputed at delivery
// (base subject, first addresses); comparison is i;ascii-casemap, ties by MSN.
import type { SortCriterion } from '../parser/index.js';
import { bad } from '../errors.js';
import type { Cmd, CommandContext, Reply } from '../handler.js';
import { untagged } from '../respond.js';
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
  if (cmd.return !== null) throw bad('ESORT is not supported');
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
  yield untagged(`SORT${hits.map((h) => ' ' + (cmd.uid ? h.meta.uid : h.msn)).join('')}`);
  return undefined;
}
