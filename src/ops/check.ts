// `steadymail check`: the store's own invariants (counters, UIDs, quota, orphans,
// blobs) plus the cached MIME structures. Read-only, so it runs beside `serve`.

import type { IntegrityProblem, Store } from '../store/store.js';
import { checkStructure, type StructureMode, type StructureProblem } from './structure.js';

export type CheckProblem = IntegrityProblem | StructureProblem;

export interface CheckOptions {
  accountId?: number;
  /** Re-hash every referenced blob (reads all message bytes) instead of a size check. */
  hash?: boolean;
  structure?: StructureMode;
  blobGraceMs?: number;
  onProgress?: (phase: 'blobs' | 'structure', done: number, total: number) => void;
}

export interface CheckReport {
  clean: boolean;
  problems: CheckProblem[];
  /** Problems per kind. */
  counts: Record<string, number>;
  /** Problems `steadymail repair` does not fix (they need an operator). */
  unrepairable: number;
}

export async function runCheck(store: Store, options: CheckOptions = {}): Promise<CheckReport> {
  const problems: CheckProblem[] = await store.checkIntegrity({
    ...(options.accountId === undefined ? {} : { accountId: options.accountId }),
    ...(options.blobGraceMs === undefined ? {} : { blobGraceMs: options.blobGraceMs }),
    blobs: options.hash === true ? 'hash' : 'exists',
    onProgress: (done, total) => options.onProgress?.('blobs', done, total),
  });
  problems.push(
    ...(await checkStructure(store, {
      ...(options.accountId === undefined ? {} : { accountId: options.accountId }),
      mode: options.structure ?? 'sample',
      onProgress: (done, total) => options.onProgress?.('structure', done, total),
    })),
  );
  return summarise(problems);
}

export function summarise(problems: CheckProblem[]): CheckReport {
  const counts: Record<string, number> = {};
  for (const p of problems) counts[p.kind] = (counts[p.kind] ?? 0) + 1;
  return { clean: problems.length === 0, problems, counts, unrepairable: problems.filter((p) => !p.repairable).length };
}
