// Learning from the user: a message moved or copied into the Junk mailbox is spam,
// one moved out of Junk (anywhere but Trash) is ham. Each teaches rspamd's Bayes
// classifier (/learnspam, /learnham) when rspamd is configured, and always the
// account's learnt-sender counts that the built-in layer scores.
//
// Rules: learning happens after the IMAP command has answered and never fails it;
// at most MAX_PER_TRANSFER messages of one command are learnt; close() waits for
// the learning in flight.

import type { Store } from '../store/store.js';
import type { Mailbox } from '../store/types.js';
import { fromAddress, headerFields } from './headers.js';
import type { FilterLogger } from './hook.js';
import type { RspamdClient } from './rspamd.js';

/** A COPY or MOVE that committed: the messages now in `to`, by their new UIDs. */
export interface MailboxTransfer {
  accountId: number;
  fromMailboxId: number;
  to: Mailbox;
  uids: number[];
}

const MAX_PER_TRANSFER = 100;

export interface JunkLearnerOptions {
  store: Store;
  logger: FilterLogger;
  rspamd: RspamdClient | null;
  /** Largest message sent to rspamd for learning. */
  maxScanBytes: number;
}

export class JunkLearner {
  private readonly inflight = new Set<Promise<void>>();
  constructor(private readonly o: JunkLearnerOptions) {}

  /** Called after a COPY or MOVE; learns in the background. */
  transferred(t: MailboxTransfer): void {
    const p = this.learn(t).catch((err: unknown) => this.o.logger.warn({ err, accountId: t.accountId }, 'junk learning failed'));
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /** Resolves when the learning started so far has finished. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  async close(): Promise<void> {
    await this.idle();
  }

  private async learn(t: MailboxTransfer): Promise<void> {
    const from = await this.o.store.getMailboxById(t.fromMailboxId);
    if (!from) return;
    const intoJunk = t.to.specialUse === '\\Junk' && from.specialUse !== '\\Junk';
    const outOfJunk = from.specialUse === '\\Junk' && t.to.specialUse !== '\\Junk' && t.to.specialUse !== '\\Trash';
    if (!intoJunk && !outOfJunk) return;
    const verdict = intoJunk ? 'spam' : 'ham';
    const messages = await this.o.store.getMessages(t.to.id, t.uids.slice(0, MAX_PER_TRANSFER));
    for (const m of messages) {
      const raw = await this.o.store.blobs.get(m.blobId);
      const sender = fromAddress(headerFields(raw));
      if (sender) await this.o.store.learnSender(t.accountId, sender, verdict);
      if (this.o.rspamd && raw.length <= this.o.maxScanBytes) {
        const r = await this.o.rspamd.learn(verdict, raw);
        this.o.logger.info({ accountId: t.accountId, verdict, learned: r.learned, reason: r.reason }, 'rspamd trained from a Junk move');
      }
    }
  }
}
