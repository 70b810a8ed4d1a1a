// RFC 9051 6.4.4 SEARCH, RFC 4731 ESEARCH, RFC 5182 SEARCHRES, RFC 7162 3.1.5 MODSEQ.
import type { SearchKey, SearchReturn } from '../parser/index.js';
import { indexMessage, readMessageIndex, searchTextOf } from '../../mime/index.js';
import type { MessageMeta } from '../../store/types.js';
import type { Cmd, CommandContext, Reply } from '../handler.js';
import { formatSequenceSet, quoted, untagged } from '../respond.js';
import { matches, searchNeeds, usesModseq, type SearchTarget } from '../search-eval.js';
import { planTextSearch, residualCriteria } from '../search-plan.js';

export interface SearchHit {
  meta: MessageMeta;
  msn: number;
  target: SearchTarget;
}

/** Messages the scan read that the index lacked, written to it per SEARCH (the backlog pass does the rest). */
const LAZY_INDEX_MAX = 500;

/**
 * Runs the criteria over the selected mailbox; hits in MSN order. Shared with SORT.
 * BODY/TEXT/HEADER go to the store's full-text index first (search-plan.ts): only
 * the messages it returns, and those it does not cover yet, are checked here.
 */
export async function runSearch(ctx: CommandContext, criteria: readonly SearchKey[], options: { index?: boolean } = {}): Promise<SearchHit[]> {
  const view = ctx.session.view();
  const plan = planTextSearch(criteria);
  if (plan === null) {
    const needs = searchNeeds(criteria);
    const metas = await ctx.store.listMessages(view.mailboxId, needs.index || options.index ? {} : { withoutStructure: true });
    return checkMessages(ctx, metas, () => criteria, options);
  }
  const found = await ctx.store.searchText(view.mailboxId, plan.filter);
  const matched = new Set(found.matched);
  const residual = residualCriteria(criteria, plan);
  const candidates = [...found.matched, ...found.unindexed];
  if (plan.scanLarger !== null) {
    const limit = plan.scanLarger;
    for (const m of await ctx.store.listMessages(view.mailboxId, { withoutStructure: true, largerThan: limit })) if (!matched.has(m.uid)) candidates.push(m.uid);
  }
  const uids = [...new Set(candidates)].filter((uid) => view.msnOf(uid) > 0);
  let metas: MessageMeta[];
  if (uids.length > view.count / 4) {
    const wanted = new Set(uids);
    // The cached structure is large: read it only when something will look at it.
    const structure = options.index || searchNeeds(residual).index || (found.unindexed.length > 0 && searchNeeds(criteria).index);
    metas = (await ctx.store.listMessages(view.mailboxId, structure ? {} : { withoutStructure: true })).filter((m) => wanted.has(m.uid));
  } else {
    metas = await ctx.store.getMessages(view.mailboxId, uids);
  }
  return checkMessages(ctx, metas, (m) => (matched.has(m.uid) ? residual : criteria), options, (m) => !matched.has(m.uid));
}

/** Evaluates criteria over the given messages, loading what they need (index, blob text). */
async function checkMessages(
  ctx: CommandContext,
  metas: readonly MessageMeta[],
  criteriaOf: (meta: MessageMeta) => readonly SearchKey[],
  options: { index?: boolean },
  unindexed: (meta: MessageMeta) => boolean = () => true,
): Promise<SearchHit[]> {
  const s = ctx.session;
  const view = s.view();
  const scope = { count: view.count, highestUid: view.highestUid, saved: s.savedSearch, now: Date.now(), recent: view.recent };
  const hits: SearchHit[] = [];
  let lazy = 0;
  for (const meta of metas) {
    const msn = view.msnOf(meta.uid);
    if (msn === 0) continue;
    const criteria = criteriaOf(meta);
    const needs = searchNeeds(criteria);
    if (options.index) needs.index = true;
    let index = needs.index ? readMessageIndex(meta.structure) : null;
    let text = null;
    if (needs.text) {
      const raw = await ctx.store.blobs.get(meta.blobId);
      index ??= indexMessage(raw);
      text = searchTextOf(raw, index);
      if (unindexed(meta) && lazy < LAZY_INDEX_MAX) {
        lazy++;
        // Not awaited: the answer does not depend on it, and a failure only leaves the message to the scan.
        void ctx.store.indexSearchText(meta.blobId, { headers: text.headers, body: text.body }).catch(() => undefined);
      }
    } else if (needs.index && index === null) {
      index = indexMessage(await ctx.store.blobs.get(meta.blobId));
    }
    const target: SearchTarget = { meta, msn, index, text };
    if (criteria.every((k) => matches(k, target, scope))) hits.push({ meta, msn, target });
  }
  return hits.sort((a, b) => a.msn - b.msn);
}

/** `* ESEARCH (TAG "a") UID MIN 1 MAX 9 COUNT 3 ALL 1,4,9` (RFC 4731 3.1). */
export function esearchLine(tag: string, uid: boolean, ret: SearchReturn, nums: number[], modseq: number | null): Buffer {
  const opts: readonly string[] = ret.length === 0 ? ['ALL'] : ret;
  const parts = [`ESEARCH (TAG ${quoted(tag)})`];
  if (uid) parts.push('UID');
  if (nums.length > 0) {
    if (opts.includes('MIN')) parts.push(`MIN ${Math.min(...nums)}`);
    if (opts.includes('MAX')) parts.push(`MAX ${Math.max(...nums)}`);
  }
  if (opts.includes('COUNT')) parts.push(`COUNT ${nums.length}`);
  if (nums.length > 0 && opts.includes('ALL')) parts.push(`ALL ${formatSequenceSet(nums)}`);
  if (modseq !== null && nums.length > 0) parts.push(`MODSEQ ${modseq}`);
  return untagged(parts.join(' '));
}

export async function* search(cmd: Cmd<'SEARCH'>, ctx: CommandContext): Reply {
  const s = ctx.session;
  const withModseq = usesModseq(cmd.criteria);
  if (withModseq) s.enabled.add('CONDSTORE');
  const hits = await runSearch(ctx, cmd.criteria);
  const nums = hits.map((h) => (cmd.uid ? h.meta.uid : h.msn));
  // RFC 7162 3.1.5: the highest modseq of the messages found.
  const modseq = withModseq ? hits.reduce((mx, h) => Math.max(mx, h.meta.modseq), 0) : null;
  const ret = cmd.return;
  if (ret?.includes('SAVE')) {
    // RFC 5182 2.4: with MIN/MAX only, only those are saved.
    const uids = hits.map((h) => h.meta.uid);
    const onlyMinMax = !ret.includes('ALL') && !ret.includes('COUNT') && (ret.includes('MIN') || ret.includes('MAX'));
    s.savedSearch = onlyMinMax && uids.length > 0 ? [...new Set([ret.includes('MIN') ? uids[0] : undefined, ret.includes('MAX') ? uids[uids.length - 1] : undefined].filter((u): u is number => u !== undefined))] : uids;
    // RFC 5182 2.1: SAVE alone means no ESEARCH response.
    if (ret.length === 1) return undefined;
  }
  if (ret !== null || s.rev2) {
    yield esearchLine(cmd.tag, cmd.uid, (ret ?? ['ALL']).filter((o) => o !== 'SAVE'), nums, modseq);
  } else {
    const mod = modseq !== null && nums.length > 0 ? ` (MODSEQ ${modseq})` : '';
    yield untagged(`SEARCH${nums.map((n) => ' ' + n).join('')}${mod}`);
  }
  return undefined;
}
