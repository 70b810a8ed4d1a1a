// Returning a DSN to the sender of a message that failed permanently.
//
// Rules:
// - Never to the null sender (RFC 5321 4.5.5): bounces do not bounce.
// - A local sender gets the DSN in their INBOX directly; a remote one (mail forwarded
//   by an alias) gets it through the queue with the null envelope sender.
// - The sender of a forwarded copy is our SRS address (sieve/srs.ts): the DSN goes to
//   the original sender it stands for. One that does not verify (forged, too old) is
//   used as it is, and then goes nowhere useful rather than to a guessed address.

import type { Store } from '../../store/store.js';
import { indexMessage, toStoredStructure } from '../../mime/index.js';
import type { Logger } from '../deliver.js';
import { buildDsn, type FailedRecipient } from './dsn.js';
import type { Srs } from '../../sieve/srs.js';

export async function returnToSender(
  deps: { store: Store; logger: Logger; hostname: string; srs?: Srs | undefined },
  original: { mailFrom: string; createdAt: Date; message: Buffer },
  failed: FailedRecipient[],
  delayed?: { willRetryUntil: Date },
): Promise<void> {
  if (original.mailFrom === '' || failed.length === 0) return;
  const sender = deps.srs?.reverse(original.mailFrom) ?? original.mailFrom;
  const dsn = buildDsn({
    hostname: deps.hostname,
    to: sender,
    arrivalDate: original.createdAt,
    recipients: failed,
    original: original.message,
    ...(delayed ? { action: 'delayed' as const, willRetryUntil: delayed.willRetryUntil } : {}),
  });
  const blob = await deps.store.blobs.put(dsn);
  const account = await deps.store.getAccount(sender.toLowerCase());
  if (account && !account.disabled) {
    const inbox = await deps.store.getMailbox(account.id, 'INBOX');
    if (inbox) {
      const [res] = await deps.store.deliverMessage([inbox.id], { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: toStoredStructure(indexMessage(dsn)) });
      // A full INBOX refuses the DSN like any other message; the failure stays logged and in the queue.
      if (res instanceof Error) {
        deps.logger.warn({ to: sender, err: res.message }, 'DSN not delivered to sender INBOX');
        return;
      }
      deps.logger.info({ to: sender, recipients: failed.map((f) => f.recipient) }, 'DSN delivered to sender INBOX');
      return;
    }
  }
  await deps.store.enqueueOutbound({ blobId: blob.id, size: blob.size, mailFrom: '', recipients: [sender] });
  deps.logger.info({ to: sender, srs: sender !== original.mailFrom, recipients: failed.map((f) => f.recipient) }, 'DSN queued to remote sender');
}
