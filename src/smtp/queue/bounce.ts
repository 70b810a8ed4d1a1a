// Returning a DSN to the sender of a message that failed permanently.
//
// Rules:
// - Never to the null sender (RFC 5321 4.5.5): bounces do not bounce.
// - A local sender gets the DSN in their INBOX directly; a remote one (mail forwarded
//   by an alias) gets it through the queue with the null envelope sender.

import type { Store } from '../../store/store.js';
import { indexMessage, toStoredStructure } from '../../mime/index.js';
import type { Logger } from '../deliver.js';
import { buildDsn, type FailedRecipient } from './dsn.js';

export async function returnToSender(
  deps: { store: Store; logger: Logger; hostname: string },
  original: { mailFrom: string; createdAt: Date; message: Buffer },
  failed: FailedRecipient[],
  delayed?: { willRetryUntil: Date },
): Promise<void> {
  if (original.mailFrom === '' || failed.length === 0) return;
  const dsn = buildDsn({
    hostname: deps.hostname,
    to: original.mailFrom,
    arrivalDate: original.createdAt,
    recipients: failed,
    original: original.message,
    ...(delayed ? { action: 'delayed' as const, willRetryUntil: delayed.willRetryUntil } : {}),
  });
  const blob = await deps.store.blobs.put(dsn);
  const account = await deps.store.getAccount(original.mailFrom.toLowerCase());
  if (account && !account.disabled) {
    const inbox = await deps.store.getMailbox(account.id, 'INBOX');
    if (inbox) {
      const [res] = await deps.store.deliverMessage([inbox.id], { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: toStoredStructure(indexMessage(dsn)) });
      // A full INBOX refuses the DSN like any other message; the failure stays logged and in the queue.
      if (res instanceof Error) {
        deps.logger.warn({ to: original.mailFrom, err: res.message }, 'DSN not delivered to sender INBOX');
        return;
      }
      deps.logger.info({ to: original.mailFrom, recipients: failed.map((f) => f.recipient) }, 'DSN delivered to sender INBOX');
      return;
    }
  }
  await deps.store.enqueueOutbound({ blobId: blob.id, size: blob.size, mailFrom: '', recipients: [original.mailFrom] });
  deps.logger.info({ to: original.mailFrom, recipients: failed.map((f) => f.recipient) }, 'DSN queued to remote sender');
}
