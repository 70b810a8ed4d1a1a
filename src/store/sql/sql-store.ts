// The Store over SQL (Kysely): one implementation for SQLite and PostgreSQL.
// Reads go straight to the database; every write goes through the
// WriteBatcher (group commit, events after commit).

import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { WriteBatcher } from './write-batch.js';
import * as accounts from './accounts.js';
import * as mailboxes from './mailboxes.js';
import * as messages from './messages.js';
import * as queue from './queue.js';
import * as outbound from './outbound.js';
import * as integrity from './integrity.js';
import { createHash } from 'node:crypto';
import { listAudit, writeAudit } from './audit.js';
import { readAccountSnapshot } from './account-snapshot.js';
import { toAccount, toDomain, toMailbox } from './rows.js';
import { NotFound, OverQuota } from '../errors.js';
import type { BlobStore } from '../blobs/blob-store.js';
import type { AccountUpdate, ChangeBus, FlagUpdate, IntegrityCheckOptions, IntegrityProblem, ListMessagesOptions, NewAccount, Store, StoreStats } from '../store.js';
import type { AuditContext, AuditEntry, NewMessage, StoredStructure, NewOutbound, QueueState, SpecialUse, AppendResult } from '../types.js';

/** Blobs unreferenced for less than this are a delivery in flight, not garbage. */
export const DEFAULT_BLOB_GRACE_MS = 24 * 3600_000;

export interface SqlStoreOptions {
  db: Kysely<Database>;
  dialect: 'sqlite' | 'postgres';
  blobs: BlobStore;
  bus: ChangeBus;
  /** Called after the database and blob store are closed. */
  onClose?: () => Promise<void>;
  /** SQLite: a consistent snapshot of the database file (Store.backupMetadata). */
  backupMetadata?: (path: string) => Promise<void>;
  /** Makes committed transactions durable (SQLite: fsync of the WAL). */
  durabilityBarrier?: () => Promise<void>;
}

export class SqlStore implements Store {
  readonly driver: 'sqlite' | 'postgres';
  readonly blobs: BlobStore;
  readonly bus: ChangeBus;
  readonly writes: WriteBatcher;
  private readonly db: Kysely<Database>;
  private readonly onClose: (() => Promise<void>) | undefined;
  private closed = false;
  readonly backupMetadata?: (path: string) => Promise<void>;

  constructor(o: SqlStoreOptions) {
    if (o.backupMetadata) this.backupMetadata = o.backupMetadata;
    this.db = o.db;
    this.driver = o.dialect;
    this.blobs = o.blobs;
    this.bus = o.bus;
    this.onClose = o.onClose;
    this.writes = new WriteBatcher(o.db, o.dialect, (e) => o.bus.publish(e), o.durabilityBarrier);
  }

  // Domains
  createDomain(name: string) {
    return this.writes.run((tx) => accounts.createDomain(tx, name));
  }
  getDomain(name: string) {
    return accounts.getDomain(this.db, name);
  }
  async listDomains() {
    return (await this.db.selectFrom('domains').selectAll().orderBy('name').execute()).map(toDomain);
  }
  async deleteDomain(name: string, audit: AuditContext, options?: { force?: boolean }) {
    await this.writes.run((tx) => accounts.deleteDomain(tx, name, audit, options?.force ?? false));
  }

  // Accounts
  createAccount(account: NewAccount) {
    return this.writes.run((tx) => accounts.createAccount(tx, account));
  }
  getAccount(address: string) {
    return accounts.getAccount(this.db, address);
  }
  getAccountById(id: number) {
    return accounts.getAccountById(this.db, id);
  }
  async listAccounts(domain?: string) {
    let q = this.db.selectFrom('accounts').selectAll('accounts').orderBy('address');
    if (domain !== undefined) {
      const d = await accounts.getDomain(this.db, domain);
      if (!d) throw new NotFound(`domain ${domain} is not hosted here`);
      q = q.where('domain_id', '=', d.id);
    }
    return (await q.execute()).map(toAccount);
  }
  updateAccount(id: number, update: AccountUpdate) {
    return this.writes.run((tx) => accounts.updateAccount(tx, id, update));
  }
  async deleteAccount(id: number, audit: AuditContext) {
    await this.writes.run((tx) => accounts.deleteAccount(tx, id, audit));
  }

