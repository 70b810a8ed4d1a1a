// Search over the store: header fields, dates, flags and attachments are filtered in
// SQL (indexed by mailbox and date). Body text goes through the store's full-text index
// (store.searchText, the one IMAP SEARCH BODY/TEXT uses): the index names the matching
// messages of each folder, whose header criteria are then checked on their cached
// structure. Only messages the index does not cover yet are read and scanned, newest
// first, at most webmail.search_max_scanned of them (and indexed on the way).

import type { FastifyInstance } from 'fastify';
import { readMessageIndex, indexMessage, searchTextOf, type MessageIndex } from '../../mime/index.js';
import type { MessageFilter } from '../../store/webmail.js';
import type { MessageMeta, TextFilter } from '../../store/types.js';
import { intParam, invalid, ownedMailbox, stringParam, type ApiContext } from './common.js';
import { summarize } from './render.js';
import { auth } from './session.js';
import type { MessagePage } from './types.js';

/** Matches of a body search counted at most (as header searches count theirs). */
const MAX_MATCHES = 10_000;
/** Messages read per store round trip. */
const BATCH = 500;

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

    // Body (or any-text) search through the full-text index, folder by folder.
    const parts: TextFilter[] = [];
    if (bodyText) parts.push({ field: 'body', value: bodyText });
    if (text) parts.push({ field: 'text', value: text });
    const textFilter: TextFilter = parts.length === 1 ? parts[0]! : { and: parts };
    const needleBody = bodyText?.toLowerCase();
    const needleText = text?.toLowerCase();
    const matches: MessageMeta[] = [];
    let scanned = 0;
    const max = ctx.config.webmail.searchMaxScanned;
    for (const mailboxId of mailboxIds) {
      if (matches.length >= MAX_MATCHES) break;
      const found = await store.searchText(mailboxId, textFilter);
      const matched = [...found.matched].sort((a, b) => b - a).slice(0, MAX_MATCHES - matches.length);
      for (let i = 0; i < matched.length; i += BATCH) {
        for (const meta of await store.getMessages(mailboxId, matched.slice(i, i + BATCH))) if (matchesFilter(meta, filter)) matches.push(meta);
      }
      // Not indexed yet (the backlog indexer has not reached them): read them, newest first.
      const unindexed = [...found.unindexed].sort((a, b) => b - a);
      for (let i = 0; i < unindexed.length && scanned < max; i += BATCH) {
        // getMessages answers in uid order: newest first here too, or the limit would cut the newest.
        const batch = (await store.getMessages(mailboxId, unindexed.slice(i, i + BATCH))).sort((a, b) => b.uid - a.uid);
        for (const meta of batch) {
          if (scanned >= max) break;
          if (!matchesFilter(meta, filter)) continue;
          scanned++;
          if (await matchesText(ctx, meta, needleBody, needleText)) matches.push(meta);
        }
      }
    }
    matches.sort((a, b) => b.internalDate.getTime() - a.internalDate.getTime() || b.mailboxId - a.mailboxId || b.uid - a.uid);
    return { items: matches.slice(offset, offset + limit).map((m) => summarize(m)), total: matches.length, offset, limit, modseq };
  });
}

function includes(haystack: string | null | undefined, needle: string): boolean {
  return (haystack ?? '').toLowerCase().includes(needle.toLowerCase());
}

function addressMatches(list: Array<{ name: string; address: string }> | undefined, needle: string): boolean {
  return (list ?? []).some((a) => includes(a.name, needle) || includes(a.address, needle));
}

/** The header, date, flag and attachment criteria on one message, as the store's SQL filter applies them. */
export function matchesFilter(meta: MessageMeta, f: MessageFilter, index: MessageIndex | null = readMessageIndex(meta.structure)): boolean {
  const t = meta.internalDate.getTime();
  if (f.after && t < f.after.getTime()) return false;
  if (f.before && t >= f.before.getTime()) return false;
  if (f.unread && meta.flags.includes('\\Seen')) return false;
  if (f.flagged && !meta.flags.includes('\\Flagged')) return false;
  if (f.hasAttachment !== undefined && (index?.hasAttachments ?? false) !== f.hasAttachment) return false;
  const d = index?.decoded;
  if (f.subject && !includes(d?.subject, f.subject)) return false;
  if (f.from && !addressMatches(d?.from, f.from)) return false;
  if (f.to && !addressMatches(d?.to, f.to) && !addressMatches(d?.cc, f.to)) return false;
  if (f.headerText) {
    const h = f.headerText;
    if (!includes(d?.subject, h) && !addressMatches(d?.from, h) && !addressMatches(d?.to, h) && !addressMatches(d?.cc, h)) return false;
  }
  return true;
}

async function matchesText(ctx: ApiContext, meta: MessageMeta, body: string | undefined, text: string | undefined): Promise<boolean> {
  try {
    const raw = await ctx.store.blobs.get(meta.blobId);
    const extracted = searchTextOf(raw, readMessageIndex(meta.structure) ?? indexMessage(raw));
    // The text was read anyway: the index keeps it (not awaited: the answer does not depend on it).
    void ctx.store.indexSearchText(meta.blobId, { headers: extracted.headers, body: extracted.body }).catch(() => undefined);
    const bodyLower = extracted.body.toLowerCase();
    if (body !== undefined && !bodyLower.includes(body)) return false;
    if (text !== undefined && !bodyLower.includes(text) && !extracted.headers.toLowerCase().includes(text)) return false;
    return true;
  } catch (err) {
    ctx.logger.warn({ err, blobId: meta.blobId }, 'webmail search: message unreadable, skipped');
    return false;
  }
}
