// The rows of one message list (a folder or a search), loaded a page at a time as the
// list scrolls. Only pages near what is on screen are kept, so a 100,000-message folder
// costs what a small one does. After a change event every page is marked stale and
// reloaded when shown again; stale rows stay visible meanwhile (no flicker).
import type { MessagePage, MessageSummary, SearchQuery, SortField, SortOrder } from '../../src/http/api/types.js';
import { api, isAbort, withQuery } from './api.js';

export const PAGE_SIZE = 100;
/** Pages kept beyond the visible range on each side. */
const KEEP_PAGES = 15;

export type ListSource =
  | { kind: 'folder'; folderId: string; sort: SortField; order: SortOrder; threads: boolean }
  | { kind: 'search'; query: SearchQuery };

export function sourceKey(source: ListSource): string {
  return JSON.stringify(source);
}

function pageUrl(source: ListSource, page: number): string {
  const offset = page * PAGE_SIZE;
  if (source.kind === 'folder') {
    return withQuery(`/api/folders/${encodeURIComponent(source.folderId)}/messages`, {
      sort: source.sort,
      order: source.order,
      threads: source.threads ? '1' : undefined,
      offset,
      limit: PAGE_SIZE,
    });
  }
  return withQuery('/api/search', { ...source.query, offset, limit: PAGE_SIZE });
}

export class MessageWindow {
  /** -1 until the first page answers. */
  total = -1;
  error: string | null = null;
  private readonly pages = new Map<number, MessageSummary[]>();
  private readonly stale = new Set<number>();
  private readonly inflight = new Map<number, AbortController>();
  private range: [number, number] = [0, 0];
  private disposed = false;
  private version = 0;

  constructor(
    readonly source: ListSource,
    private readonly onChange: () => void,
  ) {}

  get(index: number): MessageSummary | undefined {
    return this.pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  /** The loaded rows with their positions (for keyboard moves and selection ranges). */
  indexOf(id: string): number {
    for (const [page, rows] of this.pages) {
      const i = rows.findIndex((m) => m.id === id);
      if (i >= 0) return page * PAGE_SIZE + i;
    }
    return -1;
  }

  /** Asks for the rows first..last (inclusive) to be loaded. */
  ensure(first: number, last: number): void {
    if (this.disposed) return;
    const firstPage = Math.max(0, Math.floor(first / PAGE_SIZE));
    const lastPage = Math.max(firstPage, Math.floor(Math.max(first, last) / PAGE_SIZE));
    this.range = [firstPage, lastPage];
    for (let p = firstPage; p <= lastPage; p++) {
      if (this.total >= 0 && p * PAGE_SIZE >= this.total && p > 0) break;
      if ((this.pages.has(p) && !this.stale.has(p)) || this.inflight.has(p)) continue;
      this.load(p);
    }
    // Forget pages far from the view.
    for (const p of [...this.pages.keys()]) {
      if (p < firstPage - KEEP_PAGES || p > lastPage + KEEP_PAGES) this.pages.delete(p);
    }
  }

  /** Something changed on the server: reload what is shown, drop the rest lazily. */
  invalidate(): void {
    for (const p of this.pages.keys()) this.stale.add(p);
    for (const c of this.inflight.values()) c.abort();
    this.inflight.clear();
    this.version++;
    this.ensure(this.range[0] * PAGE_SIZE, this.range[1] * PAGE_SIZE + PAGE_SIZE - 1);
  }

  /** Applies a local change at once (flags, read state) before the server's event arrives. */
  patch(ids: ReadonlySet<string>, change: (m: MessageSummary) => MessageSummary): void {
    for (const [p, rows] of this.pages) this.pages.set(p, rows.map((m) => (ids.has(m.id) ? change(m) : m)));
    this.onChange();
  }

  /** Hides removed messages until the reload confirms it. */
  remove(ids: ReadonlySet<string>): void {
    let removed = 0;
    const ordered = [...this.pages.keys()].sort((a, b) => a - b);
    const all: MessageSummary[] = [];
    for (const p of ordered) all.push(...(this.pages.get(p) ?? []));
    for (const m of all) if (ids.has(m.id)) removed++;
    if (removed === 0) return;
    // Rows shift up: simplest correct thing is to reload around the view.
    if (this.total > 0) this.total = Math.max(0, this.total - removed);
    for (const p of ordered) this.pages.set(p, (this.pages.get(p) ?? []).filter((m) => !ids.has(m.id)));
    this.invalidate();
    this.onChange();
  }

  dispose(): void {
    this.disposed = true;
    for (const c of this.inflight.values()) c.abort();
    this.inflight.clear();
  }

  private load(page: number): void {
    const controller = new AbortController();
    this.inflight.set(page, controller);
    const version = this.version;
    api<MessagePage>('GET', pageUrl(this.source, page), undefined, controller.signal)
      .then((result) => {
        if (this.disposed || version !== this.version) return;
        this.inflight.delete(page);
        this.pages.set(page, result.items);
        this.stale.delete(page);
        this.total = result.total;
        this.error = null;
        this.onChange();
      })
      .catch((err: unknown) => {
        if (isAbort(err) || this.disposed || version !== this.version) return;
        this.inflight.delete(page);
        this.error = err instanceof Error ? err.message : 'The list could not be loaded.';
        if (this.total < 0) this.total = 0;
        this.onChange();
      });
  }
}