  // Aliases
  addAlias(source: string, targets: string[]) {
    return this.writes.run((tx) => accounts.addAlias(tx, source, targets));
  }
  listAliases(domain?: string) {
    return accounts.listAliases(this.db, domain);
  }
  async removeAlias(source: string) {
    await this.writes.run((tx) => accounts.removeAlias(tx, source));
  }
  resolveRecipient(address: string) {
    return accounts.resolveRecipient(this.db, address);
  }

  // Mailboxes
  async listMailboxes(accountId: number) {
    return (await this.db.selectFrom('mailboxes').selectAll().where('account_id', '=', accountId).orderBy('name').execute()).map(toMailbox);
  }
  getMailbox(accountId: number, name: string) {
    return mailboxes.getMailbox(this.db, accountId, name);
  }
  async getMailboxById(mailboxId: number) {
    const row = await this.db.selectFrom('mailboxes').selectAll().where('id', '=', mailboxId).executeTakeFirst();
    return row ? toMailbox(row) : undefined;
  }
  createMailbox(accountId: number, name: string, options?: { specialUse?: SpecialUse | null; subscribed?: boolean }) {
    return this.writes.run((tx, ev) => mailboxes.createMailbox(tx, accountId, name, options?.specialUse ?? null, options?.subscribed ?? true, ev));
  }
  renameMailbox(accountId: number, oldName: string, newName: string) {
    return this.writes.run((tx, ev) => mailboxes.renameMailbox(tx, accountId, oldName, newName, ev));
  }
  async deleteMailbox(accountId: number, name: string, audit: AuditContext) {
    await this.writes.run((tx, ev) => mailboxes.deleteMailbox(tx, accountId, name, audit, ev));
  }
  setSubscribed(accountId: number, name: string, subscribed: boolean) {
    return this.writes.run((tx, ev) => mailboxes.setSubscribed(tx, accountId, name, subscribed, ev));
  }

  // Messages
  appendMessage(mailboxId: number, message: NewMessage) {
    return this.writes.run((tx, ev) => messages.appendMessage(tx, mailboxId, message, ev));
  }
  deliverMessage(targets: number[], message: NewMessage) {
    return this.writes.run(async (tx, ev) => {
      const out: Array<AppendResult | Error> = [];
      for (const mailboxId of targets) {
        try {
          out.push(await messages.appendMessage(tx, mailboxId, message, ev));
        } catch (err) {
          // Both are raised before this target wrote anything, so the others stand.
          if (err instanceof OverQuota || err instanceof NotFound) out.push(err);
          else throw err;
        }
      }
      return out;
    });
  }
  listMessages(mailboxId: number, options: ListMessagesOptions = {}) {
    return messages.listMessages(this.db, mailboxId, options);
  }
  getMessages(mailboxId: number, uids: number[]) {
    return messages.getMessages(this.db, mailboxId, uids);
  }
  updateFlags(mailboxId: number, update: FlagUpdate) {
    return this.writes.run((tx, ev) => messages.updateFlags(tx, mailboxId, update, ev));
  }
  expungeMessages(mailboxId: number, uids: number[], audit?: AuditContext) {
    return this.writes.run((tx, ev) => messages.expungeMessages(tx, mailboxId, uids, audit, ev));
  }
  copyMessages(fromMailboxId: number, uids: number[], toMailboxId: number) {
    return this.writes.run((tx, ev) => messages.copyMessages(tx, fromMailboxId, uids, toMailboxId, ev));
  }
  moveMessages(fromMailboxId: number, uids: number[], toMailboxId: number, audit?: AuditContext) {
    return this.writes.run((tx, ev) => messages.moveMessages(tx, fromMailboxId, uids, toMailboxId, audit, ev));
  }
  updateStructure(mailboxId: number, uid: number, structure: StoredStructure) {
    return this.writes.run((tx) => messages.updateStructure(tx, mailboxId, uid, structure));
  }
  changesSince(mailboxId: number, modseq: number) {
    return messages.changesSince(this.db, mailboxId, modseq);
  }

