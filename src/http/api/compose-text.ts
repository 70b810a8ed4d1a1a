// The text/plain alternative of a rich-text message, from its sanitised HTML: paragraphs
// and line breaks kept, list items as "- " or "1. ", quotes as "> ", links as
// "text <url>". Pure; the input is the sanitiser's output (balanced, no scripts).

import { decodeEntities } from '../../mime/html.js';

const BLOCK = new Set(['p', 'div', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'pre', 'table', 'tr', 'ul', 'ol', 'hr', 'section', 'article', 'header', 'footer', 'dl', 'dt', 'dd', 'center']);
const SKIP = new Set(['style', 'script', 'head', 'title']);

export function composeText(html: string): string {
  const lines: string[] = [];
  let line = '';
  let lineDepth = 0;
  let depth = 0;
  let pre = 0;
  let skip = 0;
  const lists: Array<{ ordered: boolean; n: number }> = [];
  const links: Array<{ href: string; start: number }> = [];

  const flush = (force: boolean): void => {
    const body = pre > 0 ? line : line.trim();
    if (body !== '' || force) lines.push('> '.repeat(lineDepth).trimEnd() + (lineDepth > 0 && body !== '' ? ' ' : '') + body);
    line = '';
    lineDepth = depth;
  };
  const paragraph = (): void => {
    if (line.trim() !== '') flush(false);
    lineDepth = depth;
    if (lines.length > 0 && lines[lines.length - 1] !== '' && !/^>+$/.test(lines[lines.length - 1] ?? '')) lines.push('> '.repeat(depth).trimEnd());
  };
  const text = (t: string): void => {
    if (line === '') lineDepth = depth;
    line += t;
  };

  const TOKEN = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:[^>"']|"[^"]*"|'[^']*')*)>|<!--[\s\S]*?-->|([^<]+)|</g;
  for (const m of html.matchAll(TOKEN)) {
    const [, closing, rawName, attrs, chunk] = m;
    if (chunk !== undefined) {
      if (skip > 0) continue;
      const decoded = decodeEntities(chunk);
      if (pre > 0) {
        const parts = decoded.split('\n');
        parts.forEach((p, i) => {
          if (i > 0) flush(true);
          text(p);
        });
      } else text(decoded.replace(/[ \t\r\n\f\u00a0]+/g, ' ').replace(/^ /, line === '' || line.endsWith(' ') ? '' : ' '));
      continue;
    }
    if (rawName === undefined) continue;
    const name = rawName.toLowerCase();
    if (SKIP.has(name)) {
      skip += closing ? -1 : 1;
      skip = Math.max(0, skip);
      continue;
    }
    if (skip > 0) continue;
    if (name === 'br') flush(true);
    else if (name === 'blockquote') {
      paragraph();
      depth += closing ? -1 : 1;
      depth = Math.max(0, depth);
      lineDepth = depth;
    } else if (name === 'li') {
      if (closing) continue;
      if (line.trim() !== '') flush(false);
      const list = lists[lists.length - 1];
      const indent = '  '.repeat(Math.max(0, lists.length - 1));
      if (list) list.n++;
      text(indent + (list?.ordered ? `${list.n}. ` : '- '));
    } else if (name === 'ul' || name === 'ol') {
      if (closing) lists.pop();
      else lists.push({ ordered: name === 'ol', n: 0 });
      paragraph();
    } else if (name === 'a') {
      if (!closing) {
        const href = /\bhref\s*=\s*("([^"]*)"|'([^']*)')/i.exec(attrs ?? '');
        links.push({ href: decodeEntities(href?.[2] ?? href?.[3] ?? ''), start: line.length });
      } else {
        const link = links.pop();
        if (link && /^(https?|mailto):/i.test(link.href)) {
          const label = line.slice(link.start).trim();
          const target = link.href.replace(/^mailto:/i, '');
          if (label !== target) text(` <${link.href}>`);
        }
      }
    } else if (name === 'pre') {
      paragraph();
      pre += closing ? -1 : 1;
      pre = Math.max(0, pre);
    } else if (BLOCK.has(name)) paragraph();
  }
  flush(false);
  // A run of separator lines (empty or only ">") becomes its shallowest one.
  const out: string[] = [];
  for (const l of lines.map((x) => x.replace(/[ \t]+$/, ''))) {
    const prev = out[out.length - 1];
    const separator = /^[> ]*$/.test(l);
    if (separator && prev !== undefined && /^[> ]*$/.test(prev) && prev !== '' && l.length <= prev.length) out[out.length - 1] = l;
    else if (separator && prev !== undefined && /^[> ]*$/.test(prev) && prev !== '') continue;
    else out.push(l);
  }
  while (out.length > 0 && /^[> ]*$/.test(out[out.length - 1] ?? '')) out.pop();
  while (out.length > 0 && out[0] === '') out.shift();
  return out.join('\n') + '\n';
}
