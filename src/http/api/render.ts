// A stored message as the webmail shows it: summary, headers, sanitised HTML, text,
// attachments. Reads the cached MIME index (re-indexing only an index of another
// version) and the blob; never throws for a message's content: anything that cannot
// be shown normally becomes its raw text with a notice.

import { TextDecoder } from 'node:util';
import { decodeCharset, decodeMimeWords, decodeTransferEncoding, attachmentFilename, indexMessage, readMessageIndex, type DecodedAddress, type MessageIndex, type MimePart } from '../../mime/index.js';
import { htmlToText } from '../../mime/html.js';
import type { MessageMeta, SystemFlag } from '../../store/types.js';
import { folderIdOf, messageIdOf } from './common.js';
import { sanitizeEmailHtml, textToHtml } from './sanitize.js';
import type { AttachmentInfo, MessageDetail, MessageFlag, MessageHeaders, MessageSummary, WebmailAddress } from './types.js';

const FLAG_NAMES: Partial<Record<SystemFlag, MessageFlag>> = {
  '\\Seen': 'seen',
  '\\Answered': 'answered',
  '\\Flagged': 'flagged',
  '\\Draft': 'draft',
};

export const FLAG_OF: Record<MessageFlag, SystemFlag> = { seen: '\\Seen', answered: '\\Answered', flagged: '\\Flagged', draft: '\\Draft' };

function addresses(list: DecodedAddress[] | undefined): WebmailAddress[] {
  return (list ?? []).map((a) => ({ name: a.name, address: a.address }));
}

export function threadKey(index: MessageIndex | null, fallback: string): string {
  const d = index?.decoded;
  return d?.references[0] ?? d?.inReplyTo ?? d?.messageId ?? `<${fallback}>`;
}

export function summarize(meta: MessageMeta, index: MessageIndex | null = readMessageIndex(meta.structure)): MessageSummary {
  const d = index?.decoded;
  const id = messageIdOf(meta.mailboxId, meta.uid);
  return {
    id,
    folderId: folderIdOf(meta.mailboxId),
    uid: meta.uid,
    from: addresses(d?.from),
    to: addresses(d?.to),
    cc: addresses(d?.cc),
    subject: d?.subject ?? '',
    date: new Date(d?.date ?? meta.internalDate.getTime()).toISOString(),
    receivedAt: meta.internalDate.toISOString(),
    size: meta.size,
    flags: meta.flags.map((f) => FLAG_NAMES[f]).filter((f): f is MessageFlag => f !== undefined),
    keywords: meta.keywords,
    hasAttachments: index?.hasAttachments ?? false,
    preview: '',
    threadId: threadKey(index, id),
    threadDepth: 0,
    messageIdHeader: d?.messageId ?? null,
  };
}

// ── parts ──

/** IMAP-style part numbers (RFC 9051 6.4.5) of every leaf and embedded message. */
export function partPaths(root: MimePart): Array<{ id: string; part: MimePart }> {
  const out: Array<{ id: string; part: MimePart }> = [];
  const walk = (part: MimePart, path: number[]): void => {
    if (part.type === 'multipart') {
      part.children.forEach((c, i) => walk(c, [...path, i + 1]));
      return;
    }
    out.push({ id: path.length === 0 ? '1' : path.join('.'), part });
  };
  walk(root, []);
  return out;
}

export function findPart(root: MimePart, id: string): MimePart | null {
  return partPaths(root).find((p) => p.id === id)?.part ?? null;
}

function param(part: MimePart, name: string): string | null {
  return part.params.find((p) => p.name === name)?.value ?? null;
}

function isAttachmentLike(part: MimePart): boolean {
  if (part.disposition?.type === 'attachment') return true;
  return attachmentFilename(part) !== null && part.type !== 'text';
}

interface Bodies {
  html: MimePart[];
  text: MimePart[];
  /** Parts shown as the body, by identity. */
  used: Set<MimePart>;
}

