// Operator console identities: admin sign-in (argon2id like mail accounts, counted by the
// shared login throttle) and API tokens.
//
// Rules:
// - An admin name is throttled under its own key (`admin:<name>`) so an admin and a
//   mailbox of the same spelling never share a counter; the client address counts for
//   every protocol and the console together.
// - A token is `sma_<id>_<secret>`: the id is public (it names the token in lists and the
//   audit log), the store keeps only the sha256 of the whole token. It is shown once.

import { createHash, randomBytes } from 'node:crypto';
import type { AdminAccount, AdminToken } from '../store/admin.js';
import type { Store } from '../store/store.js';
import { hashPassword, verifyPassword } from './password.js';
import { loginThrottleFor } from './throttle.js';

export type AdminAuthResult = { ok: true; admin: AdminAccount } | { ok: false; failure: 'bad-credentials' | 'throttled'; delayMs: number };

let dummyHash: Promise<string> | undefined;

export async function authenticateAdmin(store: Store, name: string, password: string, remoteAddress: string): Promise<AdminAuthResult> {
  const throttle = loginThrottleFor(store);
  const login = `admin:${name.trim().toLowerCase()}`;
  if (await throttle.isBlocked(remoteAddress, login)) return { ok: false, failure: 'throttled', delayMs: await throttle.currentDelay(remoteAddress, login) };
  const admin = await store.admin.getAdmin(name);
  // An unknown name costs a hash check too, so timing does not tell names apart.
  const good = await verifyPassword(admin?.passwordHash ?? (await (dummyHash ??= hashPassword('steadymail-admin-dummy'))), password);
  if (!admin || !good) {
    const { delayMs } = await throttle.recordFailure(remoteAddress, login);
    return { ok: false, failure: 'bad-credentials', delayMs };
  }
  await throttle.recordSuccess(remoteAddress, login);
  return { ok: true, admin };
}

export function hashSecret(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const TOKEN = /^sma_([a-z0-9]{10})_([A-Za-z0-9_-]{43})$/;

/** Creates a token; the returned secret is the only time it is seen. */
export async function createAdminToken(store: Store, label: string, createdBy: string): Promise<{ token: AdminToken; secret: string }> {
  const id = randomBytes(10).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 10);
  const secret = `sma_${id}_${randomBytes(32).toString('base64url')}`;
  const token = await store.admin.createToken({ id, label, tokenHash: hashSecret(secret), createdBy });
  return { token, secret };
}

/** The token a presented secret stands for, when it is well-formed, known and not revoked. */
export async function checkAdminToken(store: Store, secret: string): Promise<AdminToken | undefined> {
  const m = TOKEN.exec(secret);
  if (!m?.[1]) return undefined;
  return store.admin.useToken(m[1], hashSecret(secret));
}
