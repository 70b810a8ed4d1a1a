// Compose: uploads, send, drafts, recipient autocomplete.
//
// Rules:
// - Sending goes through SMTP submission's own steps (injected, see ./submission.ts):
//   the sender must be the account or one of its aliases, recipients resolve as at
//   RCPT, local copies are stored and the rest goes on the outbound queue.
// - No header is built from text with CR or LF in it: such a request is refused
//   (400 invalid-header), never folded or cleaned into something else.
// - Bcc recipients get the message but no Bcc header; the copy in Sent keeps it.

import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import MailComposer from 'nodemailer/lib/mail-composer';
import { decodeMimeWords, indexMessage, parseAddressList, readMessageIndex, toStoredStructure } from '../../mime/index.js';
import { SubmissionRefused } from './submission.js';
import { OverQuota } from '../../store/errors.js';
import type { Account, Mailbox } from '../../store/types.js';
import { ApiFailure, body, messageIdOf, ownedMessage, specialMailbox, stringArray, stringParam, intParam, type ApiContext } from './common.js';
import { composeText } from './compose-text.js';
import { sanitizeEmailHtml } from './sanitize.js';
import { auth } from './session.js';
import type { ComposeRequest, DraftResponse, OkResponse, RecipientSuggestions, SendResponse, Upload, WebmailAddress } from './types.js';

