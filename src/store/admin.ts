// What the operator console keeps in the store: admin accounts (apart from mail
// accounts: an admin cannot read mail, a mailbox user cannot administer), API tokens for
// automation, admin sign-in sessions (shared by every worker and node), and messages
// counted per hour for the console's traffic chart. Secrets are stored as hashes only.

export interface AdminAccount {
  id: number;
  name: string;
  /** argon2id PHC string, as mail accounts use. */
  passwordHash: string;
  createdAt: Date;
}

export interface AdminToken {
  /** Public part of the token (`sma_<id>_<secret>`); names the token in the audit log. */
  id: string;
  label: string;
  createdBy: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface AdminSession {
  id: number;
  adminId: number;
  csrfToken: string;
  createdAt: Date;
  expiresAt: Date;
  remoteAddress: string;
}

export interface NewAdminSession {
  tokenHash: string;
  adminId: number;
  csrfToken: string;
  expiresAt: Date;
  remoteAddress: string;
}

/** Messages counted in one hour (by every process and node together). */
export interface HourlyTraffic {
  /** Start of the hour. */
  hour: Date;
  received: number;
  deliveredLocal: number;
  transmitted: number;
  failed: number;
}

export type TrafficCounts = Omit<HourlyTraffic, 'hour'>;

export interface AdminStore {
  /** AlreadyExists when the name is taken. */
  createAdmin(name: string, passwordHash: string): Promise<AdminAccount>;
  getAdmin(name: string): Promise<AdminAccount | undefined>;
  getAdminById(id: number): Promise<AdminAccount | undefined>;
  listAdmins(): Promise<AdminAccount[]>;
  /** NotFound when there is no such admin. */
  setAdminPassword(name: string, passwordHash: string): Promise<void>;
  /** Removes the admin and ends its sessions; NotFound when there is no such admin. */
  deleteAdmin(name: string): Promise<void>;

  /** AlreadyExists when the id is taken. */
  createToken(token: { id: string; label: string; tokenHash: string; createdBy: string }): Promise<AdminToken>;
  listTokens(): Promise<AdminToken[]>;
  /** The unrevoked token with this id and hash; records its use (at most once a minute). */
  useToken(id: string, tokenHash: string): Promise<AdminToken | undefined>;
  /** NotFound when there is no such token; revoking twice keeps the first time. */
  revokeToken(id: string): Promise<AdminToken>;

  createSession(session: NewAdminSession): Promise<AdminSession>;
  /** The unexpired session with this cookie hash. */
  getSession(tokenHash: string): Promise<AdminSession | undefined>;
  deleteSession(id: number): Promise<void>;
  deleteExpiredSessions(): Promise<number>;

  /** Adds counts to the hour that starts at `hour` (any process, any node). */
  addTraffic(hour: Date, counts: TrafficCounts): Promise<void>;
  /** Hours from `since` (inclusive) that have counts, oldest first. */
  listTraffic(since: Date): Promise<HourlyTraffic[]>;
}
