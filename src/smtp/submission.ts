// Submission policy (RFC 6409): who may authenticate, and which envelope senders an
// authenticated account may use.

import type { Store } from '../store/store.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Account } from '../store/types.js';
import type { Logger } from './deliver.js';
import { reply, type SmtpReply } from './replies.js';

export type Authenticate = (
  username: string,
  password: string,
  remoteAddress: string,
) => Promise<{ ok: true; account: Account } | { ok: false; reason: 'bad-credentials' | 'disabled' | 'throttled'; delayMs?: number }>;

/**
 * Checks credentials through the injected authenticator. Throttling is the shared
 * one (src/auth/throttle.ts): failures count across protocols, workers and nodes.
 */
export async function authenticateClient(
  deps: { authenticate: Authenticate; logger: Logger },
  username: string,
  password: string,
  ip: string,
): Promise<Account | SmtpReply> {
  const res = await deps.authenticate(username, password, ip);
  if (res.ok) return res.account;
  // RFC 4954 4: a failed AUTH is answered 535 (454 4.7.0 while refused); the delay makes guessing slow.
  if (res.delayMs) await sleep(res.delayMs);
  if (res.reason === 'throttled') return reply.authThrottled();
  return reply.authFailed();
}

/**
 * RFC 6409 8.1: the envelope sender must belong to the authenticated account: its own
 * address, or an alias whose targets include it (the catch-all does not count, or
 * every address of the domain would be everyone's).
 */
export async function checkSenderOwned(store: Store, account: Account, mailFrom: string): Promise<void> {
  if (!mailFrom) throw reply.senderNotOwned();
  const r = await store.resolveRecipient(mailFrom);
  if (r.kind === 'account' && r.account.id === account.id) return;
  if (r.kind === 'alias' && !r.alias.source.startsWith('@') && r.targets.some((t) => t.toLowerCase() === account.address)) return;
  throw reply.senderNotOwned();
}
