// Message list, reading, downloads and the bulk actions (flags, move, delete, junk).

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodePartBody } from '../../mime/index.js';
import { BlobMissing } from '../../store/blobs/blob-store.js';
import type { Store } from '../../store/store.js';
import type { Account, Mailbox, MessageMeta } from '../../store/types.js';
import type { WebmailSession } from '../../store/webmail.js';
import { ApiFailure, body, intParam, invalid, messageIdOf, notFound, ownedMailbox, ownedMessage, ownedMessageGroups, specialMailbox, stringArray, type ApiContext } from './common.js';
import { FLAG_OF, bodyDocument, filenameOf, findPart, indexOf, partPaths, renderMessage, summarize } from './render.js';
import { threadFolder, type ThreadedFolder } from './threads.js';
import { auth, type Authed } from './session.js';
import type { BulkResponse, MessageDetail, MessageFlag, MessagePage, SortField } from './types.js';

const SORTS: readonly SortField[] = ['date', 'from', 'subject', 'size'];
const FLAGS: readonly MessageFlag[] = ['seen', 'answered', 'flagged', 'draft'];
/** IMAP keyword atom (RFC 9051 flag-keyword), as the store keeps them. */
const KEYWORD = /^[!#$&'+\-.0-9:<>=?@A-Z^_`a-z|~]{1,100}$/;

// ── capability URLs for the sandboxed body and its inline images ──

function capabilityToken(session: WebmailSession, messageId: string): string {
  return createHmac('sha256', session.csrfToken).update(`body:${messageId}`).digest('base64url').slice(0, 32);
}

function capabilityQuery(session: WebmailSession, messageId: string): string {
  return `s=${encodeURIComponent(session.publicId)}&t=${capabilityToken(session, messageId)}`;
}

/**
 * A sandboxed iframe's document has an opaque origin, so its image requests may come
 * without the session cookie: the body and cid URLs carry a per-session, per-message
 * token instead. The cookie is used when it is there.
 */
async function capabilityAuth(ctx: ApiContext, request: FastifyRequest, messageId: string, cookieAuth: Authed | undefined): Promise<Authed> {
  if (cookieAuth) return cookieAuth;
  const q = request.query as { s?: unknown; t?: unknown };
  if (typeof q.s !== 'string' || typeof q.t !== 'string' || q.s.length > 64) throw notFound();
  const session = await ctx.store.webmail.getSessionByPublicId(q.s);
  if (!session) throw notFound();
  const want = Buffer.from(capabilityToken(session, messageId));
  const got = Buffer.from(q.t);
  if (want.length !== got.length || !timingSafeEqual(want, got)) throw notFound();
  const account = await ctx.store.getAccountById(session.accountId);
  if (!account || account.disabled) throw notFound();
  return { account, session };
}

// ── headers for content we serve ──

/** RFC 6266 / RFC 5987: an ASCII fallback and the UTF-8 name. */
export function contentDisposition(kind: 'attachment' | 'inline', filename: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = filename.replace(/[\x00-\x1f\x7f"\\/]/g, '_');
  const ascii = clean.replace(/[^\x20-\x7e]/g, '_');
  const encoded = encodeURIComponent(clean).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

const SAFE_INLINE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp']);

function noSniff(reply: FastifyReply): FastifyReply {
  return reply
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('cache-control', 'private, no-store');
}

function origin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

// ── reading ──

async function readBlob(store: Store, meta: MessageMeta): Promise<Buffer> {
  return store.blobs.get(meta.blobId);
}

function parseBool(v: unknown): boolean | undefined {
  return v === '1' || v === 'true' ? true : v === '0' || v === 'false' ? false : undefined;
}

async function detailOf(ctx: ApiContext, session: WebmailSession | null, meta: MessageMeta, allowRemoteImages: boolean, raw: Buffer): Promise<MessageDetail> {
  const id = messageIdOf(meta.mailboxId, meta.uid);
  const base = `/api/messages/${id}`;
  const cap = session ? `?${capabilityQuery(session, id)}` : '';
  return renderMessage(meta, raw, {
    allowRemoteImages,
    maxDisplayBytes: ctx.config.webmail.maxDisplayBytes,
    cidUrl: (cid) => `${base}/cid/${encodeURIComponent(cid)}${cap}`,
    attachmentUrl: (partId) => `${base}/parts/${partId}`,
    rawUrl: `${base}/raw`,
    htmlUrl: `${base}/body${cap}${allowRemoteImages ? (cap ? '&' : '?') + 'images=1' : ''}`,
  });
}

/** Marks a message \Seen when the reader opens it (unless asked not to). */
async function markSeen(store: Store, meta: MessageMeta): Promise<MessageMeta> {
  if (meta.flags.includes('\\Seen')) return meta;
  await store.updateFlags(meta.mailboxId, { uids: [meta.uid], operation: 'add', flags: ['\\Seen'], keywords: [] });
  return { ...meta, flags: [...meta.flags, '\\Seen'] };
}

// ── bulk actions ──

async function moveGroups(ctx: ApiContext, account: Account, ids: unknown, target: Mailbox, reason: string): Promise<BulkResponse> {
  const { store } = ctx;
  const groups = await ownedMessageGroups(store, account.id, ids);
  const moved: Array<{ from: string; to: string }> = [];
  let count = 0;
  for (const g of groups.values()) {
    if (g.mailbox.id === target.id) continue;
    const res = await store.moveMessages(g.mailbox.id, g.uids, target.id, { actor: `webmail:${account.address}`, reason });
    for (const [from, to] of res.mapping) moved.push({ from: messageIdOf(g.mailbox.id, from), to: messageIdOf(target.id, to) });
    count += res.mapping.length;
    if (res.mapping.length > 0) ctx.onTransfer?.({ accountId: account.id, fromMailboxId: g.mailbox.id, to: target, uids: res.mapping.map(([, to]) => to) });
  }
  return { count, moved };
}

/** Threaded orders kept per process; a folder's entry is valid while its modseq stands. */
const THREAD_CACHE_ENTRIES = 16;

export function messageRoutes(api: FastifyInstance, ctx: ApiContext, cookieAuthOf: (request: FastifyRequest) => Authed | undefined): void {
  const { store } = ctx;
  const threadCache = new Map<string, ThreadedFolder>();

  /** The whole folder in thread order (every change bumps the modseq, so a cached order is current). */
  const threaded = async (box: Mailbox, sort: SortField, descending: boolean, unread: boolean, flagged: boolean): Promise<ThreadedFolder> => {
    const key = `${box.id}:${box.highestModseq}:${sort}:${descending}:${unread}:${flagged}`;
    const hit = threadCache.get(key);
    if (hit) return hit;
    const result = threadFolder(await store.webmail.threadHeaders(box.id, { unread, flagged }), sort, descending);
    if (threadCache.size >= THREAD_CACHE_ENTRIES) threadCache.delete(threadCache.keys().next().value as string);
    threadCache.set(key, result);
    return result;
  };

  api.get('/folders/:folderId/messages', async (request): Promise<MessagePage> => {
    const { account } = auth(request);
    const box = await ownedMailbox(store, account.id, (request.params as { folderId: string }).folderId);
    const q = request.query as Record<string, unknown>;
    const sort = (q['sort'] ?? 'date') as SortField;
    if (!SORTS.includes(sort)) throw invalid('sort must be one of date, from, subject, size');
    const order = q['order'] ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw invalid('order must be asc or desc');
    const offset = intParam(q['offset'], 0, 0, 10_000_000);
    const limit = intParam(q['limit'], 50, 1, 500);
    if (parseBool(q['threads'])) {
      const t = await threaded(box, sort, order === 'desc', parseBool(q['unread']) === true, parseBool(q['flagged']) === true);
      const rows = t.rows.slice(offset, offset + limit);
      const metas = new Map((await store.getMessages(box.id, rows.map((r) => r.uid))).map((m) => [m.uid, m]));
      const items = rows.flatMap((r) => {
        const meta = metas.get(r.uid);
        if (!meta) return [];
        return [{ ...summarize(meta), threadDepth: r.depth, threadId: r.threadMessageId ?? `<${messageIdOf(box.id, r.thread)}>` }];
      });
      return { items, total: t.rows.length, offset, limit, modseq: box.highestModseq, threads: t.threads };
    }
    const page = await store.webmail.pageMessages(box.id, {
      sort,
      descending: order === 'desc',
      offset,
      limit,
      ...(parseBool(q['unread']) ? { unread: true } : {}),
      ...(parseBool(q['flagged']) ? { flagged: true } : {}),
    });
    const items = page.messages.map((m) => summarize(m));
    return { items, total: page.total, offset, limit, modseq: box.highestModseq };
  });

  api.get('/messages/:messageId', async (request): Promise<MessageDetail> => {
    const a = auth(request);
    let { meta } = await ownedMessage(store, a.account.id, (request.params as { messageId: string }).messageId);
    const q = request.query as Record<string, unknown>;
    if (parseBool(q['markSeen']) !== false) meta = await markSeen(store, meta);
    let raw: Buffer;
    try {
      raw = await readBlob(store, meta);
    } catch (err) {
      if (!(err instanceof BlobMissing)) throw err;
      // The metadata is there but the content is not: show what is known, with a notice.
      ctx.logger.error({ err, messageId: meta.messageId }, 'webmail: a message blob is missing');
      const detail = await detailOf(ctx, a.session, meta, false, Buffer.alloc(0));
      return { ...detail, text: '', attachments: [], notice: 'The content of this message cannot be read from the store right now.', rawFallback: true };
    }
    return detailOf(ctx, a.session, meta, parseBool(q['images']) === true, raw);
  });

  api.get('/messages/:messageId/body', async (request, reply) => {
    const messageId = (request.params as { messageId: string }).messageId;
    const { account, session } = await capabilityAuth(ctx, request, messageId, cookieAuthOf(request));
    const { meta } = await ownedMessage(store, account.id, messageId);
    const images = parseBool((request.query as Record<string, unknown>)['images']) === true;
    const raw = await readBlob(store, meta);
    // cid: URLs in this document carry the capability too (see capabilityAuth).
    const doc = bodyDocument(await detailOf(ctx, session, meta, images, raw));
    const self = origin(request);
    const imgSrc = images ? `${self} data: https: http:` : `${self} data:`;
    return reply
      .type('text/html; charset=utf-8')
      .header(
        'content-security-policy',
        `default-src 'none'; img-src ${imgSrc}; style-src 'unsafe-inline'; font-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox`,
      )
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'private, no-store')
      .send(doc);
  });

  api.get('/messages/:messageId/raw', async (request, reply) => {
    const { account } = auth(request);
    const { meta } = await ownedMessage(store, account.id, (request.params as { messageId: string }).messageId);
    const view = parseBool((request.query as Record<string, unknown>)['view']) === true;
    if (!(await store.blobs.stat(meta.blobId))) throw new BlobMissing(meta.blobId);
    const stream = store.blobs.createReadStream(meta.blobId);
    noSniff(reply).header('content-length', meta.size);
    if (view) return reply.type('text/plain; charset=utf-8').header('content-disposition', 'inline').send(stream);
    return reply.type('message/rfc822').header('content-disposition', contentDisposition('attachment', 'message.eml')).send(stream);
  });

  const servePart = async (reply: FastifyReply, meta: MessageMeta, partId: string | null, cid: string | null, inline: boolean) => {
    const raw = await readBlob(store, meta);
    const index = indexOf(meta, raw);
    let part = partId !== null ? findPart(index.root, partId) : null;
    let id = partId ?? '';
    if (cid !== null) {
      const found = partPaths(index.root).find((p) => p.part.id !== null && p.part.id.replace(/^<|>$/g, '') === cid);
      part = found?.part ?? null;
      id = found?.id ?? '';
    }
    if (!part) throw notFound();
    const bytes = part.message !== null ? raw.subarray(part.bodyStart, part.bodyEnd) : decodePartBody(raw, part);
    const declared = `${part.type}/${part.subtype}`;
    const type = /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(declared) ? declared : 'application/octet-stream';
    // Inline only for plain raster images; everything else is a download, whatever was asked.
    const showInline = inline && SAFE_INLINE.has(type);
    noSniff(reply).header('content-disposition', contentDisposition(showInline ? 'inline' : 'attachment', filenameOf(part, id)));
    return reply.type(inline && !showInline ? 'application/octet-stream' : type).send(bytes);
  };

  api.get('/messages/:messageId/parts/:partId', async (request, reply) => {
    const { account } = auth(request);
    const params = request.params as { messageId: string; partId: string };
    if (!/^[1-9][0-9]{0,4}(?:\.[1-9][0-9]{0,4}){0,60}$/.test(params.partId)) throw notFound();
    const { meta } = await ownedMessage(store, account.id, params.messageId);
    return servePart(reply, meta, params.partId, null, parseBool((request.query as Record<string, unknown>)['inline']) === true);
  });

  api.get('/messages/:messageId/cid/:contentId', async (request, reply) => {
    const params = request.params as { messageId: string; contentId: string };
    const { account } = await capabilityAuth(ctx, request, params.messageId, cookieAuthOf(request));
    const { meta } = await ownedMessage(store, account.id, params.messageId);
    return servePart(reply, meta, null, params.contentId, true);
  });

  // ── actions ──

  api.post('/messages/flags', async (request): Promise<BulkResponse> => {
    const { account } = auth(request);
    const b = body(request);
    const add = stringArray(b['add'], 'add', 10);
    const remove = stringArray(b['remove'], 'remove', 10);
    for (const f of [...add, ...remove]) if (!FLAGS.includes(f as MessageFlag)) throw invalid(`unknown flag ${f}`);
    const addKeywords = stringArray(b['addKeywords'], 'addKeywords', 20);
    const removeKeywords = stringArray(b['removeKeywords'], 'removeKeywords', 20);
    for (const k of [...addKeywords, ...removeKeywords]) if (!KEYWORD.test(k) || k.startsWith('\\')) throw invalid(`invalid keyword ${k}`);
    const groups = await ownedMessageGroups(store, account.id, b['ids']);
    let count = 0;
    for (const g of groups.values()) {
      const existing = await store.getMessages(g.mailbox.id, g.uids);
      if (existing.length === 0) continue;
      const uids = existing.map((m) => m.uid);
      if (add.length > 0 || addKeywords.length > 0) {
        await store.updateFlags(g.mailbox.id, { uids, operation: 'add', flags: add.map((f) => FLAG_OF[f as MessageFlag]), keywords: addKeywords });
      }
      if (remove.length > 0 || removeKeywords.length > 0) {
        await store.updateFlags(g.mailbox.id, { uids, operation: 'remove', flags: remove.map((f) => FLAG_OF[f as MessageFlag]), keywords: removeKeywords });
      }
      count += uids.length;
    }
    return { count };
  });

  api.post('/messages/move', async (request): Promise<BulkResponse> => {
    const { account } = auth(request);
    const b = body(request);
    const target = await ownedMailbox(store, account.id, b['folderId']);
    return moveGroups(ctx, account, b['ids'], target, 'moved in webmail');
  });

  api.post('/messages/delete', async (request): Promise<BulkResponse> => {
    const { account } = auth(request);
    const b = body(request);
    const trash = await specialMailbox(store, account.id, '\\Trash');
    const groups = await ownedMessageGroups(store, account.id, b['ids']);
    let count = 0;
    const moved: Array<{ from: string; to: string }> = [];
    for (const g of groups.values()) {
      if (!trash || g.mailbox.id === trash.id) {
        const gone = await store.expungeMessages(g.mailbox.id, g.uids, { actor: `webmail:${account.address}`, reason: 'deleted in webmail' });
        count += gone.length;
      } else {
        const res = await store.moveMessages(g.mailbox.id, g.uids, trash.id, { actor: `webmail:${account.address}`, reason: 'moved to Trash in webmail' });
        for (const [from, to] of res.mapping) moved.push({ from: messageIdOf(g.mailbox.id, from), to: messageIdOf(trash.id, to) });
        count += res.mapping.length;
      }
    }
    return { count, moved };
  });

  api.post('/messages/junk', async (request): Promise<BulkResponse> => {
    const { account } = auth(request);
    const b = body(request);
    if (typeof b['junk'] !== 'boolean') throw invalid('junk must be true or false');
    const junk = b['junk'];
    const target = await specialMailbox(store, account.id, junk ? '\\Junk' : 'INBOX');
    if (!target) throw new ApiFailure(404, 'not-found', 'no Junk folder');
    const groups = await ownedMessageGroups(store, account.id, b['ids']);
    // RFC 5788 / IANA keywords the spam filter learns from.
    for (const g of groups.values()) {
      const existing = (await store.getMessages(g.mailbox.id, g.uids)).map((m) => m.uid);
      if (existing.length === 0) continue;
      await store.updateFlags(g.mailbox.id, { uids: existing, operation: 'add', flags: [], keywords: [junk ? '$Junk' : '$NotJunk'] });
      await store.updateFlags(g.mailbox.id, { uids: existing, operation: 'remove', flags: [], keywords: [junk ? '$NotJunk' : '$Junk'] });
    }
    return moveGroups(ctx, account, b['ids'], target, junk ? 'marked as junk in webmail' : 'marked as not junk in webmail');
  });
}
