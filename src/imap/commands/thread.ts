// RFC 5256 THREAD=ORDEREDSUBJECT and THREAD=REFERENCES, from the threading
// headers and base subject the MIME index keeps (no blob reads).
import { no } from '../errors.js';
import type { Cmd, CommandContext, Reply } from '../handler.js';
import { untagged } from '../respond.js';
import { runSearch, type SearchHit } from './search.js';

interface Node {
  hit: SearchHit | null;
  children: Node[];
  parent: Node | null;
}

function sentDate(h: SearchHit): number {
  // RFC 5256 2.2: the sent date; a missing Date header falls back to the internal date.
  return h.target.index?.decoded.date ?? h.meta.internalDate.getTime();
}

function subjectOf(h: SearchHit): string {
  return h.target.index?.sort.subject ?? '';
}

/** The date a node sorts by: its message's, or for a dummy its first child's (RFC 5256 REFERENCES 4). */
function nodeDate(n: Node): number {
  if (n.hit) return sentDate(n.hit);
  const first = n.children[0];
  return first ? nodeDate(first) : 0;
}

function nodeOrder(a: Node, b: Node): number {
  const d = nodeDate(a) - nodeDate(b);
  if (d !== 0) return d;
  return (a.hit?.msn ?? firstMsn(a)) - (b.hit?.msn ?? firstMsn(b));
}

function firstMsn(n: Node): number {
  return n.hit?.msn ?? (n.children[0] ? firstMsn(n.children[0]) : 0);
}

function orderedSubject(hits: SearchHit[]): Node[] {
  const sorted = [...hits].sort((a, b) => (subjectOf(a) < subjectOf(b) ? -1 : subjectOf(a) > subjectOf(b) ? 1 : sentDate(a) - sentDate(b) || a.msn - b.msn));
  const roots: Node[] = [];
  let current: Node | null = null;
  for (const h of sorted) {
    const n: Node = { hit: h, children: [], parent: null };
    if (current && current.hit && subjectOf(current.hit) === subjectOf(h)) {
      n.parent = current;
      current.children.push(n);
    } else {
      roots.push(n);
      current = n;
    }
  }
  return roots.sort(nodeOrder);
}

function isAncestor(maybe: Node, of: Node): boolean {
  for (let p: Node | null = of; p; p = p.parent) if (p === maybe) return true;
  return false;
}

function link(parent: Node, child: Node): void {
  if (child.parent || parent === child || isAncestor(child, parent)) return;
  child.parent = parent;
  parent.children.push(child);
}

function references(hits: SearchHit[]): Node[] {
  const byId = new Map<string, Node>();
  const container = (id: string): Node => {
    let n = byId.get(id);
    if (!n) byId.set(id, (n = { hit: null, children: [], parent: null }));
    return n;
  };
  const all: Node[] = [];
  for (const h of hits) {
    const d = h.target.index?.decoded;
    // RFC 5256 REFERENCES 1A: a duplicate or missing Message-ID gets a unique one.
    let id = d?.messageId ?? null;
    if (id === null || byId.get(id)?.hit) id = `\u0000${h.meta.uid}`;
    const node = container(id);
    node.hit = h;
    all.push(node);
    const refs = d?.references.length ? d.references : d?.inReplyTo ? [d.inReplyTo] : [];
    // 1B: link the references chain; 1C: the message's parent is the last reference.
    for (let i = 0; i + 1 < refs.length; i++) link(container(refs[i] as string), container(refs[i + 1] as string));
    const last = refs[refs.length - 1];
    if (last !== undefined && last !== id) {
      const parent = container(last);
      if (node.parent && node.parent !== parent) node.parent.children = node.parent.children.filter((c) => c !== node);
      if (node.parent !== parent) {
        node.parent = null;
        link(parent, node);
      }
    }
  }
  // 2: the root set; 3: prune dummies.
  const roots = prune([...byId.values()].filter((n) => n.parent === null), true);
  // 5: gather roots with the same base subject.
  const table = new Map<string, Node>();
  const subj = (n: Node): string => (n.hit ? subjectOf(n.hit) : n.children[0]?.hit ? subjectOf(n.children[0].hit) : '');
  const reply = (n: Node): boolean => n.hit?.target.index?.sort.subjectIsReplyOrForward ?? false;
  for (const r of roots) {
    const s = subj(r);
    if (s === '') continue;
    const old = table.get(s);
    if (!old || (old.hit && !r.hit) || (reply(old) && !reply(r))) table.set(s, r);
  }
  const out: Node[] = [];
  for (const r of roots) {
    const s = subj(r);
    const keep = s === '' ? r : table.get(s);
    if (!keep || keep === r) {
      out.push(r);
      continue;
    }
    if (!keep.hit && !r.hit) {
      for (const c of r.children) {
        c.parent = keep;
        keep.children.push(c);
      }
    } else if (!keep.hit || (!reply(keep) && reply(r))) {
      r.parent = keep;
      keep.children.push(r);
    } else {
      // Neither fits under the other: both go under a new dummy, which takes keep's place.
      const copy: Node = { hit: keep.hit, children: keep.children, parent: keep };
      for (const c of copy.children) c.parent = copy;
      keep.hit = null;
      keep.children = [copy, r];
      r.parent = keep;
    }
  }
  sortTree(out);
  return out.sort(nodeOrder);
}

/** RFC 5256 REFERENCES 3: drop empty dummies, promote the children of the others. */
function prune(nodes: Node[], root: boolean): Node[] {
  const out: Node[] = [];
  for (const n of nodes) {
    n.children = prune(n.children, false);
    if (n.hit) {
      out.push(n);
    } else if (n.children.length === 0) {
      continue;
    } else if (!root || n.children.length === 1) {
      for (const c of n.children) c.parent = n.parent;
      out.push(...n.children);
    } else {
      out.push(n);
    }
  }
  return out;
}

function sortTree(nodes: Node[]): void {
  for (const n of nodes) {
    sortTree(n.children);
    n.children.sort(nodeOrder);
  }
}

/** thread-members / thread-nested (RFC 5256 5). */
function render(node: Node, id: (h: SearchHit) => number): string {
  const parts: string[] = [];
  let cur = node;
  while (true) {
    if (cur.hit) parts.push(String(id(cur.hit)));
    if (cur.children.length === 1 && cur.hit) {
      cur = cur.children[0] as Node;
      continue;
    }
    if (cur.children.length > 0) parts.push(cur.children.map((c) => `(${render(c, id)})`).join(''));
    return parts.join(' ');
  }
}

export async function* thread(cmd: Cmd<'THREAD'>, ctx: CommandContext): Reply {
  const algorithm = cmd.algorithm.toUpperCase();
  if (algorithm !== 'ORDEREDSUBJECT' && algorithm !== 'REFERENCES') throw no(`Unsupported threading algorithm ${cmd.algorithm}`, 'CANNOT');
  const hits = await runSearch(ctx, cmd.criteria, { index: true });
  const roots = algorithm === 'ORDEREDSUBJECT' ? orderedSubject(hits) : references(hits);
  const id = (h: SearchHit): number => (cmd.uid ? h.meta.uid : h.msn);
  yield untagged(`THREAD${roots.length > 0 ? ' ' : ''}${roots.map((r) => `(${render(r, id)})`).join('')}`);
  return undefined;
}
