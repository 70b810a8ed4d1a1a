// Just enough XML for client auto-configuration: escaping for the documents we write,
// and a strict, bounded parser for the small request Outlook POSTs to Autodiscover.
//
// Rules:
// - No DTD: a DOCTYPE is refused, so no entity expansion (billion laughs) and no
//   external entities (XXE) can happen. Only the five predefined entities and
//   character references are understood (XML 1.0 4.6, 4.1).
// - Well-formedness is checked (one root, matching tags, unique attributes, bound
//   prefixes); the depth and the number of elements are limited.
// - Names are resolved to { namespace, local name } (Namespaces in XML 1.0).

export class XmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlError';
  }
}

export interface XmlElement {
  /** The namespace URI; '' when none. */
  ns: string;
  local: string;
  attributes: Map<string, string>;
  children: XmlElement[];
  /** The element's own character data, concatenated. */
  text: string;
}

export interface XmlLimits {
  maxDepth: number;
  maxElements: number;
}

const DEFAULT_LIMITS: XmlLimits = { maxDepth: 32, maxElements: 1000 };

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

const NAME = /^[A-Za-z_][A-Za-z0-9._-]*(?::[A-Za-z_][A-Za-z0-9._-]*)?/;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(raw: string, where: number): string {
  if (raw.includes('<')) throw new XmlError(`"<" not allowed here (offset ${where})`);
  return raw.replace(/&([^;]{0,10});?/g, (match, ref: string) => {
    if (!match.endsWith(';')) throw new XmlError(`unterminated entity reference (offset ${where})`);
    const named = PREDEFINED[ref];
    if (named !== undefined) return named;
    const num = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(ref);
    const code = num ? (num[1] !== undefined ? parseInt(num[1], 16) : Number(num[2])) : NaN;
    if (!(code >= 0x20 || code === 0x9 || code === 0xa || code === 0xd) || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      throw new XmlError(`unknown entity &${ref}; (offset ${where})`);
    }
    return String.fromCodePoint(code);
  });
}

interface Open {
  element: XmlElement;
  qname: string;
  scope: Map<string, string>;
}

/** Parses a whole document into its root element, or throws XmlError saying what is wrong. */
export function parseXml(input: string, limits: XmlLimits = DEFAULT_LIMITS): XmlElement {
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  let i = 0;
  let root: XmlElement | undefined;
  let elements = 0;
  const stack: Open[] = [];
  const expect = (s: string, what: string): number => {
    const end = text.indexOf(s, i);
    if (end < 0) throw new XmlError(`unterminated ${what} (offset ${i})`);
    return end;
  };
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chars = lt < 0 ? text.slice(i) : text.slice(i, lt);
    if (chars !== '') {
      const top = stack.at(-1);
      if (top) top.element.text += decodeEntities(chars, i);
      else if (chars.trim() !== '') throw new XmlError(`text outside the root element (offset ${i})`);
    }
    if (lt < 0) break;
    i = lt;
    if (text.startsWith('<!--', i)) {
      i = expect('-->', 'comment') + 3;
    } else if (text.startsWith('<![CDATA[', i)) {
      const top = stack.at(-1);
      if (!top) throw new XmlError(`CDATA outside the root element (offset ${i})`);
      const end = expect(']]>', 'CDATA section');
      top.element.text += text.slice(i + 9, end);
      i = end + 3;
    } else if (text.startsWith('<!', i)) {
      throw new XmlError('a DOCTYPE or other declaration is not accepted');
    } else if (text.startsWith('<?', i)) {
      i = expect('?>', 'processing instruction') + 2;
    } else if (text.startsWith('</', i)) {
      const end = expect('>', 'end tag');
      const qname = text.slice(i + 2, end).trim();
      const open = stack.pop();
      if (!open || open.qname !== qname) throw new XmlError(`end tag </${qname}> does not match ${open ? `<${open.qname}>` : 'any open element'} (offset ${i})`);
      i = end + 1;
    } else {
      if (stack.length === 0 && root) throw new XmlError(`more than one root element (offset ${i})`);
      if (stack.length >= limits.maxDepth) throw new XmlError(`elements nested deeper than ${limits.maxDepth}`);
      if (++elements > limits.maxElements) throw new XmlError(`more than ${limits.maxElements} elements`);
      const parent = stack.at(-1);
      const tag = startTag(text, i + 1, parent?.scope ?? new Map<string, string>());
      if (parent) parent.element.children.push(tag.element);
      else root = tag.element;
      if (!tag.selfClosing) stack.push({ element: tag.element, qname: tag.qname, scope: tag.scope });
      i = tag.end;
    }
  }
  if (stack.length > 0) throw new XmlError(`element <${stack.at(-1)?.qname}> is not closed`);
  if (!root) throw new XmlError('no root element');
  return root;
}

/** Reads `<name attr="v" …>` or `<name …/>` from just after "<"; returns the offset after ">". */
function startTag(text: string, from: number, parentScope: Map<string, string>): { element: XmlElement; qname: string; scope: Map<string, string>; selfClosing: boolean; end: number } {
  const name = NAME.exec(text.slice(from, from + 200));
  if (!name) throw new XmlError(`expected an element name (offset ${from})`);
  const qname = name[0];
  let i = from + qname.length;
  const raw = new Map<string, string>();
  for (;;) {
    const ws = /^\s*/.exec(text.slice(i, i + 1000))?.[0].length ?? 0;
    i += ws;
    if (text.startsWith('/>', i) || text.startsWith('>', i)) break;
    if (ws === 0) throw new XmlError(`expected white space, ">" or "/>" in <${qname}> (offset ${i})`);
    const attr = /^([A-Za-z_][A-Za-z0-9._:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(text.slice(i, i + 64 * 1024));
    if (!attr) throw new XmlError(`malformed attribute in <${qname}> (offset ${i})`);
    const key = attr[1]!;
    if (raw.has(key)) throw new XmlError(`attribute ${key} repeated in <${qname}>`);
    raw.set(key, decodeEntities(attr[2] ?? attr[3] ?? '', i));
    i += attr[0].length;
  }
  const selfClosing = text.startsWith('/>', i);
  i += selfClosing ? 2 : 1;
  const scope = new Map(parentScope);
  const attributes = new Map<string, string>();
  for (const [key, value] of raw) {
    if (key === 'xmlns') scope.set('', value);
    else if (key.startsWith('xmlns:')) scope.set(key.slice(6), value);
  }
  for (const [key, value] of raw) {
    if (key === 'xmlns' || key.startsWith('xmlns:')) continue;
    const colon = key.indexOf(':');
    if (colon >= 0 && key.slice(0, colon) !== 'xml' && !scope.has(key.slice(0, colon))) throw new XmlError(`unbound prefix in attribute ${key}`);
    attributes.set(colon >= 0 ? key.slice(colon + 1) : key, value);
  }
  const colon = qname.indexOf(':');
  const prefix = colon >= 0 ? qname.slice(0, colon) : '';
  const ns = scope.get(prefix);
  if (prefix !== '' && ns === undefined) throw new XmlError(`unbound prefix ${prefix}: in <${qname}>`);
  const element: XmlElement = { ns: ns ?? '', local: colon >= 0 ? qname.slice(colon + 1) : qname, attributes, children: [], text: '' };
  return { element, qname, scope, selfClosing, end: i };
}

/** The first child with this namespace and local name. */
export function child(element: XmlElement, ns: string, local: string): XmlElement | undefined {
  return element.children.find((c) => c.ns === ns && c.local === local);
}
