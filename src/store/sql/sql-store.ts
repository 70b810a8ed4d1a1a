// The Store over SQL (Kysely): one implementation for SQLite and PostgreSQL.
// Reads go straight to the database; every write goes through the
// WriteBatcher (group commit, events after commit).

import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { WriteBatcher, type Tx } from './write-batch.js';
import * as accounts from './accounts.js';
import * as mailboxes from './mailboxes.js';
import * as messages from './messages.js';
import * as queue from './queue.js';
import * as outbound from './outbound.js';
import * as integrity from './integrity.js';
import * as authFailures from './auth-failures.js';
import * as mtaSts from './mta-sts.js';
import * as filter from './filter.js';
import * as sieve from './sieve.js';
import * as certificates from './certificates.js';
import { createMonitoringStore, type MonitoringStore } from './monitoring.js';
import { createSessionStore, type SessionStore } from './sessions.js';
import * as searchIndex from './search-index.js';
import * as metadata from './metadata.js';
import { createHash } from 'node:crypto';
import { listAudit, writeAudit } from './audit.js';
import type { AuditQuery } from '../store.js';
import { SqlWebmailStore } from './webmail.js';
import { SqlAdminStore } from './admin.js';
import { readAccountSnapshot } from './account-snapshot.js';
import { toAccount, toDomain, toMailbox } from './rows.js';
import { NotFound, OverQuota } from '../errors.js';
import type { BlobStore } from '../blobs/blob-store.js';
import type { AccountUpdate, ChangeBus, FlagUpdate, IntegrityCheckOptions, IntegrityProblem, ListMessagesOptions, NewAccount, Store, StoreStats } from '../store.js';
import type { AuditContext, AuditEntry, NewMessage, StoredStructure, NewOutbound, QueueState, SpecialUse, AppendResult, FilterListKind, GreylistPolicy, AcmeAccount, MtaStsPolicy, SearchText, SearchTextExtractor, TextFilter } from '../types.js';

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
  /** Fills the search index as messages are stored; without it they are indexed later. */
  searchText?: SearchTextExtractor;
}

class TooManyEntries extends Error {}

/** Version of search rows written through indexSearchText without an extractor. */
const NO_EXTRACTOR_VERSION = 0;

export class SqlStore implements Store {
  readonly driver: 'sqlite' | 'postgres';
  readonly blobs: BlobStore;
  readonly bus: ChangeBus;
  readonly writes: WriteBatcher;
  readonly webmail: SqlWebmailStore;
  readonly admin: SqlAdminStore;
  private readonly db: Kysely<Database>;
  private readonly onClose: (() => Promise<void>) | undefined;
  private closed = false;
  private readonly extractor: SearchTextExtractor | undefined;
  readonly backupMetadata?: (path: string) => Promise<void>;
  readonly monitoring: MonitoringStore;
  readonly sessions: SessionStore;

