// Shared pieces of the admin API: its context, who is acting, errors, parameter checks
// and the audit write every mutation makes.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config, ListenAddress, ListenerName } from '../../config/index.js';
import type { Logger } from '../../log.js';
import type { StatusSummary } from '../../monitor/index.js';
import type { Store } from '../../store/store.js';

/** What the console reads from the running server beyond the store. */
export interface AdminServerView {
  /** Component status from monitoring (absent when the monitor is off). */
  summary?: () => Promise<StatusSummary>;
  /** Open connections per listener of this process (the listeners' connection gauges). */
  connections?: () => Iterable<[ListenerName, number | undefined]>;
  /** The addresses the listeners bound (SRV records show their real ports). */
  listeners?: () => ReadonlyMap<ListenerName, ListenAddress>;
}

export interface AdminContext extends AdminServerView {
  config: Config;
  store: Store;
  logger: Logger;
}

/** Who is acting: a signed-in admin, an API token, or nobody yet (sign-in). */
export type Actor = { kind: 'admin'; name: string; sessionId: number; csrfToken: string } | { kind: 'token'; id: string } | { kind: 'anonymous' };

export function actorName(a: Actor): string {
  return a.kind === 'admin' ? `admin:${a.name}` : a.kind === 'token' ? `token:${a.id}` : 'anonymous';
}

export type AdminErrorCode = 'unauthenticated' | 'forbidden' | 'bad-credentials' | 'throttled' | 'csrf' | 'not-found' | 'invalid-request' | 'exists' | 'in-use' | 'unavailable' | 'internal';

export class AdminFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: AdminErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AdminFailure';
  }
}

export const invalid = (message: string): AdminFailure => new AdminFailure(400, 'invalid-request', message);
export const notFound = (what: string): AdminFailure => new AdminFailure(404, 'not-found', `${what} does not exist`);

export function sendError(reply: FastifyReply, status: number, code: AdminErrorCode, message: string): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').send({ error: code, message });
}

export interface AdminCall {
  ctx: AdminContext;
  request: FastifyRequest;
  reply: FastifyReply;
  actor: Actor;
  params: Record<string, string>;
  query: Record<string, unknown>;
}

export function body(call: AdminCall): Record<string, unknown> {
  const b = call.request.body;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) throw invalid('expected a JSON object body');
  return b as Record<string, unknown>;
}

export function str(value: unknown, name: string, options: { max?: number; optional?: false }): string;
export function str(value: unknown, name: string, options: { max?: number; optional: true }): string | undefined;
export function str(value: unknown, name: string, options: { max?: number; optional?: boolean } = {}): string | undefined {
  if (value === undefined && options.optional) return undefined;
  const max = options.max ?? 1000;
  if (typeof value !== 'string' || value.length > max) throw invalid(`${name} must be a string of at most ${max} characters`);
  return value;
}

export function int(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?[0-9]{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalid(`${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** Writes one audit row for an admin mutation: who, what, on what, from which address. */
export async function audit(call: AdminCall, action: string, subject: string, detail: Record<string, unknown> = {}, accountId: number | null = null): Promise<void> {
  await call.ctx.store.audit({ actor: actorName(call.actor), action, accountId, subject, reason: 'operator console', detail: { ...detail, ip: call.request.ip } });
}

/** For store functions that write their own audit row (removals). */
export function auditContext(call: AdminCall): { actor: string; reason: string } {
  return { actor: actorName(call.actor), reason: `operator console, from ${call.request.ip}` };
}
