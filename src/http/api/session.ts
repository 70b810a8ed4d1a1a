// Sign-in, sign-out and the session check every other route relies on.
//
// Rules:
// - The password is checked by the same authenticator (and throttle) as IMAP, POP3 and
//   SMTP submission; a failure is answered only after the throttle's delay.
// - The cookie holds a random token; the store keeps only its sha256, so a copy of
//   the database does not let anyone in. Sessions live in the store: every worker
//   and node sees them.
// - Cookie: HttpOnly, SameSite=Lax, Path=/, Secure on TLS (or when configured).
// - Every mutating request carries the session's CSRF token in X-CSRF-Token.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate } from '../../auth/authenticator.js';
import type { Account } from '../../store/types.js';
import type { WebmailSession } from '../../store/webmail.js';
import { ApiFailure, body, type ApiContext } from './common.js';
import type { LoginRequest, OkResponse, SessionInfo } from './types.js';
import { MASK } from '../../sessions/mask.js';

export const COOKIE_NAME = 'steadymail_session';
/** A session's expiry is pushed forward at most this often (one write per minute, not per request). */
const TOUCH_INTERVAL_MS = 60_000;

export interface Authed {
  account: Account;
  session: WebmailSession;
}

const authed = new WeakMap<FastifyRequest, Authed>();

/** The signed-in account of a request that passed the session hook. */
export function auth(request: FastifyRequest): Authed {
  const a = authed.get(request);
  if (!a) throw new ApiFailure(401, 'unauthenticated', 'sign in first');
  return a;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function cookie(ctx: ApiContext, request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const secure = ctx.config.webmail.secureCookies || request.protocol === 'https';
  return `${COOKIE_NAME}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The hook run before every API route except sign-in and the capability-URL routes:
 * resolves the session (401 without one) and checks CSRF on mutating requests.
 */
export type Access = 'public' | 'optional' | 'required';

/** The cookie session of a request to an 'optional' route, if it had one. */
export function cookieAuth(request: FastifyRequest): Authed | undefined {
  return authed.get(request);
}

export function sessionHook(ctx: ApiContext, access: (request: FastifyRequest) => Access) {
  return async (request: FastifyRequest): Promise<void> => {
    const kind = access(request);
    if (kind === 'public') return;
    if (kind === 'optional') {
      await check(request).catch(() => undefined);
      return;
    }
    await check(request);
  };

  async function check(request: FastifyRequest): Promise<void> {
    const token = readCookie(request, COOKIE_NAME);
    if (!token || !/^[A-Za-z0-9_-]{20,100}$/.test(token)) throw new ApiFailure(401, 'unauthenticated', 'sign in first');
    const session = await ctx.store.webmail.getSession(hashToken(token));
    if (!session) throw new ApiFailure(401, 'unauthenticated', 'the session has ended; sign in again');
    const account = await ctx.store.getAccountById(session.accountId);
    if (!account || account.disabled) {
      await ctx.store.webmail.deleteSession(session.id);
      throw new ApiFailure(401, 'unauthenticated', 'the session has ended; sign in again');
    }
    if (MUTATING.has(request.method)) {
      const sent = request.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !sameToken(sent, session.csrfToken)) throw new ApiFailure(403, 'csrf', 'missing or wrong X-CSRF-Token');
    }
    if (Date.now() - session.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) {
      const expiresAt = new Date(Date.now() + ctx.config.webmail.sessionHours * 3600_000);
      await ctx.store.webmail.touchSession(session.id, expiresAt);
      session.expiresAt = expiresAt;
    }
    authed.set(request, { account, session });
  }
}

async function sessionInfo(ctx: ApiContext, a: Authed): Promise<SessionInfo> {
  const settings = await ctx.store.webmail.getSettings(a.account.id);
  return {
    address: a.account.address,
    displayName: settings.displayName,
    csrfToken: a.session.csrfToken,
    expiresAt: a.session.expiresAt.toISOString(),
    limits: { maxUploadBytes: ctx.config.webmail.maxUploadBytes, maxMessageBytes: ctx.config.limits.maxMessageBytes },
  };
}

export function sessionRoutes(api: FastifyInstance, ctx: ApiContext): void {
  // Sign-in is the one route open to anyone: its body is small or refused.
  api.post('/session', { bodyLimit: 16 * 1024 }, async (request, reply): Promise<SessionInfo> => {
    const b = body(request) as Partial<LoginRequest>;
    if (typeof b.username !== 'string' || typeof b.password !== 'string' || b.username.length > 320 || b.password.length > 1024) {
      throw new ApiFailure(400, 'invalid-request', 'username and password are required');
    }
    const result = await authenticate(ctx.store, b.username, b.password, request.ip);
    // One history row per sign-in: the client is the browser (User-Agent); the password never shows.
    const observer = ctx.sessions?.open('webmail', { clientIp: request.ip, tls: request.protocol === 'https' ? 'https' : null });
    if (observer) {
      const username = b.username;
      const agent = request.headers['user-agent'];
      if (agent) observer.setClientId(agent);
      observer.command('LOGIN', () => `POST /api/session {"username":${JSON.stringify(username)},"password":"${MASK}"}`);
      observer.login(result.ok ? result.account.address : username, result.ok);
      observer.reply(() => (result.ok ? '200 signed in' : `${result.failure === 'throttled' ? 429 : result.failure === 'disabled' ? 403 : 401} ${result.failure}`), result.ok ? undefined : '4xx');
      observer.end('quit');
    }
    if (!result.ok) {
      // A blocked address is answered at once (as SMTP does); a failure after the throttle's delay.
      if (result.failure === 'throttled') throw new ApiFailure(429, 'throttled', 'too many failed sign-ins; try again later');
      if (result.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, result.delayMs));
      if (result.failure === 'disabled') throw new ApiFailure(403, 'disabled', 'this account is disabled');
      throw new ApiFailure(401, 'bad-credentials', 'wrong address or password');
    }
    const token = randomBytes(32).toString('base64url');
    const lifetimeMs = ctx.config.webmail.sessionHours * 3600_000;
    const session = await ctx.store.webmail.createSession({
      tokenHash: hashToken(token),
      publicId: randomBytes(16).toString('base64url'),
      accountId: result.account.id,
      csrfToken: randomBytes(24).toString('base64url'),
      expiresAt: new Date(Date.now() + lifetimeMs),
      remoteAddress: request.ip,
    });
    void reply.header('set-cookie', cookie(ctx, request, token, Math.floor(lifetimeMs / 1000)));
    ctx.logger.info({ account: result.account.address, ip: request.ip }, 'webmail sign-in');
    return sessionInfo(ctx, { account: result.account, session });
  });

  api.get('/session', async (request): Promise<SessionInfo> => sessionInfo(ctx, auth(request)));

  api.delete('/session', async (request, reply: FastifyReply): Promise<OkResponse> => {
    await ctx.store.webmail.deleteSession(auth(request).session.id);
    void reply.header('set-cookie', cookie(ctx, request, '', 0));
    return { ok: true };
  });
}
