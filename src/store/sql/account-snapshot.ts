// One account's metadata read in one transaction (one snapshot: SQLite WAL read
// transaction, PostgreSQL REPEATABLE READ), for a single-account backup while the
// server keeps running: a message moved between two mailboxes meanwhile is in exactly
// one of them.

import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { toAccount, toMailbox, toMessage } from './rows.js';
import type { AccountSnapshot } from '../store.js';

export async function readAccountSnapshot(db: Kysely<Database>, dialect: 'sqlite' | 'postgres', address: string): Promise<AccountSnapshot | undefined> {
  let tx = db.transaction();
  if (dialect === 'postgres') tx = tx.setIsolationLevel('repeatable read');
  return tx.execute(async (trx) => {
    const row = await trx.selectFrom('accounts').selectAll().where('address', '=', address).executeTakeFirst();
    if (!row) return undefined;
    const boxes = await trx.selectFrom('mailboxes').selectAll().where('account_id', '=', row.id).orderBy('name').execute();
    const mailboxes: AccountSnapshot['mailboxes'] = [];
    for (const b of boxes) {
      const rows = await trx
        .selectFrom('messages')
        .select(['mailbox_id', 'uid', 'message_id', 'modseq', 'flags', 'keywords', 'internal_date', 'size', 'blob_id'])
        .where('mailbox_id', '=', b.id)
        .orderBy('uid')
        .execute();
      mailboxes.push({
        mailbox: toMailbox(b),
        firstRecentUid: Number(b.first_recent_uid),
        messages: rows.map((r) => {
          const { structure: _, ...meta } = toMessage(r);
          return meta;
        }),
      });
    }
    return { account: toAccount(row), mailboxes };
  });
}
