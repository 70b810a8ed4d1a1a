// SQL for the webmail API (see ../webmail.ts). Reads go straight to the database;
// writes run through the store's WriteBatcher like every other write.

import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { Database } from './schema.js';
import type { WriteBatcher } from './write-batch.js';
import { SEEN_BIT, FLAG_BITS, toMessage } from './rows.js';
import type { MessageMeta } from '../types.js';
import type {
  MessageFilter,
  MessagePageQuery,
  NewWebmailSession,
  ThreadHeaders,
  WebmailRecipient,
  WebmailSession,
  WebmailSettings,
  WebmailStore,
  WebmailUpload,
} from '../webmail.js';

type Dialect = 'sqlite' | 'postgres';

/** The cached structure's sort key, lower-cased; the migration indexes exactly this expression. */
export function sortKeyExpression(dialect: Dialect, key: 'from' | 'subject'): RawBuilder<string> {
  const field = key === 'from' ? 'displayFrom' : 'subject';
  return dialect === 'sqlite'
    ? sql<string>`lower(json_extract(structure, ${sql.lit(`$.sort.${field}`)}))`
    : sql<string>`lower(((structure::jsonb) -> 'sort') ->> ${sql.lit(field)})`;
}

const COLUMNS = ['mailbox_id', 'uid', 'message_id', 'modseq', 'flags', 'keywords', 'internal_date', 'size', 'blob_id', 'structure'] as const;
const FLAGGED_BIT = FLAG_BITS['\\Flagged'];
/** A header search counts at most this many matches (the total is then "at least"). */
export const FILTER_MAX_MATCHES = 10_000;

/** Where threadHeaders finds its values in a cached structure (mime/types MessageIndex). */
const THREAD_PATHS = [['version'], ['sort', 'subject'], ['sort', 'from'], ['decoded', 'messageId'], ['decoded', 'inReplyTo'], ['decoded', 'references']] as const;

interface ThreadRow {
  uid: number | string;
  internal_date: number | string;
  size: number | string;
  h: string;
}

