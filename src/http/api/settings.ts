// Settings: display name, signature, password change. Vacation replies, forwarding and
// filters are Sieve rules: see ./filters.ts.

import type { FastifyInstance } from 'fastify';
import { authenticate } from '../../auth/authenticator.js';
import { hashPassword } from '../../auth/password.js';
import { ApiFailure, body, invalid, type ApiContext } from './common.js';
import { auth } from './session.js';
import type { OkResponse, Settings } from './types.js';

const MAX_SIGNATURE = 10_000;
const MAX_NAME = 200;
const MIN_PASSWORD = 8;

export function settingsRoutes(api: FastifyInstance, ctx: ApiContext): void {
  const { store } = ctx;

  api.get('/settings', async (request): Promise<Settings> => {
    const { account } = auth(request);
    return { address: account.address, ...(await store.webmail.getSettings(account.id)) };
  });

  api.put('/settings', async (request): Promise<Settings> => {
    const { account } = auth(request);
    const b = body(request);
    const update: { displayName?: string; signature?: string } = {};
    if (b['displayName'] !== undefined) {
      const n = b['displayName'];
      // A display name goes into From headers: no line breaks or control characters.
      // eslint-disable-next-line no-control-regex
      if (typeof n !== 'string' || n.length > MAX_NAME || /[\x00-\x1f\x7f]/.test(n)) throw invalid(`displayName: at most ${MAX_NAME} characters, no control characters`);
      update.displayName = n.trim();
    }
    if (b['signature'] !== undefined) {
      const s = b['signature'];
      if (typeof s !== 'string' || s.length > MAX_SIGNATURE) throw invalid(`signature: at most ${MAX_SIGNATURE} characters`);
      update.signature = s.replace(/\r\n?/g, '\n');
    }
    return { address: account.address, ...(await store.webmail.putSettings(account.id, update)) };
  });

  api.post('/settings/password', async (request): Promise<OkResponse> => {
    const { account, session } = auth(request);
    const b = body(request);
    const current = b['currentPassword'];
    const next = b['newPassword'];
    if (typeof current !== 'string' || typeof next !== 'string') throw invalid('currentPassword and newPassword are required');
    if (next.length < MIN_PASSWORD || next.length > 1024) throw invalid(`the new password must have ${MIN_PASSWORD} to 1024 characters`);
    // The current password is checked like a sign-in: same verification, same throttle.
    const check = await authenticate(store, account.address, current, request.ip);
    if (!check.ok) {
      if (check.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, check.delayMs));
      if (check.failure === 'throttled') throw new ApiFailure(429, 'throttled', 'too many failed attempts; try again later');
      throw new ApiFailure(403, 'bad-credentials', 'the current password is wrong');
    }
    await store.updateAccount(account.id, { passwordHash: await hashPassword(next) });
    // Other webmail sessions of this account end; this one stays.
    await store.webmail.deleteSessionsOf(account.id, session.id);
    ctx.logger.info({ account: account.address, ip: request.ip }, 'webmail password changed');
    return { ok: true };
  });
}
