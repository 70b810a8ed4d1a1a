// Threads across a whole folder for the message list (threads=1): messages are joined
// by Message-ID, In-Reply-To and References (RFC 5256 REFERENCES step 1: every id a
// message names belongs to its thread, so replies whose parent is missing still meet),
// and the folder is listed thread by thread so that paging never splits the grouping.
//
// Rules:
// - Pure over the headers the store extracts from the cached MIME index (no blob reads,
//   no structure parsed here), as IMAP THREAD is.
// - Thread order: by the thread's newest message for the date sort, else by its first
//   message's sort key; inside a thread, oldest first, a reply one level deeper than
//   the message it answers (capped at MAX_DEPTH).

import { MESSAGE_INDEX_VERSION } from '../../mime/index.js';
import type { ThreadHeaders } from '../../store/webmail.js';
import type { SortField } from './types.js';

const MAX_DEPTH = 8;

export interface ThreadRow {
  uid: number;
  depth: number;
  /** The thread's first message's uid: one thread, one key. */
  thread: number;
  /** The thread's first message's Message-ID, when it has one. */
  threadMessageId: string | null;
}

export interface ThreadedFolder {
  rows: ThreadRow[];
  threads: number;
}

interface Item {
  uid: number;
  date: number;
  size: number;
  subject: string;
  from: string;
  messageId: string | null;
  refs: string[];
}

function find(parent: number[], i: number): number {
  let r = i;
  while (parent[r] !== r) r = parent[r] as number;
  // Path compression: the next lookups are short.
  let c = i;
  while (parent[c] !== r) {
    const next = parent[c] as number;
    parent[c] = r;
    c = next;
  }
  return r;
}

export function threadFolder(messages: ThreadHeaders[], sort: SortField, descending: boolean): ThreadedFolder {
  const items: Item[] = messages.map((m) => {
    // A structure of another index version is read as having no headers (it is recomputed elsewhere).
    const h = m.indexVersion === MESSAGE_INDEX_VERSION ? m : null;
    const refs = h ? (h.references.length > 0 ? h.references : h.inReplyTo ? [h.inReplyTo] : []) : [];
    return {
      uid: m.uid,
      date: m.internalDate,
      size: m.size,
      subject: h?.subject ?? '',
      from: h?.from ?? '',
      messageId: h?.messageId ?? null,
      refs: h?.inReplyTo && !refs.includes(h.inReplyTo) ? [...refs, h.inReplyTo] : refs,
    };
  });
  const parent = items.map((_, i) => i);
  const owner = new Map<string, number>();
  const union = (a: number, b: number): void => {
    const ra = find(parent, a);
    const rb = find(parent, b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  items.forEach((it, i) => {
    for (const id of it.messageId ? [it.messageId, ...it.refs] : it.refs) {
      const key = id.toLowerCase();
      const o = owner.get(key);
      if (o === undefined) owner.set(key, i);
      else union(o, i);
    }
  });
  const groups = new Map<number, Item[]>();
  items.forEach((it, i) => {
    const r = find(parent, i);
    const g = groups.get(r);
    if (g) g.push(it);
    else groups.set(r, [it]);
  });

  const threads = [...groups.values()].map((g) => g.sort((a, b) => a.date - b.date || a.uid - b.uid));
  const newest = (g: Item[]): Item => g[g.length - 1] as Item;
  const keyOf = (g: Item[]): number | string => {
    switch (sort) {
      case 'date':
        return newest(g).date;
      case 'size':
        return (g[0] as Item).size;
      case 'from':
        return (g[0] as Item).from;
      case 'subject':
        return (g[0] as Item).subject;
    }
  };
  const keyed = threads.map((g) => ({ g, key: keyOf(g), tie: newest(g).uid }));
  keyed.sort((a, b) => {
    const c = a.key < b.key ? -1 : a.key > b.key ? 1 : a.tie - b.tie;
    return descending ? -c : c;
  });

  const rows: ThreadRow[] = [];
  for (const { g } of keyed) {
    const byId = new Map<string, { depth: number }>();
    const root = (g[0] as Item).uid;
    const rootId = (g[0] as Item).messageId;
    for (const it of g) {
      // The closest message it names that is in the folder (and listed before it) is its parent.
      let depth = 0;
      for (let i = it.refs.length - 1; i >= 0; i--) {
        const p = byId.get((it.refs[i] as string).toLowerCase());
        if (p) {
          depth = Math.min(MAX_DEPTH, p.depth + 1);
          break;
        }
      }
      if (depth === 0 && it.uid !== root) depth = 1;
      if (it.messageId) byId.set(it.messageId.toLowerCase(), { depth });
      rows.push({ uid: it.uid, depth, thread: root, threadMessageId: rootId });
    }
  }
  return { rows, threads: keyed.length };
}