/** Picks the parts that make up the readable body, as mail clients do. */
function chooseBodies(root: MimePart): Bodies {
  const html: MimePart[] = [];
  const text: MimePart[] = [];
  const used = new Set<MimePart>();
  const walk = (part: MimePart, depth: number): void => {
    if (depth > 60) return;
    if (part.type === 'multipart') {
      if (part.subtype === 'alternative') {
        const kids = part.children;
        const richest = [...kids].reverse().find((k) => (k.type === 'text' && k.subtype === 'html') || k.type === 'multipart');
        const plain = kids.find((k) => k.type === 'text' && k.subtype === 'plain');
        if (richest) walk(richest, depth + 1);
        if (plain) {
          text.push(plain);
          used.add(plain);
        }
        if (!richest && !plain && kids[0]) walk(kids[0], depth + 1);
        return;
      }
      if (part.subtype === 'related') {
        const start = param(part, 'start');
        const first = (start !== null ? part.children.find((c) => c.id === start) : undefined) ?? part.children[0];
        if (first) walk(first, depth + 1);
        return;
      }
      for (const c of part.children) walk(c, depth + 1);
      return;
    }
    if (part.type !== 'text' || isAttachmentLike(part) || part.disposition?.type === 'attachment') return;
    if (part.subtype === 'html') {
      html.push(part);
      used.add(part);
    } else if (part.subtype === 'plain' || part.subtype === 'enriched' || part.subtype === 'rfc822-headers') {
      text.push(part);
      used.add(part);
    }
  };
  walk(root, 0);
  return { html, text, used };
}

function decodedSize(part: MimePart): number {
  if (part.encoding === 'base64') return Math.floor((part.size * 3) / 4 * (76 / 78));
  return part.size;
}

const EXT: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'application/pdf': 'pdf', 'text/plain': 'txt', 'text/html': 'html', 'text/calendar': 'ics', 'message/rfc822': 'eml' };

export function filenameOf(part: MimePart, partId: string): string {
  const named = attachmentFilename(part);
  if (named !== null) return named;
  if (part.message !== null) {
    // eslint-disable-next-line no-control-regex
    const subject = readSubject(part).replace(/[\\/\x00-\x1f]/g, '_').trim().slice(0, 100);
    return `${subject || 'message'}.eml`;
  }
  const type = `${part.type}/${part.subtype}`;
  return `part-${partId}.${EXT[type] ?? 'bin'}`;
}

function readSubject(part: MimePart): string {
  const s = part.message?.envelope.subject;
  if (!s) return '';
  return decodeMimeWords(s);
}

/** Decoded text of one text part, at most `budget` characters; the boolean says it was cut. */
function partString(raw: Buffer, part: MimePart, budget: number): [string, boolean] {
  const slice = raw.subarray(part.bodyStart, part.bodyEnd);
  const decoded = decodeTransferEncoding(slice, part.encoding);
  const s = decodeCharset(decoded, param(part, 'charset'));
  return s.length > budget ? [s.slice(0, budget), true] : [s, false];
}

export interface RenderOptions {
  allowRemoteImages: boolean;
  maxDisplayBytes: number;
  /** The URL for a `cid:` reference; null means no such part. */
  cidUrl: (contentId: string) => string | null;
  attachmentUrl: (partId: string) => string;
  rawUrl: string;
  htmlUrl: string;
}

export function indexOf(meta: MessageMeta, raw: Buffer): MessageIndex {
  return readMessageIndex(meta.structure) ?? indexMessage(raw);
}

const lenient = new TextDecoder('utf-8');

/** The raw source as text for the fallback view, at most `max` characters. */
export function rawText(raw: Buffer, max: number): string {
  return lenient.decode(raw.subarray(0, max));
}

export function renderMessage(meta: MessageMeta, raw: Buffer, opts: RenderOptions): MessageDetail {
  let index: MessageIndex | null = null;
  try {
    index = indexOf(meta, raw);
    if (index.error !== null) throw new Error(index.error);
    return renderIndexed(meta, raw, index, opts);
  } catch {
    return fallback(meta, raw, index, opts, 'This message could not be displayed normally; its raw source is shown instead.');
  }
}

function headersOf(meta: MessageMeta, index: MessageIndex | null): MessageHeaders {
  const d = index?.decoded;
  return {
    from: addresses(d?.from),
    sender: addresses(d?.sender),
    replyTo: addresses(d?.replyTo),
    to: addresses(d?.to),
    cc: addresses(d?.cc),
    bcc: addresses(d?.bcc),
    subject: d?.subject ?? '',
    date: d?.date != null ? new Date(d.date).toISOString() : null,
    messageId: d?.messageId ?? null,
    inReplyTo: d?.inReplyTo ?? null,
    references: d?.references ?? [],
  };
}

