// What a reply, reply-all or forward starts with.
import type { MessageDetail, WebmailAddress } from '../../src/http/api/types.js';
import { escapeHtml, textAsHtml, type ComposeInit } from './Compose.js';
import { formatFullDate } from './api.js';

function format(a: WebmailAddress): string {
  return a.name ? `"${a.name.replace(/"/g, '')}" <${a.address}>` : a.address;
}

function list(addresses: WebmailAddress[]): string {
  return addresses.map(format).join(', ');
}

function signatureBlock(signature: string): string {
  return signature.trim() ? `\n\n-- \n${signature.trim()}` : '';
}

function signatureHtml(signature: string): string {
  return signature.trim() ? `<div><br></div><div>-- </div>${textAsHtml(signature.trim())}` : '';
}

/** The original for a rich reply or forward: its sanitised HTML, or its text, in a quote. */
function quotedHtml(detail: MessageDetail): string {
  return `<blockquote type="cite">${detail.html ?? textAsHtml(detail.text ?? '')}</blockquote>`;
}

export function newMessage(signature: string): ComposeInit {
  return { to: '', cc: '', bcc: '', subject: '', text: signatureBlock(signature) };
}

function prefixed(prefix: 'Re' | 'Fwd', subject: string): string {
  const re = prefix === 'Re' ? /^\s*re\s*:/i : /^\s*(fwd?|fw)\s*:/i;
  return re.test(subject) ? subject : `${prefix}: ${subject}`;
}

function quote(text: string): string {
  return text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => (line.startsWith('>') ? `>${line}` : `> ${line}`))
    .join('\n');
}

export function replyTo(detail: MessageDetail, all: boolean, self: string, signature: string): ComposeInit {
  const h = detail.headers;
  const me = self.toLowerCase();
  const primary = h.replyTo.length > 0 ? h.replyTo : h.from;
  const seen = new Set<string>([me]);
  const pick = (addresses: WebmailAddress[]) =>
    addresses.filter((a) => {
      const key = a.address.toLowerCase();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  // Replying to one's own message goes to its recipients.
  const fromSelf = primary.every((a) => a.address.toLowerCase() === me);
  const to = pick(fromSelf ? h.to : primary);
  const cc = all ? pick([...(fromSelf ? [] : h.to), ...h.cc]) : [];
  const who = h.from[0] ? (h.from[0].name || h.from[0].address) : 'someone';
  const body = detail.text ?? '';
  return {
    to: list(to),
    cc: list(cc),
    bcc: '',
    subject: prefixed('Re', h.subject),
    text: `\n${signatureBlock(signature)}\n\nOn ${formatFullDate(h.date ?? detail.summary.receivedAt)}, ${who} wrote:\n${quote(body)}\n`,
    html: `<div><br></div>${signatureHtml(signature)}<div><br></div><div>${escapeHtml(`On ${formatFullDate(h.date ?? detail.summary.receivedAt)}, ${who} wrote:`)}</div>${quotedHtml(detail)}`,
    ...(h.messageId ? { inReplyTo: h.messageId, references: [...h.references, h.messageId] } : {}),
    replyTo: { messageId: detail.summary.id, kind: 'reply' },
  };
}

export function forward(detail: MessageDetail, signature: string): ComposeInit {
  const h = detail.headers;
  const lines = [
    '---------- Forwarded message ----------',
    `From: ${list(h.from)}`,
    `Date: ${formatFullDate(h.date ?? detail.summary.receivedAt)}`,
    `Subject: ${h.subject}`,
    `To: ${list(h.to)}`,
    ...(h.cc.length > 0 ? [`Cc: ${list(h.cc)}`] : []),
    '',
    detail.text ?? '',
  ];
  return {
    to: '',
    cc: '',
    bcc: '',
    subject: prefixed('Fwd', h.subject),
    text: `\n${signatureBlock(signature)}\n\n${lines.join('\n')}\n`,
    html: `<div><br></div>${signatureHtml(signature)}<div><br></div>${textAsHtml(lines.slice(0, -2).join('\n'))}${quotedHtml(detail)}`,
    ...(h.messageId ? { references: [...h.references, h.messageId] } : {}),
    replyTo: { messageId: detail.summary.id, kind: 'forward' },
    forwardId: detail.summary.id,
  };
}

export function fromDraft(detail: MessageDetail): ComposeInit {
  const h = detail.headers;
  return {
    to: list(h.to),
    cc: list(h.cc),
    bcc: list(h.bcc),
    subject: h.subject,
    text: detail.text ?? '',
    // A draft saved in rich-text mode has an HTML part: it reopens as rich text.
    ...(detail.html !== null ? { html: detail.html, rich: true } : {}),
    ...(h.inReplyTo ? { inReplyTo: h.inReplyTo } : {}),
    ...(h.references.length > 0 ? { references: h.references } : {}),
    draftId: detail.summary.id,
  };
}