  // Outbound queue
  enqueueOutbound(message: NewOutbound) {
    return this.writes.run((tx) => queue.enqueueOutbound(tx, message));
  }
  listQueue(options: { state?: QueueState; limit?: number } = {}) {
    return queue.listQueue(this.db, options);
  }
  getQueueEntry(id: number) {
    return outbound.getQueueEntry(this.db, id);
  }
  claimQueueEntries(holder: string, limit: number, leaseMs: number) {
    return this.writes.run((tx) => outbound.claimQueueEntries(tx, holder, limit, leaseMs));
  }
  completeQueueEntry(id: number) {
    return this.writes.run((tx) => outbound.completeQueueEntry(tx, id));
  }
  deferQueueEntry(id: number, error: string, nextAttemptAt: Date) {
    return this.writes.run((tx) => outbound.deferQueueEntry(tx, id, error, nextAttemptAt));
  }
  failQueueEntry(id: number, error: string) {
    return this.writes.run((tx) => outbound.failQueueEntry(tx, id, error));
  }
  retryQueueEntry(id: number) {
    return this.writes.run((tx) => outbound.retryQueueEntry(tx, id));
  }
  async deleteQueueEntry(id: number, audit: AuditContext) {
    await this.writes.run((tx) => outbound.deleteQueueEntry(tx, id, audit));
  }

  // Audit
  async audit(entry: Omit<AuditEntry, 'id' | 'at'>) {
    await this.writes.run((tx) => writeAudit(tx, entry));
  }
  listAudit(options: { accountId?: number; limit?: number; since?: Date } = {}) {
    return listAudit(this.db, options);
  }

  // Leases
  acquireLease(key: string, holder: string, ttlMs: number) {
    return this.writes.run(async (tx) => {
      const now = Date.now();
      await tx
        .insertInto('leases')
        .values({ key, holder, expires_at: now + ttlMs })
        .onConflict((oc) =>
          oc
            .column('key')
            .doUpdateSet({ holder, expires_at: now + ttlMs })
            .where((eb) => eb.or([eb('leases.expires_at', '<', now), eb('leases.holder', '=', holder)])),
        )
        .execute();
      const row = await tx.selectFrom('leases').select('holder').where('key', '=', key).executeTakeFirst();
      return row?.holder === holder;
    });
  }
  renewLease(key: string, holder: string, ttlMs: number) {
    return this.writes.run(async (tx) => {
      const res = await tx.updateTable('leases').set({ expires_at: Date.now() + ttlMs }).where('key', '=', key).where('holder', '=', holder).executeTakeFirst();
      return Number(res.numUpdatedRows) > 0;
    });
  }
  async releaseLease(key: string, holder: string) {
    await this.writes.run((tx) => tx.deleteFrom('leases').where('key', '=', key).where('holder', '=', holder).execute());
  }