const ADDR_SPEC = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$|^[^\s@<>()[\]\\,;:"]+@[a-z0-9-]+$/i;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const MSG_ID = /^<[^\s<>]{1,500}>$/;

function noBreaks(value: string, field: string): string {
  if (/[\r\n]/.test(value) || CONTROL.test(value)) throw new ApiFailure(400, 'invalid-header', `${field} may not contain line breaks or control characters`);
  return value;
}

/** One recipient as typed: `addr@example.com` or `Name <addr@example.com>`. */
export function parseRecipient(input: string, field: string): WebmailAddress {
  noBreaks(input, field);
  const parsed = parseAddressList(input);
  const first = parsed[0];
  const address = first?.kind === 'mailbox' && first.mailbox !== null && first.host !== null ? `${first.mailbox}@${first.host}` : '';
  if (parsed.length !== 1 || first?.kind !== 'mailbox' || !ADDR_SPEC.test(address)) {
    throw new ApiFailure(400, 'invalid-address', `${field}: "${input.slice(0, 100)}" is not one e-mail address`);
  }
  return { name: decodeMimeWords(first.name ?? '').trim(), address };
}

interface Composed {
  from: WebmailAddress;
  to: WebmailAddress[];
  cc: WebmailAddress[];
  bcc: WebmailAddress[];
  messageIdHeader: string;
  /** The message as recipients get it (no Bcc header). */
  forDelivery: Buffer;
  /** The message as the sender keeps it (Sent, Drafts): with Bcc. */
  forSender: Buffer;
}

function crlf(buf: Buffer): Buffer {
  return Buffer.from(buf.toString('binary').replace(/\r?\n/g, '\r\n'), 'binary');
}

async function build(options: ConstructorParameters<typeof MailComposer>[0], keepBcc: boolean): Promise<Buffer> {
  const node = new MailComposer(options).compile();
  node.keepBcc = keepBcc;
  return crlf(await new Promise<Buffer>((resolve, reject) => node.build((err, out) => (err ? reject(err) : resolve(out)))));
}

async function compose(ctx: ApiContext, account: Account, req: Record<string, unknown>): Promise<Composed> {
  const { store, config } = ctx;
  const list = (name: string) => stringArray(req[name], name, config.smtp.maxRecipients).map((s) => parseRecipient(s, name));
  const to = list('to');
  const cc = list('cc');
  const bcc = list('bcc');
  const subject = noBreaks(stringParam(req['subject'], 'subject', 2000) ?? '', 'subject');
  const text = stringParam(req['text'], 'text', config.limits.maxMessageBytes) ?? '';
  const htmlIn = stringParam(req['html'], 'html', config.limits.maxMessageBytes);
  const inReplyTo = stringParam(req['inReplyTo'], 'inReplyTo', 1000);
  if (inReplyTo !== undefined && !MSG_ID.test(noBreaks(inReplyTo, 'inReplyTo'))) throw new ApiFailure(400, 'invalid-header', 'inReplyTo must be one <message-id>');
  const references = stringArray(req['references'], 'references', 100);
  for (const r of references) if (!MSG_ID.test(noBreaks(r, 'references'))) throw new ApiFailure(400, 'invalid-header', 'references must be <message-id>s');

  const settings = await store.webmail.getSettings(account.id);
  const fromInput = stringParam(req['from'], 'from', 500);
  const from = fromInput ? parseRecipient(fromInput, 'from') : { name: settings.displayName, address: account.address };
  if (!from.name) from.name = settings.displayName;

  const attachments: Array<{ filename: string; content: Buffer; contentType: string; contentDisposition?: 'attachment' }> = [];
  let total = Buffer.byteLength(text) + Buffer.byteLength(htmlIn ?? '');
  for (const id of stringArray(req['attachments'], 'attachments', 100)) {
    const up = await store.webmail.getUpload(account.id, id);
    if (!up) throw new ApiFailure(404, 'not-found', 'an attachment upload has expired or does not exist');
    total += up.size;
    if (total > config.limits.maxMessageBytes) throw new ApiFailure(413, 'too-large', 'the message with its attachments is too large');
    attachments.push({ filename: up.filename, content: await store.blobs.get(up.blobId), contentType: up.contentType, contentDisposition: 'attachment' });
  }
  for (const id of stringArray(req['forwardAttachments'], 'forwardAttachments', 50)) {
    const { meta } = await ownedMessage(store, account.id, id);
    total += meta.size;
    if (total > config.limits.maxMessageBytes) throw new ApiFailure(413, 'too-large', 'the message with its attachments is too large');
    const subject = readMessageIndex(meta.structure)?.decoded.subject ?? '';
    // eslint-disable-next-line no-control-regex
    const name = subject.replace(/[\\/\x00-\x1f\x7f]/g, '_').trim().slice(0, 100) || 'forwarded message';
    attachments.push({ filename: `${name}.eml`, content: await store.blobs.get(meta.blobId), contentType: 'message/rfc822', contentDisposition: 'attachment' });
  }

  const domain = account.address.split('@')[1] ?? ctx.config.hostname;
  const messageIdHeader = `<${randomBytes(16).toString('hex')}@${domain}>`;
  // Rich text: the HTML is sanitised like a received message's, and the text/plain
  // alternative is generated from what survived (what the client sent as text is not used).
  const html = htmlIn === undefined ? undefined : sanitizeEmailHtml(htmlIn, { allowRemoteImages: true, cidUrl: () => null }).html;
  const plain = html === undefined ? text : composeText(html);
  const options = {
    from: { name: from.name, address: from.address },
    to: to.map((a) => ({ name: a.name, address: a.address })),
    cc: cc.map((a) => ({ name: a.name, address: a.address })),
    bcc: bcc.map((a) => ({ name: a.name, address: a.address })),
    subject,
    text: plain,
    ...(html !== undefined ? { html } : {}),
    messageId: messageIdHeader,
    ...(inReplyTo !== undefined ? { inReplyTo } : {}),
    ...(references.length > 0 ? { references } : {}),
    attachments,
    headers: { 'User-Agent': 'Steadymail Webmail' },
  };
  const forDelivery = await build(options, false);
  const forSender = await build(options, true);
  if (forSender.length > config.limits.maxMessageBytes) throw new ApiFailure(413, 'too-large', 'the message is too large');
  return { from, to, cc, bcc, messageIdHeader, forDelivery, forSender };
}

async function appendTo(ctx: ApiContext, box: Mailbox, bytes: Buffer, flags: Array<'\\Seen' | '\\Draft'>) {
  const blob = await ctx.store.blobs.put(bytes);
  return ctx.store.appendMessage(box.id, { blobId: blob.id, size: blob.size, internalDate: new Date(), flags, structure: toStoredStructure(indexMessage(bytes)) });
}

async function removeDraft(ctx: ApiContext, account: Account, draftId: unknown): Promise<void> {
  if (typeof draftId !== 'string') return;
  const drafts = await specialMailbox(ctx.store, account.id, '\\Drafts');
  try {
    const { mailbox, meta } = await ownedMessage(ctx.store, account.id, draftId);
    if (mailbox.id !== drafts?.id) return;
    await ctx.store.expungeMessages(mailbox.id, [meta.uid], { actor: `webmail:${account.address}`, reason: 'draft replaced or sent' });
  } catch (err) {
    if (!(err instanceof ApiFailure)) throw err;
  }
}

function filenameParam(v: unknown): string {
  const raw = typeof v === 'string' ? v : '';
  // eslint-disable-next-line no-control-regex
  const name = raw.replace(/[\\/\x00-\x1f\x7f]/g, '_').trim().slice(0, 255);
  return name === '' ? 'attachment' : name;
}

export function composeRoutes(api: FastifyInstance, ctx: ApiContext): void {
  const { store, config } = ctx;

  // Uploads take the raw bytes; a scope of their own so that no body parser interprets them.
  void api.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.webmail.maxUploadBytes }, (_req, payload, done) => done(null, payload));
    scope.post('/uploads', { bodyLimit: config.webmail.maxUploadBytes }, async (request, reply): Promise<Upload> => {
      const { account } = auth(request);
      const bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const q = request.query as Record<string, unknown>;
      const filename = filenameParam(q['filename']);
      const typeHeader = (request.headers['content-type'] ?? 'application/octet-stream').split(';')[0]!.trim().toLowerCase();
      const contentType = /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(typeHeader) ? typeHeader : 'application/octet-stream';
      const blob = await store.blobs.put(bytes);
      const id = randomBytes(16).toString('base64url');
      await store.webmail.addUpload({ id, accountId: account.id, blobId: blob.id, filename, contentType, size: blob.size, createdAt: new Date() });
      void reply.code(201);
      return { id, filename, contentType, size: blob.size };
    });
  });

  api.delete('/uploads/:uploadId', async (request): Promise<OkResponse> => {
    const { account } = auth(request);
    const id = (request.params as { uploadId: string }).uploadId;
    if (!(await store.webmail.getUpload(account.id, id))) throw new ApiFailure(404, 'not-found', 'no such item');
    await store.webmail.deleteUpload(account.id, id);
    return { ok: true };
  });

  api.post('/send', async (request): Promise<SendResponse> => {
    const { account } = auth(request);
    const req = body(request) as Record<string, unknown> & Partial<ComposeRequest>;
    const m = await compose(ctx, account, req);
    const all = [...m.to, ...m.cc, ...m.bcc];
    if (all.length === 0) throw new ApiFailure(400, 'invalid-address', 'add at least one recipient');
    if (all.length > config.smtp.maxRecipients) throw new ApiFailure(400, 'invalid-address', `at most ${config.smtp.maxRecipients} recipients`);
    const id = randomBytes(6).toString('hex');
    let result;
    try {
      await ctx.submission.checkSender(account, m.from.address);
      result = await ctx.submission.send({ account, mailFrom: m.from.address, recipients: all.map((r) => r.address), message: m.forDelivery, remoteAddress: request.ip, id });
    } catch (err) {
      if (!(err instanceof SubmissionRefused)) throw err;
      if (err.kind === 'sender') throw new ApiFailure(403, 'sender-not-owned', 'you cannot send as that address');
      if (err.kind === 'recipient') throw new ApiFailure(400, 'invalid-address', `${err.address ?? 'a recipient'}: ${err.message}`);
      if (err.kind === 'temporary') throw new ApiFailure(503, 'unavailable', `not sent: ${err.message}`);
      throw new ApiFailure(400, 'invalid-request', `not sent: ${err.message}`);
    }
    // Sent: the sender's own copy, with Bcc. The message is already on its way, so a
    // failure here is logged, not reported as a failed send.
    let sentId: string | null = null;
    const sent = await specialMailbox(store, account.id, '\\Sent');
    if (sent) {
      try {
        const r = await appendTo(ctx, sent, m.forSender, ['\\Seen']);
        sentId = messageIdOf(r.mailboxId, r.uid);
      } catch (err) {
        if (!(err instanceof OverQuota)) ctx.logger.error({ err, account: account.address }, 'webmail: sent, but the copy in Sent failed');
      }
    }
    await removeDraft(ctx, account, req['draftId']);
    const replied = req['replyTo'] as { messageId?: unknown; kind?: unknown } | undefined;
    if (replied && typeof replied === 'object' && typeof replied.messageId === 'string') {
      try {
        const { meta } = await ownedMessage(store, account.id, replied.messageId);
        const forward = replied.kind === 'forward';
        await store.updateFlags(meta.mailboxId, { uids: [meta.uid], operation: 'add', flags: forward ? [] : ['\\Answered'], keywords: forward ? ['$Forwarded'] : [] });
      } catch (err) {
        if (!(err instanceof ApiFailure)) throw err;
      }
    }
    await store.webmail.recordRecipients(account.id, all);
    ctx.logger.info({ account: account.address, recipients: all.length, size: m.forDelivery.length, id }, 'webmail message sent');
    return { messageIdHeader: m.messageIdHeader, sentId, queued: result.queued, delivered: result.delivered };
  });

  api.post('/drafts', async (request): Promise<DraftResponse> => {
    const { account } = auth(request);
    const req = body(request);
    const drafts = await specialMailbox(store, account.id, '\\Drafts');
    if (!drafts) throw new ApiFailure(404, 'not-found', 'no Drafts folder');
    const m = await compose(ctx, account, req);
    let r;
    try {
      r = await appendTo(ctx, drafts, m.forSender, ['\\Seen', '\\Draft']);
    } catch (err) {
      if (err instanceof OverQuota) throw new ApiFailure(507, 'over-quota', 'the mailbox is full');
      throw err;
    }
    await removeDraft(ctx, account, req['draftId']);
    return { id: messageIdOf(r.mailboxId, r.uid), messageIdHeader: m.messageIdHeader };
  });

  api.get('/recipients', async (request): Promise<RecipientSuggestions> => {
    const { account } = auth(request);
    const q = request.query as Record<string, unknown>;
    const prefix = (stringParam(q['q'], 'q', 200) ?? '').trim();
    const limit = intParam(q['limit'], 10, 1, 50);
    const rows = await store.webmail.suggestRecipients(account.id, prefix, limit);
    return { suggestions: rows.map((r) => ({ name: r.name, address: r.address, uses: r.uses })) };
  });
}
