// The HTML sanitiser for message bodies. Strict allowlist: what is not listed here is
// dropped (its text kept, except for script/style-like elements). The result is shown
// in a sandboxed iframe under a CSP that forbids scripts and remote loads as well, so
// a gap here is not enough for an attack; this is the first of two locks.
//
// - No scripts, event handlers, forms, frames, objects, SVG, MathML, <meta>, <base>, <link>.
// - URLs: links http/https/mailto only; images https/http (replaced by a placeholder
//   unless remote images are allowed), cid: (rewritten to the message's own part),
//   data: raster images.
// - CSS: inline styles keep only listed properties whose values have no url(),
//   expression(), image-set(), escapes or at-rules; <style> blocks are kept with any
//   declaration or rule carrying those removed. No external fonts or stylesheets.

import sanitizeHtml from 'sanitize-html';

export interface SanitizeOptions {
  allowRemoteImages: boolean;
  /** The URL serving `cid:<id>` from this message, or null when the message has no such part. */
  cidUrl: (contentId: string) => string | null;
}

export interface Sanitized {
  html: string;
  blockedRemoteImages: number;
}

/** A transparent 1×1 GIF shown instead of a blocked remote image. */
export const BLOCKED_IMAGE = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';

const TAGS = [
  'a', 'abbr', 'address', 'b', 'bdi', 'bdo', 'big', 'blockquote', 'br', 'caption', 'center', 'cite', 'code', 'col',
  'colgroup', 'dd', 'del', 'details', 'dfn', 'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'font', 'h1', 'h2', 'h3',
  'h4', 'h5', 'h6', 'hr', 'i', 'img', 'ins', 'kbd', 'li', 'mark', 'ol', 'p', 'pre', 'q', 's', 'samp', 'small', 'span',
  'strike', 'strong', 'sub', 'summary', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'tt', 'u', 'ul', 'var', 'wbr',
];

const COMMON_ATTRS = ['align', 'valign', 'dir', 'lang', 'title', 'width', 'height', 'bgcolor', 'border', 'style', 'colspan', 'rowspan', 'cellpadding', 'cellspacing', 'nowrap'];

/**
 * A CSS value without anything that loads, computes or hides a load: no url(),
 * image-set(), expression(), attr()/var()/env(), no backslash escapes (they can spell
 * any of those), no quotes-breaking characters, no at-rules.
 */
