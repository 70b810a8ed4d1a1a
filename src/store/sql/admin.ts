// SQL for the operator console (see ../admin.ts). Reads go straight to the database;
// writes run through the store's WriteBatcher like every other write.

import type { Kysely, Selectable } from 'kysely';
import type { AdminAccountsTable, AdminSessionsTable, AdminTokensTable, Database } from './schema.js';
import type { WriteBatcher } from './write-batch.js';
import { AlreadyExists, InvalidInput, NotFound } from '../errors.js';
import type { AdminAccount, AdminSession, AdminStore, AdminToken, HourlyTraffic, NewAdminSession, TrafficCounts } from '../admin.js';

/** A token's last use is written at most this often (not on every request). */
const TOKEN_TOUCH_MS = 60_000;
const ADMIN_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function toAdmin(r: Selectable<AdminAccountsTable>): AdminAccount {
  return { id: Number(r.id), name: r.name, passwordHash: r.password_hash, createdAt: new Date(Number(r.created_at)) };
}

function toToken(r: Selectable<AdminTokensTable>): AdminToken {
  return {
    id: r.id,
    label: r.label,
    createdBy: r.created_by,
    createdAt: new Date(Number(r.created_at)),
    lastUsedAt: r.last_used_at === null ? null : new Date(Number(r.last_used_at)),
    revokedAt: r.revoked_at === null ? null : new Date(Number(r.revoked_at)),
  };
}

function toSession(r: Selectable<AdminSessionsTable>): AdminSession {
  return {
    id: Number(r.id),
    adminId: Number(r.admin_id),
    csrfToken: r.csrf_token,
    createdAt: new Date(Number(r.created_at)),
    expiresAt: new Date(Number(r.expires_at)),
    remoteAddress: r.remote_address,
  };
}

/** Admin names: lower-case letters, digits, `.`, `_`, `-`; at most 64. */
export function normalizeAdminName(name: string): string {
  const n = name.trim().toLowerCase();
  if (!ADMIN_NAME.test(n)) throw new InvalidInput(`invalid admin name ${JSON.stringify(name)}: use letters, digits, '.', '_' or '-' (at most 64)`);
  return n;
}

