// Shared pieces of the webmail API: the context every route gets, API errors, ids,
// and the checks that keep one account out of another's mail.

import type { FastifyReply } from 'fastify';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../log.js';
import type { Store } from '../../store/store.js';
import type { Mailbox, MessageMeta, SpecialUse } from '../../store/types.js';
import type { Submission } from './submission.js';
import type { ApiError, ApiErrorCode, FolderId, MessageId, SpecialUseName } from './types.js';
import type { SessionRecorder } from '../../sessions/recorder.js';

export interface ApiContext {
  config: Config;
  store: Store;
  logger: Logger;
  submission: Submission;
  /** Told of every move the user makes (the spam filter learns from moves into and out of Junk). */
  onTransfer?: (t: { accountId: number; fromMailboxId: number; to: Mailbox; uids: number[] }) => void;
  /** Sign-ins go to the session history; a traced account's requests to its trace. */
  sessions?: SessionRecorder;
}

/** Thrown by handlers; the API's error handler turns it into an ApiError reply. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

export const notFound = (): ApiFailure => new ApiFailure(404, 'not-found', 'no such item');
export const invalid = (message: string): ApiFailure => new ApiFailure(400, 'invalid-request', message);

export function sendError(reply: FastifyReply, status: number, code: ApiErrorCode, message: string): FastifyReply {
  const body: ApiError = { error: code, message };
  return reply.code(status).header('cache-control', 'no-store').send(body);
}

// Ids: a folder is its mailbox id; a message is `<mailbox id>.<uid>`. Ownership is
// checked on every use, so a guessed id of another account is simply "not found".

export function folderIdOf(mailboxId: number): FolderId {
  return String(mailboxId);
}

export function messageIdOf(mailboxId: number, uid: number): MessageId {
  return `${mailboxId}.${uid}`;
}

function positiveInt(s: string | undefined): number | null {
  if (s === undefined || !/^[1-9][0-9]{0,15}$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

export function parseFolderId(id: unknown): number | null {
  return typeof id === 'string' ? positiveInt(id) : null;
}

export function parseMessageId(id: unknown): { mailboxId: number; uid: number } | null {
  if (typeof id !== 'string') return null;
  const [a, b, ...rest] = id.split('.');
  if (rest.length > 0) return null;
  const mailboxId = positiveInt(a);
  const uid = positiveInt(b);
  return mailboxId === null || uid === null ? null : { mailboxId, uid };
}

/** The account's mailbox with this id, or 404 (also when it belongs to someone else). */
export async function ownedMailbox(store: Store, accountId: number, folderId: unknown): Promise<Mailbox> {
  const id = parseFolderId(folderId);
  const box = id === null ? undefined : await store.getMailboxById(id);
  if (!box || box.accountId !== accountId) throw notFound();
  return box;
}

/** The account's message with this id, or 404. */
export async function ownedMessage(store: Store, accountId: number, messageId: unknown): Promise<{ mailbox: Mailbox; meta: MessageMeta }> {
  const id = parseMessageId(messageId);
  if (id === null) throw notFound();
  const box = await store.getMailboxById(id.mailboxId);
  if (!box || box.accountId !== accountId) throw notFound();
  const [meta] = await store.getMessages(box.id, [id.uid]);
  if (!meta) throw notFound();
  return { mailbox: box, meta };
}

/** Groups message ids by the account's mailboxes; ids of other accounts or garbage are dropped. */
export async function ownedMessageGroups(store: Store, accountId: number, ids: unknown): Promise<Map<number, { mailbox: Mailbox; uids: number[]; ids: MessageId[] }>> {
  if (!Array.isArray(ids) || ids.length > 10_000) throw invalid('ids must be an array of at most 10000 message ids');
  const groups = new Map<number, { mailbox: Mailbox; uids: number[]; ids: MessageId[] }>();
  const boxes = new Map<number, Mailbox | null>();
  for (const raw of ids) {
    const id = parseMessageId(raw);
    if (id === null) continue;
    let box = boxes.get(id.mailboxId);
    if (box === undefined) {
      const found = await store.getMailboxById(id.mailboxId);
      box = found && found.accountId === accountId ? found : null;
      boxes.set(id.mailboxId, box);
    }
    if (box === null) continue;
    let g = groups.get(box.id);
    if (!g) groups.set(box.id, (g = { mailbox: box, uids: [], ids: [] }));
    g.uids.push(id.uid);
    g.ids.push(raw as string);
  }
  return groups;
}

export function specialUseName(box: Pick<Mailbox, 'name' | 'specialUse'>): SpecialUseName | null {
  if (box.name === 'INBOX') return 'inbox';
  return box.specialUse === null ? null : (box.specialUse.slice(1).toLowerCase() as SpecialUseName);
}

export async function specialMailbox(store: Store, accountId: number, use: SpecialUse | 'INBOX'): Promise<Mailbox | undefined> {
  const boxes = await store.listMailboxes(accountId);
  return use === 'INBOX' ? boxes.find((b) => b.name === 'INBOX') : boxes.find((b) => b.specialUse === use);
}

/** Query-string integer within [min, max], or the default. */
export function intParam(value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?[0-9]{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw invalid(`expected an integer, got ${JSON.stringify(value)}`);
  return Math.min(max, Math.max(min, n));
}

export function stringParam(value: unknown, name: string, maxLength = 1000): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > maxLength) throw invalid(`${name} must be a string of at most ${maxLength} characters`);
  return value;
}

export function stringArray(value: unknown, name: string, maxItems = 1000): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > maxItems || !value.every((v) => typeof v === 'string')) {
    throw invalid(`${name} must be an array of strings`);
  }
  return value;
}

export function body(request: { body: unknown }): Record<string, unknown> {
  const b = request.body;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) throw invalid('expected a JSON object body');
  return b as Record<string, unknown>;
}
