// The admin JSON API under /api/admin/ (route table: ./routes.ts; docs/admin.md), as an
// HttpFeature of the HTTP listener.
//
// Rules:
// - Every route but sign-in needs an admin session or an API token (./auth.ts); the
//   check runs before the body is looked at.
// - One request's failure is one error reply: store errors map to 4xx (not found,
//   exists, in use, invalid) or 503 (unavailable), anything else to a logged 500.

import type { FastifyError, FastifyRequest } from 'fastify';
import type { HttpContext, HttpFeature } from '../app.js';
import { AddressError } from '../../address/index.js';
import { isStoreError } from '../../store/errors.js';
import { identify } from './auth.js';
import { AdminFailure, sendError, type Actor, type AdminContext, type AdminServerView } from './common.js';
import { ADMIN_PREFIX, ADMIN_ROUTES, DEFAULT_BODY_LIMIT } from './routes.js';

const SWEEP_INTERVAL_MS = 3600_000;
const STORE_STATUS = { 'not-found': [404, 'not-found'], 'already-exists': [409, 'exists'], 'in-use': [409, 'in-use'], invalid: [400, 'invalid-request'], conflict: [409, 'in-use'], 'over-quota': [400, 'invalid-request'], unavailable: [503, 'unavailable'] } as const;

export function adminApi(view: AdminServerView = {}): HttpFeature {
  return async (app, context: HttpContext) => {
    if (!context.config.admin.enabled) return;
    const ctx: AdminContext = { config: context.config, store: context.store, logger: context.logger, ...view };
    let timer: NodeJS.Timeout | undefined;
    app.addHook('onReady', async () => {
      timer = setInterval(() => void ctx.store.admin.deleteExpiredSessions().catch((err: unknown) => ctx.logger.warn({ err }, 'admin: could not remove expired sessions')), SWEEP_INTERVAL_MS);
      timer.unref();
    });
    app.addHook('onClose', async () => clearInterval(timer));
    const actors = new WeakMap<FastifyRequest, Actor>();
    await app.register(
      async (api) => {
        api.setErrorHandler((err: FastifyError | AdminFailure | Error, request, reply) => {
          if (err instanceof AdminFailure) return sendError(reply, err.status, err.code, err.message);
          if (err instanceof AddressError) return sendError(reply, 400, 'invalid-request', err.message);
          if (isStoreError(err)) {
            const [status, code] = STORE_STATUS[err.code];
            if (status === 503) request.log.warn({ err }, 'admin api: store unavailable');
            return sendError(reply, status, code, err.message);
          }
          const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
          if (status >= 400 && status < 500) return sendError(reply, status, 'invalid-request', err.message);
          request.log.error({ err, url: request.url }, 'admin api: request failed');
          return sendError(reply, 500, 'internal', 'something went wrong; see the server log');
        });
        api.setNotFoundHandler((_request, reply) => sendError(reply, 404, 'not-found', 'no such admin API route'));
        api.addHook('onSend', async (_request, reply, payload) => {
          if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
          return payload;
        });
        for (const route of ADMIN_ROUTES) {
          api.route({
            method: route.method,
            url: route.path,
            bodyLimit: route.bodyLimit ?? DEFAULT_BODY_LIMIT,
            // Credentials are checked before the body is parsed: an anonymous upload is refused unread.
            onRequest: async (request) => {
              actors.set(request, route.public ? { kind: 'anonymous' } : await identify(ctx, request));
            },
            handler: async (request, reply) => {
              const actor = actors.get(request) ?? { kind: 'anonymous' };
              const result = await route.handle({ ctx, request, reply, actor, params: (request.params ?? {}) as Record<string, string>, query: (request.query ?? {}) as Record<string, unknown> });
              return result;
            },
          });
        }
      },
      { prefix: ADMIN_PREFIX },
    );
  };
}