export class SqlAdminStore implements AdminStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly writes: WriteBatcher,
  ) {}

  async createAdmin(name: string, passwordHash: string): Promise<AdminAccount> {
    const n = normalizeAdminName(name);
    const row = await this.writes.run(async (tx) => {
      if (await tx.selectFrom('admin_accounts').select('id').where('name', '=', n).executeTakeFirst()) throw new AlreadyExists(`admin ${n} already exists`);
      return tx.insertInto('admin_accounts').values({ name: n, password_hash: passwordHash, created_at: Date.now() }).returningAll().executeTakeFirstOrThrow();
    });
    return toAdmin(row);
  }

  async getAdmin(name: string): Promise<AdminAccount | undefined> {
    const row = await this.db.selectFrom('admin_accounts').selectAll().where('name', '=', name.trim().toLowerCase()).executeTakeFirst();
    return row && toAdmin(row);
  }

  async getAdminById(id: number): Promise<AdminAccount | undefined> {
    const row = await this.db.selectFrom('admin_accounts').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toAdmin(row);
  }

  async listAdmins(): Promise<AdminAccount[]> {
    return (await this.db.selectFrom('admin_accounts').selectAll().orderBy('name').execute()).map(toAdmin);
  }

  async setAdminPassword(name: string, passwordHash: string): Promise<void> {
    const n = name.trim().toLowerCase();
    await this.writes.run(async (tx) => {
      const admin = await tx.selectFrom('admin_accounts').select('id').where('name', '=', n).executeTakeFirst();
      if (!admin) throw new NotFound(`admin ${n} does not exist`);
      await tx.updateTable('admin_accounts').set({ password_hash: passwordHash }).where('id', '=', admin.id).execute();
      // A new password ends every session signed in with the old one.
      await tx.deleteFrom('admin_sessions').where('admin_id', '=', admin.id).execute();
    });
  }

  async deleteAdmin(name: string): Promise<void> {
    const n = name.trim().toLowerCase();
    await this.writes.run(async (tx) => {
      const admin = await tx.selectFrom('admin_accounts').select('id').where('name', '=', n).executeTakeFirst();
      if (!admin) throw new NotFound(`admin ${n} does not exist`);
      await tx.deleteFrom('admin_sessions').where('admin_id', '=', admin.id).execute();
      await tx.deleteFrom('admin_accounts').where('id', '=', admin.id).execute();
    });
  }

  async createToken(t: { id: string; label: string; tokenHash: string; createdBy: string }): Promise<AdminToken> {
    const row = await this.writes.run(async (tx) => {
      if (await tx.selectFrom('admin_tokens').select('id').where('id', '=', t.id).executeTakeFirst()) throw new AlreadyExists(`token ${t.id} already exists`);
      return tx
        .insertInto('admin_tokens')
        .values({ id: t.id, label: t.label, token_hash: t.tokenHash, created_by: t.createdBy, created_at: Date.now(), last_used_at: null, revoked_at: null })
        .returningAll()
        .executeTakeFirstOrThrow();
    });
    return toToken(row);
  }

  async listTokens(): Promise<AdminToken[]> {
    return (await this.db.selectFrom('admin_tokens').selectAll().orderBy('created_at').orderBy('id').execute()).map(toToken);
  }

  async useToken(id: string, tokenHash: string): Promise<AdminToken | undefined> {
    const row = await this.db.selectFrom('admin_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || row.revoked_at !== null || row.token_hash !== tokenHash) return undefined;
    const now = Date.now();
    if (row.last_used_at === null || now - Number(row.last_used_at) > TOKEN_TOUCH_MS) {
      await this.writes.run((tx) => tx.updateTable('admin_tokens').set({ last_used_at: now }).where('id', '=', id).execute());
      row.last_used_at = now;
    }
    return toToken(row);
  }

  async revokeToken(id: string): Promise<AdminToken> {
    const row = await this.writes.run(async (tx) => {
      const found = await tx.selectFrom('admin_tokens').selectAll().where('id', '=', id).executeTakeFirst();
      if (!found) throw new NotFound(`token ${id} does not exist`);
      if (found.revoked_at !== null) return found;
      return tx.updateTable('admin_tokens').set({ revoked_at: Date.now() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    });
    return toToken(row);
  }

  async createSession(s: NewAdminSession): Promise<AdminSession> {
    const row = await this.writes.run((tx) =>
      tx
        .insertInto('admin_sessions')
        .values({ token_hash: s.tokenHash, admin_id: s.adminId, csrf_token: s.csrfToken, created_at: Date.now(), expires_at: s.expiresAt.getTime(), remote_address: s.remoteAddress })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    return toSession(row);
  }

  async getSession(tokenHash: string): Promise<AdminSession | undefined> {
    const row = await this.db.selectFrom('admin_sessions').selectAll().where('token_hash', '=', tokenHash).where('expires_at', '>', Date.now()).executeTakeFirst();
    return row && toSession(row);
  }

  async deleteSession(id: number): Promise<void> {
    await this.writes.run((tx) => tx.deleteFrom('admin_sessions').where('id', '=', id).execute());
  }

  async deleteExpiredSessions(): Promise<number> {
    const res = await this.writes.run((tx) => tx.deleteFrom('admin_sessions').where('expires_at', '<=', Date.now()).executeTakeFirst());
    return Number(res.numDeletedRows);
  }

  async addTraffic(hour: Date, c: TrafficCounts): Promise<void> {
    const h = Math.floor(hour.getTime() / 3600_000) * 3600_000;
    await this.writes.run((tx) =>
      tx
        .insertInto('traffic_hourly')
        .values({ hour: h, received: c.received, delivered_local: c.deliveredLocal, transmitted: c.transmitted, failed: c.failed })
        .onConflict((oc) =>
          oc.column('hour').doUpdateSet((eb) => ({
            received: eb('traffic_hourly.received', '+', c.received),
            delivered_local: eb('traffic_hourly.delivered_local', '+', c.deliveredLocal),
            transmitted: eb('traffic_hourly.transmitted', '+', c.transmitted),
            failed: eb('traffic_hourly.failed', '+', c.failed),
          })),
        )
        .execute(),
    );
  }

  async listTraffic(since: Date): Promise<HourlyTraffic[]> {
    const rows = await this.db.selectFrom('traffic_hourly').selectAll().where('hour', '>=', Math.floor(since.getTime() / 3600_000) * 3600_000).orderBy('hour').execute();
    return rows.map((r) => ({
      hour: new Date(Number(r.hour)),
      received: Number(r.received),
      deliveredLocal: Number(r.delivered_local),
      transmitted: Number(r.transmitted),
      failed: Number(r.failed),
    }));
  }
}