  // Maintenance
  async collectGarbage(graceMs: number) {
    const cutoff = new Date(Date.now() - graceMs);
    let examined = 0;
    let removed = 0;
    for await (const blob of this.blobs.list()) {
      examined++;
      if (blob.touchedAt > cutoff) continue;
      const ref = await this.db.selectFrom('messages').select('id').where('blob_id', '=', blob.id).limit(1).executeTakeFirst();
      if (ref) continue;
      const queued = await this.db.selectFrom('queue').select('id').where('blob_id', '=', blob.id).where('state', '=', 'queued').limit(1).executeTakeFirst();
      if (queued) continue;
      await this.blobs.delete(blob.id, cutoff);
      removed++;
    }
    return { examined, removed };
  }
  async stats(): Promise<StoreStats> {
    const n = (r: { n: unknown } | undefined) => Number(r?.n ?? 0);
    const domains = await this.db.selectFrom('domains').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
    const accs = await this.db.selectFrom('accounts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
    const msgs = await this.db
      .selectFrom('mailboxes')
      .select((eb) => [eb.fn.sum('messages').as('n'), eb.fn.sum('bytes').as('b')])
      .executeTakeFirst();
    return { domains: n(domains), accounts: n(accs), messages: n(msgs), bytes: Number(msgs?.b ?? 0) };
  }
  async checkIntegrity(options: IntegrityCheckOptions = {}): Promise<IntegrityProblem[]> {
    const problems = await integrity.checkMetadata(this.db, options.accountId);
    const mode = options.blobs ?? 'exists';
    if (mode === 'none') return problems;
    const refs = await integrity.referencedBlobs(this.db, options.accountId);
    let done = 0;
    for (const ref of refs) {
      const info = await this.blobs.stat(ref.blobId);
      if (!info) {
        problems.push({ kind: 'blob-missing', blobId: ref.blobId, detail: `blob ${ref.blobId} is referenced but missing`, repairable: false });
      } else if (info.size !== ref.size) {
        problems.push({ kind: 'blob-size', blobId: ref.blobId, detail: `blob ${ref.blobId} has ${info.size} bytes; messages say ${ref.size}`, repairable: false });
      } else if (mode === 'hash') {
        const hash = createHash('sha256');
        for await (const chunk of this.blobs.createReadStream(ref.blobId)) hash.update(chunk as Buffer);
        if (hash.digest('hex') !== ref.blobId) {
          problems.push({ kind: 'blob-corrupt', blobId: ref.blobId, detail: `blob ${ref.blobId} does not match its sha256`, repairable: false });
        }
      }
      options.onProgress?.(++done, refs.length);
    }
    if (options.accountId === undefined) {
      const cutoff = Date.now() - (options.blobGraceMs ?? DEFAULT_BLOB_GRACE_MS);
      const referenced = new Set(refs.map((r) => r.blobId));
      for await (const blob of this.blobs.list()) {
        if (!referenced.has(blob.id) && blob.touchedAt.getTime() < cutoff) {
          problems.push({ kind: 'blob-unreferenced', blobId: blob.id, detail: `blob ${blob.id} is referenced by nothing`, repairable: true });
        }
      }
    }
    return problems;
  }
  async repairIntegrity(audit: AuditContext, options: { accountId?: number; blobGraceMs?: number } = {}): Promise<string[]> {
    const actions = await this.writes.run(async (tx) => {
      const done = await integrity.repairMetadata(tx, options.accountId);
      if (done.length > 0) {
        await writeAudit(tx, { ...audit, action: 'store.repair', accountId: options.accountId ?? null, subject: 'metadata', detail: { actions: done } });
      }
      return done;
    });
    if (options.accountId === undefined) {
      const gc = await this.collectGarbage(options.blobGraceMs ?? DEFAULT_BLOB_GRACE_MS);
      if (gc.removed > 0) actions.push(`removed ${gc.removed} unreferenced blob(s)`);
    }
    return actions;
  }
  snapshotAccount(address: string) {
    return readAccountSnapshot(this.db, this.driver, address);
  }
  async ping() {
    await sql`select 1`.execute(this.db);
  }
  async close() {
    if (this.closed) return;
    this.closed = true;
    await this.writes.close();
    await this.bus.close();
    await this.db.destroy();
    await this.blobs.close();
    await this.onClose?.();
  }
}
