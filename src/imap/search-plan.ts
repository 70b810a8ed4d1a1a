// Which part of a SEARCH the store's full-text index answers (store searchText).
// The criteria are an AND of keys (RFC 9051 6.4.4). Each top-level BODY or TEXT key,
// and each OR made only of such keys, is answered exactly by the index; HEADER
// narrows (the index finds the value anywhere in the headers, the scan then checks
// the field). Keys under NOT stay with the scan: the index narrows, it cannot exclude.

import type { SearchKey } from './parser/index.js';
import type { TextFilter } from '../store/types.js';
import { SEARCH_HEADER_MAX_BYTES } from '../mime/index.js';

export interface TextPlan {
  filter: TextFilter;
  /** Top-level keys the index answers exactly: matched messages need no further check of them. */
  exact: ReadonlySet<SearchKey>;
  /**
   * Messages larger than this many bytes must be checked by the scan whether the
   * index matched them or not (a SUBJECT field may lie past the header bytes the
   * index read); null when the index alone may rule messages out.
   */
  scanLarger: number | null;
}

/** Needles the index cannot hold (store/types TextFilter); wire input decodes to neither. */
function indexable(value: string): boolean {
  return !value.includes('\0') && !value.includes('\uFFFD') && !/[\uD800-\uDFFF]/.test(value.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''));
}

function translate(k: SearchKey): { filter: TextFilter; exact: boolean; subject?: true } | null {
  switch (k.key) {
    case 'BODY':
      return indexable(k.value) ? { filter: { field: 'body', value: k.value }, exact: true } : null;
    case 'TEXT':
      return indexable(k.value) ? { filter: { field: 'text', value: k.value }, exact: true } : null;
    case 'HEADER':
      return indexable(k.value) ? { filter: { field: 'headers', value: k.value }, exact: false } : null;
    case 'SUBJECT':
      return indexable(k.value) ? { filter: { field: 'headers', value: k.value }, exact: false, subject: true } : null;
    case 'OR': {
      const l = translate(k.left);
      const r = translate(k.right);
      return l && r ? { filter: { or: [l.filter, r.filter] }, exact: l.exact && r.exact, ...(l.subject || r.subject ? { subject: true as const } : {}) } : null;
    }
    case 'AND': {
      const parts = k.keys.map(translate);
      if (parts.length === 0 || parts.some((p) => p === null)) return null;
      const ok = parts as Array<{ filter: TextFilter; exact: boolean; subject?: true }>;
      return { filter: { and: ok.map((p) => p.filter) }, exact: ok.every((p) => p.exact), ...(ok.some((p) => p.subject) ? { subject: true as const } : {}) };
    }
    default:
      return null;
  }
}

function conjuncts(keys: readonly SearchKey[]): SearchKey[] {
  return keys.flatMap((k) => (k.key === 'AND' ? conjuncts(k.keys) : [k]));
}

/** The index's share of the criteria, or null when it has none. */
export function planTextSearch(criteria: readonly SearchKey[]): TextPlan | null {
  const filters: TextFilter[] = [];
  const exact = new Set<SearchKey>();
  let subject = false;
  for (const k of conjuncts(criteria)) {
    const t = translate(k);
    if (!t) continue;
    filters.push(t.filter);
    if (t.exact) exact.add(k);
    if (t.subject) subject = true;
  }
  if (filters.length === 0) return null;
  // A message is at least as large as its header block.
  return { filter: filters.length === 1 ? filters[0]! : { and: filters }, exact, scanLarger: subject ? SEARCH_HEADER_MAX_BYTES : null };
}

/** The criteria left for the scan once the index has answered `plan.exact`. */
export function residualCriteria(criteria: readonly SearchKey[], plan: TextPlan): SearchKey[] {
  return conjuncts(criteria).filter((k) => !plan.exact.has(k));
}