const SAFE_CSS_VALUE = /^(?!.*(?:url|image-set|image|expression|attr|var|env|element|paint|src)\s*\()(?!.*(?:javascript|vbscript|behavior|binding|@))[^\\<>"'`;{}]*$/i;

const STYLE_PROPS = [
  'background-color', 'border', 'border-bottom', 'border-bottom-color', 'border-bottom-style', 'border-bottom-width',
  'border-collapse', 'border-color', 'border-left', 'border-left-color', 'border-left-style', 'border-left-width',
  'border-radius', 'border-right', 'border-right-color', 'border-right-style', 'border-right-width', 'border-spacing',
  'border-style', 'border-top', 'border-top-color', 'border-top-style', 'border-top-width', 'border-width', 'color',
  'direction', 'display', 'float', 'font', 'font-family', 'font-size', 'font-style', 'font-variant', 'font-weight',
  'height', 'letter-spacing', 'line-height', 'list-style-type', 'margin', 'margin-bottom', 'margin-left',
  'margin-right', 'margin-top', 'max-height', 'max-width', 'min-height', 'min-width', 'overflow', 'padding',
  'padding-bottom', 'padding-left', 'padding-right', 'padding-top', 'table-layout', 'text-align', 'text-decoration',
  'text-indent', 'text-transform', 'vertical-align', 'white-space', 'width', 'word-break', 'word-spacing', 'word-wrap',
];

const ALLOWED_STYLES = { '*': Object.fromEntries(STYLE_PROPS.map((p) => [p, [SAFE_CSS_VALUE]])) };

const RASTER_DATA = /^data:image\/(?:png|gif|jpe?g|webp|bmp);base64,[A-Za-z0-9+/=\s]*$/i;

/** Removes from a style sheet every rule or declaration that could load or run something. */
export function sanitizeCss(css: string): string {
  let out = css.replace(/\/\*[\s\S]*?(?:\*\/|$)/g, ' ');
  // Escapes can spell anything; drop them and whatever they were part of.
  out = out.replace(/[^;{}]*\\[^;{}]*/g, '');
  // At-rules (@import, @font-face, @charset, @namespace, …) except @media, whose blocks are cleaned like the rest.
  out = out.replace(/@(?!media\b)[a-z-]+[^;{}]*(?:;|\{[^{}]*\})/gi, '');
  out = out.replace(/[^;{}]*(?:url|image-set|image|expression|attr|var|env|element|paint|src)\s*\([^;{}]*/gi, '');
  out = out.replace(/[^;{}]*(?:javascript|vbscript|behavior|binding|@import)[^;{}]*/gi, '');
  // Nothing that could end the <style> element or start markup.
  return out.replace(/[<>]/g, '');
}

function extractStyleBlocks(html: string): { html: string; css: string[] } {
  const css: string[] = [];
  const rest = html.replace(/<style\b[^>]*>([\s\S]*?)(?:<\/style\s*>|$)/gi, (_m, body: string) => {
    css.push(body);
    return '';
  });
  return { html: rest, css };
}

export function sanitizeEmailHtml(input: string, options: SanitizeOptions): Sanitized {
  let blocked = 0;
  const { html, css } = extractStyleBlocks(input);
  const body = sanitizeHtml(html, {
    allowedTags: TAGS,
    disallowedTagsMode: 'discard',
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'title', 'head', 'template', 'iframe', 'object', 'svg', 'math', 'xmp', 'noembed', 'noframes', 'select'],
    allowedAttributes: {
      '*': COMMON_ATTRS,
      a: [...COMMON_ATTRS, 'href', 'name', 'target', 'rel'],
      img: [...COMMON_ATTRS, 'src', 'alt', 'hspace', 'vspace', 'data-blocked'],
      font: [...COMMON_ATTRS, 'color', 'face', 'size'],
      ol: [...COMMON_ATTRS, 'start', 'type'],
      ul: [...COMMON_ATTRS, 'type'],
      td: [...COMMON_ATTRS, 'headers', 'scope'],
      th: [...COMMON_ATTRS, 'headers', 'scope'],
      col: [...COMMON_ATTRS, 'span'],
      colgroup: [...COMMON_ATTRS, 'span'],
      details: [...COMMON_ATTRS, 'open'],
    },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https', 'data'] },
    allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
    allowProtocolRelative: false,
    allowedStyles: ALLOWED_STYLES,
    parseStyleAttributes: true,
    enforceHtmlBoundary: false,
    transformTags: {
      a: (tagName, attribs) => {
        const out: Record<string, string> = { ...attribs, target: '_blank', rel: 'noopener noreferrer nofollow' };
        // Only absolute http(s)/mailto links and in-page anchors: a relative link would
        // resolve against this server and open one of its pages outside the sandbox.
        // eslint-disable-next-line no-control-regex
        const href = (attribs['href'] ?? '').replace(/[\x00-\x20]/g, '');
        if (!/^(?:https?:\/\/|mailto:|#)/i.test(href)) delete out['href'];
        return { tagName, attribs: out };
      },
      img: (tagName, attribs) => {
        const out: Record<string, string> = { ...attribs };
        delete out['data-blocked'];
        const src = (attribs['src'] ?? '').trim();
        if (/^cid:/i.test(src)) {
          let id = src.slice(4);
          try {
            id = decodeURIComponent(id);
          } catch {
            // A malformed escape: use the text as it is.
          }
          const url = options.cidUrl(id.replace(/^<|>$/g, ''));
          if (url === null) delete out['src'];
          else out['src'] = url;
        } else if (/^https?:/i.test(src) || src.startsWith('//')) {
          if (!options.allowRemoteImages || src.startsWith('//')) {
            blocked++;
            out['src'] = BLOCKED_IMAGE;
            out['data-blocked'] = 'remote';
          }
        } else if (RASTER_DATA.test(src)) {
          out['src'] = src;
        } else {
          delete out['src'];
        }
        return { tagName, attribs: out };
      },
    },
  });
  const sheet = css.map(sanitizeCss).join('\n').trim();
  return { html: sheet === '' ? body : `<style>${sheet}</style>${body}`, blockedRemoteImages: blocked };
}

/** Plain text as HTML (for the iframe): escaped, with line breaks and http(s) links. */
export function textToHtml(text: string): string {
  const escaped = text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const linked = escaped.replace(/\bhttps?:\/\/[^\s<>&"']{1,2000}/g, (url) => `<a href="${url}" target="_blank" rel="noopener noreferrer nofollow">${url}</a>`);
  return `<pre style="white-space: pre-wrap; word-wrap: break-word; font-family: inherit">${linked}</pre>`;
}
