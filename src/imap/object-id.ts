// RFC 8474 OBJECTID: MAILBOXID, EMAILID and THREADID, each an objectid
// (1*255 of ALPHA / DIGIT / "_" / "-").
// - MAILBOXID: the mailbox row and its UIDVALIDITY. RENAME keeps both; a mailbox
//   deleted and created again gets a new UIDVALIDITY, so an id is never reused.
// - EMAILID: the store's message id, which MOVE keeps and COPY renews (RFC 8474 5.1
//   allows either for a copy).
// - THREADID: derived from the thread's root Message-ID (the first References entry,
//   else In-Reply-To, else the message's own Message-ID), so every message of a thread
//   has it in every mailbox without a thread table. A message with none of those
//   headers is a thread of its own.

import { createHash } from 'node:crypto';
import type { MessageIndex } from '../mime/index.js';
import type { Mailbox, MessageMeta } from '../store/types.js';

const OBJECT_ID = /^[A-Za-z0-9_-]{1,255}$/;

export function mailboxObjectId(m: Pick<Mailbox, 'id' | 'uidValidity'>): string {
  return `M${m.id}-${m.uidValidity}`;
}

export function emailObjectId(m: Pick<MessageMeta, 'messageId'>): string | null {
  return OBJECT_ID.test(m.messageId) ? m.messageId : null;
}

export function threadObjectId(m: Pick<MessageMeta, 'messageId'>, index: MessageIndex | null): string {
  const d = index?.decoded;
  const root = d?.references[0] ?? d?.inReplyTo ?? d?.messageId ?? null;
  const basis = root === null || root === '' ? `message:${m.messageId}` : `id:${root.toLowerCase()}`;
  return 'T' + createHash('sha256').update(basis).digest('base64url').slice(0, 22);
}
