// Search over the store: header fields, dates, flags and attachments are filtered in
// SQL (indexed by mailbox and date); body text is matched by reading the candidate
// messages' text parts, newest first, up to webmail.search_max_scanned messages.
// (A full-text index would replace the body scan; the store has none yet.)

import type { FastifyInstance } from 'fastify';
import { extractText, readMessageIndex, indexMessage } from '../../mime/index.js';
import type { MessageFilter } from '../../store/webmail.js';
import type { MessageMeta } from '../../store/types.js';
import { intParam, invalid, ownedMailbox, stringParam, type ApiContext } from './common.js';
import { summarize } from './render.js';
import { auth } from './session.js';
import type { MessagePage } from './types.js';

/** Text read per message for a body match. */
const BODY_TEXT_BYTES = 256 * 1024;

function dateParam(v: unknown, name: string, endOfDay: boolean): Date | undefined {
  const s = stringParam(v, name, 40);
  if (s === undefined || s === '') return undefined;
  const dayOnly = /^\d{4}-\d{2}-\d{2}$/.test(s);
  const d = new Date(dayOnly ? `${s}T00:00:00Z` : s);
  if (Number.isNaN(d.getTime())) throw invalid(`${name} must be an ISO date`);
  return endOfDay && dayOnly ? new Date(d.getTime() + 86_400_000) : d;
}

function flag(v: unknown): boolean | undefined {
  return v === '1' || v === 'true' ? true : v === '0' || v === 'false' ? false : undefined;
}

export function searchRoutes(api: FastifyInstance, ctx: ApiContext): void {
  const { store } = ctx;

  api.get('/search', async (request): Promise<MessagePage> => {
    const { account } = auth(request);
    const q = request.query as Record<string, unknown>;
    const offset = intParam(q['offset'], 0, 0, 1_000_000);
    const limit = intParam(q['limit'], 50, 1, 200);
    let mailboxIds: number[];
    let modseq = 0;
    if (q['folderId'] !== undefined && q['folderId'] !== '') {
      const box = await ownedMailbox(store, account.id, q['folderId']);
      mailboxIds = [box.id];
      modseq = box.highestModseq;
    } else {
      const boxes = await store.listMailboxes(account.id);
      mailboxIds = boxes.filter((b) => b.specialUse !== '\\Trash' && b.specialUse !== '\\Junk').map((b) => b.id);
    }
    const filter: MessageFilter = {};
    const from = stringParam(q['from'], 'from', 200);
    const to = stringParam(q['to'], 'to', 200);
    const subject = stringParam(q['subject'], 'subject', 500);
    const bodyText = stringParam(q['body'], 'body', 500)?.trim();
    const text = stringParam(q['text'], 'text', 500)?.trim();
    if (from) filter.from = from;
    if (to) filter.to = to;
    if (subject) filter.subject = subject;
    const after = dateParam(q['after'], 'after', false);
    const before = dateParam(q['before'], 'before', true);
    if (after) filter.after = after;
    if (before) filter.before = before;
    const att = flag(q['hasAttachment']);
    if (att !== undefined) filter.hasAttachment = att;
    if (flag(q['unread'])) filter.unread = true;
    if (flag(q['flagged'])) filter.flagged = true;

    if (!bodyText && !text) {
      const page = await store.webmail.filterMessages(mailboxIds, filter, offset, limit);
      return { items: page.messages.map((m) => summarize(m)), total: page.total, offset, limit, modseq };
    }

    // Body (or any-text) search: scan candidates newest first, reading their text.
    const needleBody = bodyText?.toLowerCase();
    const needleText = text?.toLowerCase();
    const matches: MessageMeta[] = [];
    let found = 0;
    let scanned = 0;
    const max = ctx.config.webmail.searchMaxScanned;
    outer: for await (const batch of store.webmail.scanMessages(mailboxIds, filter, 200)) {
      for (const meta of batch) {
        if (scanned++ >= max) break outer;
        if (await matchesText(ctx, meta, needleBody, needleText)) {
          if (found >= offset && matches.length < limit) matches.push(meta);
          found++;
        }
      }
    }
    return { items: matches.map((m) => summarize(m)), total: found, offset, limit, modseq };
  });
}

async function matchesText(ctx: ApiContext, meta: MessageMeta, body: string | undefined, text: string | undefined): Promise<boolean> {
  try {
    const raw = await ctx.store.blobs.get(meta.blobId);
    const index = readMessageIndex(meta.structure) ?? indexMessage(raw);
    const extracted = extractText(raw, index, { maxBytes: BODY_TEXT_BYTES });
    const bodyLower = extracted.body.toLowerCase();
    if (body !== undefined && !bodyLower.includes(body)) return false;
    if (text !== undefined && !bodyLower.includes(text) && !extracted.headers.toLowerCase().includes(text)) return false;
    return true;
  } catch (err) {
    ctx.logger.warn({ err, blobId: meta.blobId }, 'webmail search: message unreadable, skipped');
    return false;
  }
}