  constructor(o: SqlStoreOptions) {
    if (o.backupMetadata) this.backupMetadata = o.backupMetadata;
    this.db = o.db;
    this.driver = o.dialect;
    this.blobs = o.blobs;
    this.bus = o.bus;
    this.onClose = o.onClose;
    this.extractor = o.searchText;
    this.writes = new WriteBatcher(o.db, o.dialect, (e) => o.bus.publish(e), o.durabilityBarrier);
    this.monitoring = createMonitoringStore(o.db, this.writes);
    this.sessions = createSessionStore(o.db, this.writes);
    this.webmail = new SqlWebmailStore(o.db, this.writes, o.dialect);
    this.admin = new SqlAdminStore(o.db, this.writes);
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
  async appendMessage(mailboxId: number, message: NewMessage) {
    const indexing = await this.indexNew(message);
    const result = await this.writes.run((tx, ev) => messages.appendMessage(tx, this.driver, mailboxId, message, ev));
    await indexing?.done;
    return result;
  }
  async appendMessages(mailboxId: number, list: NewMessage[]) {
    const indexing = [];
    for (const m of list) indexing.push(await this.indexNew(m));
    // One operation: if any append fails, its savepoint (or transaction) takes all of them back.
    const result = await this.writes.run(async (tx, ev) => {
      const out: AppendResult[] = [];
      for (const m of list) out.push(await messages.appendMessage(tx, this.driver, mailboxId, m, ev));
      return out;
    });
    for (const i of indexing) await i?.done;
    return result;
  }
  async deliverMessage(targets: number[], message: NewMessage) {
    const indexing = await this.indexNew(message);
    const result = await this.writes.run(async (tx, ev) => {
      const out: Array<AppendResult | Error> = [];
      for (const mailboxId of targets) {
        try {
          out.push(await messages.appendMessage(tx, this.driver, mailboxId, message, ev));
        } catch (err) {
          // Both are raised before this target wrote anything, so the others stand.
          if (err instanceof OverQuota || err instanceof NotFound) out.push(err);
          else throw err;
        }
      }
      return out;
    });
    await indexing?.done;
    return result;
  }

  /**
   * Queues the search row of a message being stored, just before the message itself,
   * so both share one group commit. Never fails the delivery: a blob it cannot read
   * or index is left to the backlog pass, and SEARCH scans it meanwhile.
   */
  private async indexNew(message: NewMessage): Promise<{ done: Promise<void> } | null> {
    const ex = this.extractor;
    if (!ex) return null;
    let text: SearchText;
    try {
      if (await searchIndex.hasDoc(this.db, message.blobId, ex.version)) return null;
      text = ex.extract(await this.blobs.get(message.blobId), message.structure);
    } catch {
      return null;
    }
    // Wrapped, not awaited: the caller queues the message in this same tick, then awaits it.
    return { done: this.writes.run((tx) => searchIndex.putDoc(tx, this.driver, message.blobId, ex.version, text)).catch(() => undefined) };
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

  async claimRecent(mailboxId: number, claim: boolean) {
    const read = (tx: Tx, lock: boolean) => {
      const q = tx.selectFrom('mailboxes').select(['first_recent_uid', 'uid_next']).where('id', '=', mailboxId);
      // SQLite transactions here are exclusive already; PostgreSQL needs the row lock.
      return (lock && this.driver === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
    };
    const range = (row: { first_recent_uid: number; uid_next: number } | undefined) => {
      if (!row) throw new NotFound(`mailbox ${mailboxId} does not exist`);
      return { from: Math.max(1, Number(row.first_recent_uid)), to: Number(row.uid_next) - 1 };
    };
    if (!claim) return range(await read(this.db, false));
    // Most SELECTs find nothing new to claim: answer those with one read, without a
    // write transaction and its WAL fsync. Nothing is claimable when no message exists
    // in the range (its UIDs were expunged, or it is empty); UIDs are never reused, so a
    // message appended after this read has a UID of uid_next or more and stays for the
    // next claim. The answer is then what a claim after everyone else's would get.
    const peek = await this.db
      .selectFrom('mailboxes')
      .select((eb) => [
        'first_recent_uid',
        'uid_next',
        eb
          .exists(eb.selectFrom('messages').select('messages.uid').whereRef('messages.mailbox_id', '=', 'mailboxes.id').whereRef('messages.uid', '>=', 'mailboxes.first_recent_uid').whereRef('messages.uid', '<', 'mailboxes.uid_next'))
          .as('pending'),
      ])
      .where('id', '=', mailboxId)
      .executeTakeFirst();
    if (!peek) throw new NotFound(`mailbox ${mailboxId} does not exist`);
    if (peek.pending !== true && Number(peek.pending) !== 1) return { from: Number(peek.uid_next), to: Number(peek.uid_next) - 1 };
    return this.writes.run(async (tx) => {
      const r = range(await read(tx, true));
      if (r.from <= r.to) await tx.updateTable('mailboxes').set({ first_recent_uid: r.to + 1 }).where('id', '=', mailboxId).execute();
      return r;
    });
  }

  getMetadata(accountId: number, mailboxId: number | null, names: string[], depth: '0' | '1' | 'infinity') {
    return metadata.getMetadata(this.db, accountId, mailboxId, names, depth);
  }
  async setMetadata(accountId: number, mailboxId: number | null, entries: Array<{ name: string; value: Buffer | null }>, maxEntries: number) {
    try {
      await this.writes.run(async (tx, events) => {
        // Thrown to roll the changes back.
        if (!(await metadata.setMetadata(tx, accountId, mailboxId, entries, maxEntries))) throw new TooManyEntries();
        const mailbox = mailboxId === null ? '' : ((await tx.selectFrom('mailboxes').select('name').where('id', '=', mailboxId).executeTakeFirst())?.name ?? '');
        events.push({ accountId, kind: 'metadata', mailbox, entries: entries.map((e) => e.name) });
      });
      return true;
    } catch (err) {
      if (err instanceof TooManyEntries) return false;
      throw err;
    }
  }

  // Search index
  private get searchVersion(): number {
    return this.extractor?.version ?? NO_EXTRACTOR_VERSION;
  }
  async searchText(mailboxId: number, filter: TextFilter) {
    if (!searchIndex.filterIsIndexable(filter)) {
      // Needles the index cannot hold: everything is the caller's to check.
      const all = await messages.listMessages(this.db, mailboxId, { withoutStructure: true });
      return { matched: [], unindexed: all.map((m) => m.uid) };
    }
    return searchIndex.searchText(this.db, this.driver, mailboxId, this.searchVersion, filter);
  }
  async indexSearchText(blobId: string, text: SearchText) {
    await this.writes.run((tx) => searchIndex.putDoc(tx, this.driver, blobId, this.searchVersion, text));
  }
  async indexSearchBacklog(afterId: number, limit: number) {
    const ex = this.extractor;
    if (!ex) return { indexed: 0, next: null };
    const rows = await searchIndex.backlog(this.db, ex.version, afterId, limit);
    const docs = new Map<string, SearchText>();
    for (const r of rows) {
      if (docs.has(r.blobId)) continue;
      try {
        docs.set(r.blobId, ex.extract(await this.blobs.get(r.blobId), JSON.parse(r.structure) as StoredStructure));
      } catch {
        // A missing or unreadable blob is `steadymail check`'s to report; SEARCH scans it.
      }
    }
    if (docs.size > 0) {
      await this.writes.run(async (tx) => {
        for (const [blobId, text] of docs) await searchIndex.putDoc(tx, this.driver, blobId, ex.version, text);
      });
    }
    return { indexed: docs.size, next: rows.length < limit ? null : rows[rows.length - 1]!.id };
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

  // Inbound filter
  greylist(triplet: string, policy: GreylistPolicy, now = Date.now()) {
    return this.writes.run((tx) => filter.greylist(tx, triplet, policy, now));
  }
  greylistPass(triplet: string, now = Date.now()) {
    return this.writes.run((tx) => filter.greylistPass(tx, triplet, now));
  }
  pruneGreylist(before: Date) {
    return this.writes.run((tx) => filter.pruneGreylist(tx, before.getTime()));
  }
  getFilterSettings(accountId: number) {
    return filter.getFilterSettings(this.db, accountId);
  }
  setJunkScore(accountId: number, score: number | null) {
    return this.writes.run((tx) => filter.setJunkScore(tx, accountId, score));
  }
  setFilterListEntry(accountId: number, kind: FilterListKind, pattern: string, present: boolean) {
    return this.writes.run((tx) => filter.setFilterListEntry(tx, accountId, kind, pattern, present));
  }
  learnSender(accountId: number, sender: string, verdict: 'spam' | 'ham') {
    return this.writes.run((tx) => filter.learnSender(tx, accountId, sender, verdict));
  }
  senderReputation(accountId: number, sender: string) {
    return filter.senderReputation(this.db, accountId, sender);
  }

  // Audit
  // Sieve
  listSieveScripts(accountId: number) {
    return sieve.listScripts(this.db, accountId);
  }
  getSieveScript(accountId: number, name: string) {
    return sieve.getScript(this.db, accountId, name);
  }
  getActiveSieveScript(accountId: number) {
    return sieve.getActiveScript(this.db, accountId);
  }
  async putSieveScript(accountId: number, name: string, content: string) {
    await this.writes.run((tx) => sieve.putScript(tx, accountId, name, content));
  }
  async renameSieveScript(accountId: number, oldName: string, newName: string) {
    await this.writes.run((tx) => sieve.renameScript(tx, accountId, oldName, newName));
  }
  async deleteSieveScript(accountId: number, name: string) {
    await this.writes.run((tx) => sieve.deleteScript(tx, accountId, name));
  }
  async activateSieveScript(accountId: number, name: string | null) {
    await this.writes.run((tx) => sieve.activateScript(tx, accountId, name));
  }
  recordAutoReply(accountId: number, handle: string, sender: string, periodMs: number) {
    return this.writes.run((tx) => sieve.recordAutoReply(tx, accountId, handle, sender, periodMs));
  }

  async audit(entry: Omit<AuditEntry, 'id' | 'at'>) {
    await this.writes.run((tx) => writeAudit(tx, entry));
  }
  listAudit(options: AuditQuery = {}) {
    return listAudit(this.db, options);
  }

  // TLS certificates from ACME
  getAcmeAccount(directoryUrl: string) {
    return certificates.getAcmeAccount(this.db, directoryUrl);
  }
  saveAcmeAccount(account: AcmeAccount) {
    return this.writes.run((tx) => certificates.saveAcmeAccount(tx, account));
  }
  listTlsCertificates() {
    return certificates.listTlsCertificates(this.db);
  }
  getTlsCertificate(name: string) {
    return certificates.getTlsCertificate(this.db, name);
  }
  async saveTlsCertificate(name: string, certPem: string, keyPem: string, notAfter: Date) {
    await this.writes.run((tx) => certificates.saveTlsCertificate(tx, name, certPem, keyPem, notAfter));
  }
  recordTlsCertificateFailure(name: string, error: string, nextAttemptAt: Date) {
    return this.writes.run((tx) => certificates.recordTlsCertificateFailure(tx, name, error, nextAttemptAt));
  }
  async putAcmeChallenge(token: string, keyAuthorization: string, name: string, expiresAt: Date) {
    await this.writes.run((tx) => certificates.putAcmeChallenge(tx, token, keyAuthorization, name, expiresAt));
  }
  getAcmeChallenge(token: string) {
    return certificates.getAcmeChallenge(this.db, token);
  }
  async deleteAcmeChallenge(token: string) {
    await this.writes.run((tx) => certificates.deleteAcmeChallenge(tx, token));
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

  // Failed-login counters
  recordAuthFailures(keys: string[], windowMs: number) {
    if (keys.length === 0) return Promise.resolve([]);
    return this.writes.run((tx) => authFailures.recordFailures(tx, keys, windowMs, Date.now()));
  }
  countAuthFailures(keys: string[], windowMs: number) {
    return authFailures.countFailures(this.db, keys, windowMs, Date.now());
  }
  async clearAuthFailures(keys: string[]) {
    if (keys.length === 0) return;
    await this.writes.run((tx) => authFailures.clearFailures(tx, keys));
  }
  pruneAuthFailures(windowMs: number) {
    return this.writes.run((tx) => authFailures.pruneFailures(tx, windowMs, Date.now()));
  }

  // MTA-STS policy cache
  getMtaStsPolicy(domain: string) {
    return mtaSts.getPolicy(this.db, domain);
  }
  async putMtaStsPolicy(policy: MtaStsPolicy) {
    await this.writes.run((tx) => mtaSts.putPolicy(tx, policy));
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
      const uploaded = await this.db.selectFrom('webmail_uploads').select('id').where('blob_id', '=', blob.id).limit(1).executeTakeFirst();
      if (uploaded) continue;
      await this.blobs.delete(blob.id, cutoff);
      // If the blob was delivered again meanwhile, its message is searched by scan until re-indexed.
      await this.writes.run((tx) => searchIndex.deleteDoc(tx, this.driver, blob.id));
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
    if (options.accountId === undefined) problems.push(...(await searchIndex.checkIndex(this.db, this.driver)));
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
      if (options.accountId === undefined) done.push(...(await searchIndex.repairIndex(tx, this.driver)));
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