function fallback(meta: MessageMeta, raw: Buffer, index: MessageIndex | null, opts: RenderOptions, notice: string): MessageDetail {
  let summary: MessageSummary;
  let headers: MessageHeaders;
  try {
    summary = summarize(meta, index);
    headers = headersOf(meta, index);
  } catch {
    summary = summarize(meta, null);
    headers = headersOf(meta, null);
  }
  const cut = raw.length > opts.maxDisplayBytes;
  return {
    summary,
    headers,
    html: null,
    htmlUrl: opts.htmlUrl,
    text: rawText(raw, opts.maxDisplayBytes),
    blockedRemoteImages: 0,
    attachments: [],
    notice: cut ? `${notice} Only the first ${opts.maxDisplayBytes} bytes are shown; download the original for the rest.` : notice,
    rawFallback: true,
    rawUrl: opts.rawUrl,
  };
}

function renderIndexed(meta: MessageMeta, raw: Buffer, index: MessageIndex, opts: RenderOptions): MessageDetail {
  const notices: string[] = [];
  if (index.limited) notices.push('This message is too deeply nested or has too many parts; some parts are shown as attachments.');
  const bodies = chooseBodies(index.root);
  const paths = partPaths(index.root);

  // Inline resources by Content-ID, for cid: references.
  const byCid = new Map<string, string>();
  for (const p of paths) if (p.part.id) byCid.set(p.part.id.replace(/^<|>$/g, ''), p.id);
  const referenced = new Set<string>();
  const cidUrl = (cid: string): string | null => {
    const partId = byCid.get(cid);
    if (partId === undefined) return null;
    referenced.add(partId);
    return opts.cidUrl(cid);
  };

  let budget = opts.maxDisplayBytes;
  let cut = false;
  let html: string | null = null;
  let blocked = 0;
  if (bodies.html.length > 0) {
    const pieces: string[] = [];
    for (const part of bodies.html) {
      const [s, c] = partString(raw, part, budget);
      budget -= s.length;
      cut ||= c;
      pieces.push(s);
    }
    const sanitized = sanitizeEmailHtml(pieces.join('\n<hr>\n'), { allowRemoteImages: opts.allowRemoteImages, cidUrl });
    html = sanitized.html;
    blocked = sanitized.blockedRemoteImages;
  }
  let text: string | null = null;
  budget = opts.maxDisplayBytes;
  if (bodies.text.length > 0) {
    const pieces: string[] = [];
    for (const part of bodies.text) {
      const [s, c] = partString(raw, part, budget);
      budget -= s.length;
      cut ||= c;
      pieces.push(s.replace(/\r\n/g, '\n'));
    }
    text = pieces.join('\n\n');
  } else if (html !== null) {
    text = htmlToText(html);
  }
  if (cut) notices.push(`This message is very long; only the first ${opts.maxDisplayBytes} bytes of its text are shown. Download the original for the rest.`);
  if (html === null && text === null && !index.hasAttachments && index.root.type !== 'multipart') {
    // Nothing readable (e.g. a bare application/octet-stream): show the source.
    return fallback(meta, raw, index, opts, 'This message has no readable text; its raw source is shown instead.');
  }

  const attachments: AttachmentInfo[] = [];
  for (const p of paths) {
    if (bodies.used.has(p.part)) continue;
    const contentType = `${p.part.type}/${p.part.subtype}`;
    attachments.push({
      partId: p.id,
      filename: filenameOf(p.part, p.id),
      contentType,
      size: decodedSize(p.part),
      contentId: p.part.id ? p.part.id.replace(/^<|>$/g, '') : null,
      inline: referenced.has(p.id),
      url: opts.attachmentUrl(p.id),
    });
  }

  return {
    summary: summarize(meta, index),
    headers: headersOf(meta, index),
    html,
    htmlUrl: opts.htmlUrl,
    text,
    blockedRemoteImages: blocked,
    attachments,
    notice: notices.length > 0 ? notices.join(' ') : null,
    rawFallback: false,
    rawUrl: opts.rawUrl,
  };
}

/** The complete document served to the sandboxed iframe. */
export function bodyDocument(detail: MessageDetail): string {
  const inner = detail.html ?? textToHtml(detail.text ?? '');
  return (
    '<!doctype html><html><head><meta charset="utf-8"><base target="_blank">' +
    '<style>html,body{margin:0;padding:8px;font-family:system-ui,sans-serif;font-size:14px;overflow-wrap:anywhere}img{max-width:100%;height:auto}</style>' +
    `</head><body>${inner}</body></html>`
  );
}