function likePattern(s: string): string {
  return `%${s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export class SqlWebmailStore implements WebmailStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly writes: WriteBatcher,
    private readonly dialect: Dialect,
  ) {}

  // Sessions
  async createSession(s: NewWebmailSession): Promise<WebmailSession> {
    const now = Date.now();
    const row = await this.writes.run((tx) =>
      tx
        .insertInto('webmail_sessions')
        .values({
          token_hash: s.tokenHash,
          public_id: s.publicId,
          account_id: s.accountId,
          csrf_token: s.csrfToken,
          created_at: now,
          last_seen_at: now,
          expires_at: s.expiresAt.getTime(),
          remote_address: s.remoteAddress,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    return toSession(row);
  }
  async getSession(tokenHash: string) {
    const row = await this.db.selectFrom('webmail_sessions').selectAll().where('token_hash', '=', tokenHash).where('expires_at', '>', Date.now()).executeTakeFirst();
    return row ? toSession(row) : undefined;
  }
  async getSessionByPublicId(publicId: string) {
    const row = await this.db.selectFrom('webmail_sessions').selectAll().where('public_id', '=', publicId).where('expires_at', '>', Date.now()).executeTakeFirst();
    return row ? toSession(row) : undefined;
  }
  async touchSession(id: number, expiresAt: Date) {
    await this.writes.run((tx) => tx.updateTable('webmail_sessions').set({ last_seen_at: Date.now(), expires_at: expiresAt.getTime() }).where('id', '=', id).execute());
  }
  async deleteSession(id: number) {
    await this.writes.run((tx) => tx.deleteFrom('webmail_sessions').where('id', '=', id).execute());
  }
  async deleteSessionsOf(accountId: number, keepId?: number) {
    return this.writes.run(async (tx) => {
      let q = tx.deleteFrom('webmail_sessions').where('account_id', '=', accountId);
      if (keepId !== undefined) q = q.where('id', '!=', keepId);
      return Number((await q.executeTakeFirst()).numDeletedRows);
    });
  }
  async deleteExpiredSessions() {
    return this.writes.run(async (tx) => Number((await tx.deleteFrom('webmail_sessions').where('expires_at', '<=', Date.now()).executeTakeFirst()).numDeletedRows));
  }

  // Settings
  async getSettings(accountId: number): Promise<WebmailSettings> {
    const row = await this.db.selectFrom('webmail_settings').selectAll().where('account_id', '=', accountId).executeTakeFirst();
    return { displayName: row?.display_name ?? '', signature: row?.signature ?? '' };
  }
  async putSettings(accountId: number, settings: Partial<WebmailSettings>): Promise<WebmailSettings> {
    return this.writes.run(async (tx) => {
      const row = await tx.selectFrom('webmail_settings').selectAll().where('account_id', '=', accountId).executeTakeFirst();
      const next = { displayName: settings.displayName ?? row?.display_name ?? '', signature: settings.signature ?? row?.signature ?? '' };
      const values = { display_name: next.displayName, signature: next.signature, updated_at: Date.now() };
      await tx
        .insertInto('webmail_settings')
        .values({ account_id: accountId, ...values })
        .onConflict((oc) => oc.column('account_id').doUpdateSet(values))
        .execute();
      return next;
    });
  }

  // Past recipients
  async recordRecipients(accountId: number, recipients: Array<{ address: string; name: string }>) {
    if (recipients.length === 0) return;
    const now = Date.now();
    await this.writes.run(async (tx) => {
      for (const r of recipients) {
        const address = r.address.toLowerCase();
        await tx
          .insertInto('webmail_recipients')
          .values({ account_id: accountId, address, name: r.name, uses: 1, last_used_at: now })
          .onConflict((oc) =>
            oc.columns(['account_id', 'address']).doUpdateSet({
              uses: sql<number>`webmail_recipients.uses + 1`,
              last_used_at: now,
              ...(r.name !== '' ? { name: r.name } : {}),
            }),
          )
          .execute();
      }
    });
  }
  async suggestRecipients(accountId: number, prefix: string, limit: number): Promise<WebmailRecipient[]> {
    const p = prefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
    const rows = await this.db
      .selectFrom('webmail_recipients')
      .select(['address', 'name', 'uses'])
      .where('account_id', '=', accountId)
      .where((eb) =>
        eb.or([
          eb(sql`address`, 'like', sql`${p + '%'} escape '\\'`),
          eb(sql`lower(name)`, 'like', sql`${p + '%'} escape '\\'`),
          eb(sql`lower(name)`, 'like', sql`${'% ' + p + '%'} escape '\\'`),
        ]),
      )
      .orderBy('uses', 'desc')
      .orderBy('last_used_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ address: r.address, name: r.name, uses: Number(r.uses) }));
  }

  // Uploads
  async addUpload(u: WebmailUpload) {
    await this.writes.run((tx) =>
      tx
        .insertInto('webmail_uploads')
        .values({ id: u.id, account_id: u.accountId, blob_id: u.blobId, filename: u.filename, content_type: u.contentType, size: u.size, created_at: u.createdAt.getTime() })
        .execute(),
    );
  }
  async getUpload(accountId: number, id: string): Promise<WebmailUpload | undefined> {
    const r = await this.db.selectFrom('webmail_uploads').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
    return r
      ? { id: r.id, accountId: Number(r.account_id), blobId: r.blob_id, filename: r.filename, contentType: r.content_type, size: Number(r.size), createdAt: new Date(Number(r.created_at)) }
      : undefined;
  }
  async deleteUpload(accountId: number, id: string) {
    await this.writes.run((tx) => tx.deleteFrom('webmail_uploads').where('id', '=', id).where('account_id', '=', accountId).execute());
  }
  async deleteUploadsBefore(before: Date) {
    return this.writes.run(async (tx) => Number((await tx.deleteFrom('webmail_uploads').where('created_at', '<', before.getTime()).executeTakeFirst()).numDeletedRows));
  }

  // Message queries
  //
  // Pages are read in two steps: the ids of the page from the index alone (the sort
  // key, then the row id, which every index carries, so no sort and no table rows for
  // the skipped part), then those rows. An offset deep into a large mailbox thus costs
  // an index walk, not the reading of every row before it.

  private async rowsById(ids: number[]): Promise<MessageMeta[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('messages').select([...COLUMNS, 'id']).where('id', 'in', ids).execute();
    const byId = new Map(rows.map((r) => [Number(r.id), r]));
    return ids.flatMap((id) => {
      const r = byId.get(id);
      return r ? [toMessage(r)] : [];
    });
  }

  async pageMessages(mailboxId: number, q: MessagePageQuery) {
    const dir = q.descending ? 'desc' : 'asc';
    const order: Expression<unknown> =
      q.sort === 'date' ? sql`internal_date` : q.sort === 'size' ? sql`size` : sortKeyExpression(this.dialect, q.sort);
    let query = this.db.selectFrom('messages').where('mailbox_id', '=', mailboxId);
    if (q.unread) query = query.where(sql<SqlBool>`(flags & ${SEEN_BIT}) = 0`);
    if (q.flagged) query = query.where(sql<SqlBool>`(flags & ${FLAGGED_BIT}) <> 0`);
    const ids = await query.select('id').orderBy(order, dir).orderBy('id', dir).limit(q.limit).offset(q.offset).execute();
    const messages = await this.rowsById(ids.map((r) => Number(r.id)));
    let total: number;
    if (!q.flagged) {
      // The mailbox's counters are kept by every write: no count over the rows.
      const box = await this.db.selectFrom('mailboxes').select(['messages', 'unseen']).where('id', '=', mailboxId).executeTakeFirst();
      total = Number((q.unread ? box?.unseen : box?.messages) ?? 0);
    } else {
      const c = await query.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
      total = Number(c?.n ?? 0);
    }
    return { messages, total };
  }

  async threadHeaders(mailboxId: number, only: { unread?: boolean; flagged?: boolean } = {}): Promise<ThreadHeaders[]> {
    // The structure is parsed once per row inside the database, and only six small
    // values come back (as one JSON array, in the order of THREAD_PATHS).
    const where = sql.join(
      [
        sql`mailbox_id = ${mailboxId}`,
        ...(only.unread ? [sql`(flags & ${SEEN_BIT}) = 0`] : []),
        ...(only.flagged ? [sql`(flags & ${FLAGGED_BIT}) <> 0`] : []),
      ],
      sql` and `,
    );
    const query =
      this.dialect === 'sqlite'
        ? sql<ThreadRow>`select uid, internal_date, size, json_extract(structure, ${sql.join(THREAD_PATHS.map((p) => sql.lit('$.' + p.join('.'))))}) as h
            from messages where ${where} order by uid`
        : sql<ThreadRow>`select uid, internal_date, size, jsonb_build_array(${sql.join(THREAD_PATHS.map((p) => sql`s #> ${sql.lit('{' + p.join(',') + '}')}`))})::text as h
            from (select uid, internal_date, size, structure::jsonb as s from messages where ${where} offset 0) m order by uid`;
    const rows = (await query.execute(this.db)).rows;
    return rows.map((r) => {
      const h: unknown = JSON.parse(r.h);
      const [version, subject, from, messageId, inReplyTo, references] = Array.isArray(h) ? (h as unknown[]) : [];
      return {
        uid: Number(r.uid),
        indexVersion: typeof version === 'number' ? version : null,
        internalDate: Number(r.internal_date),
        size: Number(r.size),
        subject: typeof subject === 'string' ? subject : '',
        from: typeof from === 'string' ? from : '',
        messageId: typeof messageId === 'string' ? messageId : null,
        inReplyTo: typeof inReplyTo === 'string' ? inReplyTo : null,
        references: Array.isArray(references) ? references.filter((x): x is string => typeof x === 'string') : [],
      };
    });
  }

  private filtered(mailboxIds: number[], f: MessageFilter) {
    let q = this.db.selectFrom('messages').where('mailbox_id', 'in', mailboxIds.length > 0 ? mailboxIds : [-1]);
    if (f.after) q = q.where('internal_date', '>=', f.after.getTime());
    if (f.before) q = q.where('internal_date', '<', f.before.getTime());
    if (f.unread) q = q.where(sql<SqlBool>`(flags & ${SEEN_BIT}) = 0`);
    if (f.flagged) q = q.where(sql<SqlBool>`(flags & ${FLAGGED_BIT}) <> 0`);
    if (f.hasAttachment !== undefined) q = q.where(this.hasAttachments(f.hasAttachment));
    // Each text criterion first as a plain substring of the stored structure's JSON text
    // (cheap), and only then exactly on the decoded field (parses the JSON).
    for (const needle of [f.subject, f.from, f.to, f.headerText]) {
      const pre = needle === undefined ? null : this.structurePrefilter(needle);
      if (pre) q = q.where(pre);
    }
    if (f.subject) q = q.where(this.textLike('subject', f.subject));
    if (f.from) q = q.where(this.addressLike('from', f.from));
    if (f.to) q = q.where((eb) => eb.or([this.addressLike('to', f.to!), this.addressLike('cc', f.to!)]));
    if (f.headerText) {
      const t = f.headerText;
      q = q.where((eb) => eb.or([this.textLike('subject', t), this.addressLike('from', t), this.addressLike('to', t), this.addressLike('cc', t)]));
    }
    return q;
  }

  /**
   * A necessary condition for a header match: the needle appears in the structure's JSON
   * text. JSON keeps every character but `"`, `\` and controls as it is; for needles with
   * those there is no prefilter. Case-insensitive as the exact match is (SQLite LIKE: ASCII).
   */
  private structurePrefilter(needle: string): RawBuilder<SqlBool> | null {
    // eslint-disable-next-line no-control-regex
    if (needle === '' || /["\\\x00-\x1f]/.test(needle)) return null;
    const p = likePattern(needle);
    return this.dialect === 'sqlite' ? sql<SqlBool>`structure like ${p} escape '\\'` : sql<SqlBool>`structure ilike ${p} escape '\\'`;
  }

  async filterMessages(mailboxIds: number[], f: MessageFilter, offset: number, limit: number, maxMatches = FILTER_MAX_MATCHES) {
    // One pass over the matches (ids only, newest first), at most maxMatches of them.
    const ids = await this.filtered(mailboxIds, f).select('id').orderBy('internal_date', 'desc').orderBy('id', 'desc').limit(maxMatches).execute();
    const page = ids.slice(offset, offset + limit).map((r) => Number(r.id));
    return { messages: await this.rowsById(page), total: ids.length };
  }

  async *scanMessages(mailboxIds: number[], f: MessageFilter, batchSize: number): AsyncIterable<MessageMeta[]> {
    // Keyset paging on (internal_date, id) so each batch is an indexed range read.
    let after: { date: number; id: number } | null = null;
    for (;;) {
      let q = this.filtered(mailboxIds, f);
      if (after) {
        const a: { date: number; id: number } = after;
        q = q.where((eb) => eb.or([eb('internal_date', '<', a.date), eb.and([eb('internal_date', '=', a.date), eb('id', '<', a.id)])]));
      }
      const rows = await q.select([...COLUMNS, 'id']).orderBy('internal_date', 'desc').orderBy('id', 'desc').limit(batchSize).execute();
      if (rows.length === 0) return;
      const last = rows[rows.length - 1]!;
      after = { date: Number(last.internal_date), id: Number(last.id) };
      yield rows.map((r) => toMessage(r));
      if (rows.length < batchSize) return;
    }
  }

  private json(path: string[]): RawBuilder<unknown> {
    return this.dialect === 'sqlite'
      ? sql`json_extract(structure, ${sql.lit('$.' + path.join('.'))})`
      : sql`((structure::jsonb) #>> ${sql.lit('{' + path.join(',') + '}')})`;
  }

  private hasAttachments(value: boolean): RawBuilder<SqlBool> {
    return this.dialect === 'sqlite'
      ? sql<SqlBool>`coalesce(json_extract(structure, '$.hasAttachments'), 0) = ${value ? 1 : 0}`
      : sql<SqlBool>`coalesce(((structure::jsonb) ->> 'hasAttachments')::boolean, false) = ${value}`;
  }

  private textLike(field: 'subject', needle: string): RawBuilder<SqlBool> {
    return sql<SqlBool>`lower(coalesce(${this.json(['decoded', field])}, '')) like ${likePattern(needle)} escape '\\'`;
  }

  private addressLike(field: 'from' | 'to' | 'cc', needle: string): RawBuilder<SqlBool> {
    const p = likePattern(needle);
    return this.dialect === 'sqlite'
      ? sql<SqlBool>`exists (select 1 from json_each(structure, ${sql.lit('$.decoded.' + field)}) e
          where lower(coalesce(json_extract(e.value, '$.name'), '')) like ${p} escape '\\'
             or lower(coalesce(json_extract(e.value, '$.address'), '')) like ${p} escape '\\')`
      : sql<SqlBool>`exists (select 1 from jsonb_array_elements(coalesce((structure::jsonb) #> ${sql.lit('{decoded,' + field + '}')}, '[]'::jsonb)) e
          where lower(coalesce(e ->> 'name', '')) like ${p} escape '\\'
             or lower(coalesce(e ->> 'address', '')) like ${p} escape '\\')`;
  }
}

function toSession(r: {
  id: number;
  public_id: string;
  account_id: number;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  remote_address: string;
}): WebmailSession {
  return {
    id: Number(r.id),
    publicId: r.public_id,
    accountId: Number(r.account_id),
    csrfToken: r.csrf_token,
    createdAt: new Date(Number(r.created_at)),
    lastSeenAt: new Date(Number(r.last_seen_at)),
    expiresAt: new Date(Number(r.expires_at)),
    remoteAddress: r.remote_address,
  };
}
