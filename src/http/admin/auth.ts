// Admin sign-in and the check every other admin route relies on.
//
// Rules:
// - Two ways in: the console's session cookie (HttpOnly, SameSite=Strict, Secure on TLS
//   or with webmail.secure_cookies), or `Authorization: Bearer <API token>`.
// - The cookie holds a random token; the store keeps its sha256 only. A webmail session
//   (a mailbox user) is a different cookie and never admits anyone here.
// - A cookie session must send its CSRF token in X-CSRF-Token on every mutating request;
//   a bearer token needs none (a browser never attaches it by itself).
// - Sign-in failures count in the shared login throttle (src/auth/throttle.ts).

import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { authenticateAdmin, checkAdminToken, hashSecret } from '../../auth/admin.js';
import { AdminFailure, audit, body, str, type Actor, type AdminCall, type AdminContext } from './common.js';
import type { AdminSessionInfo } from './types.js';

export const ADMIN_COOKIE = 'steadymail_admin';
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq >= 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function cookie(ctx: AdminContext, request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const secure = ctx.config.webmail.secureCookies || request.protocol === 'https';
  return `${ADMIN_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Who sent the request: 401 without valid credentials, 403 on a missing CSRF token. */
export async function identify(ctx: AdminContext, request: FastifyRequest): Promise<Actor> {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const m = /^Bearer\s+(\S{1,200})$/i.exec(authorization);
    const token = m?.[1] ? await checkAdminToken(ctx.store, m[1]) : undefined;
    if (!token) throw new AdminFailure(401, 'unauthenticated', 'unknown or revoked API token');
    return { kind: 'token', id: token.id };
  }
  const value = readCookie(request, ADMIN_COOKIE);
  if (!value || !/^[A-Za-z0-9_-]{20,100}$/.test(value)) throw new AdminFailure(401, 'unauthenticated', 'sign in to the console first');
  const session = await ctx.store.admin.getSession(hashSecret(value));
  const admin = session && (await ctx.store.admin.getAdminById(session.adminId));
  if (!session || !admin) throw new AdminFailure(401, 'unauthenticated', 'the console session has ended; sign in again');
  if (MUTATING.has(request.method)) {
    const sent = request.headers['x-csrf-token'];
    if (typeof sent !== 'string' || !same(sent, session.csrfToken)) throw new AdminFailure(403, 'csrf', 'missing or wrong X-CSRF-Token');
  }
  return { kind: 'admin', name: admin.name, sessionId: session.id, csrfToken: session.csrfToken };
}

export async function signIn(call: AdminCall): Promise<AdminSessionInfo> {
  const { ctx, request, reply } = call;
  const b = body(call);
  const name = str(b.name, 'name', { max: 64 });
  const password = str(b.password, 'password', { max: 1024 });
  const result = await authenticateAdmin(ctx.store, name, password, request.ip);
  if (!result.ok) {
    if (result.failure === 'throttled') throw new AdminFailure(429, 'throttled', 'too many failed sign-ins; try again later');
    if (result.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, result.delayMs));
    ctx.logger.warn({ admin: name, ip: request.ip }, 'console sign-in failed');
    throw new AdminFailure(401, 'bad-credentials', 'wrong name or password');
  }
  const token = randomBytes(32).toString('base64url');
  const lifetimeMs = ctx.config.admin.sessionHours * 3600_000;
  const session = await ctx.store.admin.createSession({
    tokenHash: hashSecret(token),
    adminId: result.admin.id,
    csrfToken: randomBytes(24).toString('base64url'),
    expiresAt: new Date(Date.now() + lifetimeMs),
    remoteAddress: request.ip,
  });
  void reply.header('set-cookie', cookie(ctx, request, token, Math.floor(lifetimeMs / 1000)));
  const actor: Actor = { kind: 'admin', name: result.admin.name, sessionId: session.id, csrfToken: session.csrfToken };
  await audit({ ...call, actor }, 'admin.sign-in', result.admin.name);
  return { kind: 'admin', name: result.admin.name, csrfToken: session.csrfToken, expiresAt: session.expiresAt.toISOString() };
}

export async function sessionOf(call: AdminCall): Promise<AdminSessionInfo> {
  const a = call.actor;
  if (a.kind === 'token') return { kind: 'token', name: a.id, csrfToken: null, expiresAt: null };
  if (a.kind !== 'admin') throw new AdminFailure(401, 'unauthenticated', 'sign in to the console first');
  const session = await call.ctx.store.admin.getSession(hashSecret(readCookie(call.request, ADMIN_COOKIE) ?? ''));
  return { kind: 'admin', name: a.name, csrfToken: a.csrfToken, expiresAt: session?.expiresAt.toISOString() ?? null };
}

export async function signOut(call: AdminCall): Promise<{ ok: true }> {
  const a = call.actor;
  if (a.kind === 'admin') {
    await call.ctx.store.admin.deleteSession(a.sessionId);
    await audit(call, 'admin.sign-out', a.name);
  }
  void call.reply.header('set-cookie', cookie(call.ctx, call.request, '', 0));
  return { ok: true };
}
