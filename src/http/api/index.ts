// The webmail JSON API under /api/ (contract: ./types.ts, docs/webmail.md), as an
// HttpFeature of the HTTP listener.
//
// Rules:
// - Every route but sign-in needs a session; every mutating one its CSRF token.
// - An id of another account's folder, message, part or upload is "not found",
//   exactly like an id that does not exist.
// - One request's failure is one error reply: the error handler answers every
//   exception with an ApiError, and a message that cannot be rendered still opens.

import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpContext, HttpFeature } from '../app.js';
import { isStoreError } from '../../store/errors.js';
import { BlobMissing, BlobTooLarge } from '../../store/blobs/blob-store.js';
import { ApiFailure, sendError, type ApiContext } from './common.js';
import { composeRoutes } from './compose.js';
import { eventRoutes } from './events.js';
import { filterRoutes } from './filters.js';
import { folderRoutes } from './folders.js';
import { messageRoutes } from './messages.js';
import { mobileconfigRoutes } from './mobileconfig.js';
import { searchRoutes } from './search.js';
import { cookieAuth, sessionHook, sessionRoutes, type Access } from './session.js';
import { settingsRoutes } from './settings.js';
import type { Submission } from './submission.js';

/** Uploads not sent within this time are forgotten (blob garbage collection waits longer). */
export const UPLOAD_TTL_MS = 12 * 3600_000;
const SWEEP_INTERVAL_MS = 3600_000;

function accessOf(request: FastifyRequest): Access {
  const url = request.routeOptions.url ?? '';
  if (url === '/api/session' && request.method === 'POST') return 'public';
  if (url === '/api/messages/:messageId/body' || url === '/api/messages/:messageId/cid/:contentId') return 'optional';
  return 'required';
}

/** The API as an HTTP feature; `submission` is SMTP submission's pipeline (src/listeners.ts). */
export const webmailApi =
  (submission: Submission, onTransfer?: ApiContext['onTransfer']): HttpFeature =>
  async (app: FastifyInstance, context: HttpContext) => {
  const ctx: ApiContext = {
    config: context.config,
    store: context.store,
    logger: context.logger,
    submission,
    ...(onTransfer ? { onTransfer } : {}),
    ...(context.sessions ? { sessions: context.sessions } : {}),
  };
  if (!ctx.config.webmail.enabled) return;
  // Expired sessions and forgotten uploads are removed hourly (by every process; it is idempotent).
  const sweep = async (): Promise<void> => {
    try {
      await ctx.store.webmail.deleteExpiredSessions();
      await ctx.store.webmail.deleteUploadsBefore(new Date(Date.now() - UPLOAD_TTL_MS));
    } catch (err) {
      ctx.logger.warn({ err }, 'webmail: could not remove expired sessions and uploads');
    }
  };
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    timer = setInterval(() => void sweep(), SWEEP_INTERVAL_MS);
    timer.unref();
  });
  app.addHook('onClose', async () => clearInterval(timer));
  await app.register(
    async (api) => {
      api.setErrorHandler((err: FastifyError | ApiFailure | Error, request, reply) => {
        if (err instanceof ApiFailure) return sendError(reply, err.status, err.code, err.message);
        if (err instanceof BlobTooLarge) return sendError(reply, 413, 'too-large', err.message);
        if (err instanceof BlobMissing) {
          request.log.error({ err, url: request.url }, 'webmail api: a message blob is missing');
          return sendError(reply, 503, 'unavailable', 'the content of this message cannot be read from the store');
        }
        const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
        if (status === 413) return sendError(reply, 413, 'too-large', 'the request is too large');
        if (status >= 400 && status < 500) return sendError(reply, status, 'invalid-request', err.message);
        if (isStoreError(err) && err.code === 'unavailable') {
          request.log.warn({ err }, 'webmail api: store unavailable');
          return sendError(reply, 503, 'unavailable', 'the mail store is not available; try again shortly');
        }
        request.log.error({ err, url: request.url }, 'webmail api: request failed');
        return sendError(reply, 500, 'internal', 'something went wrong; try again');
      });
      api.setNotFoundHandler((_request, reply) => sendError(reply, 404, 'not-found', 'no such item'));
      api.addHook('onRequest', sessionHook(ctx, accessOf));
      api.addHook('onSend', async (_request, reply, payload) => {
        if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
        return payload;
      });
      const recorder = ctx.sessions;
      if (recorder) {
        // A traced account's requests, one trace "session" per webmail sign-in session.
        api.addHook('onResponse', async (request, reply) => {
          const a = cookieAuth(request);
          if (!a || !recorder.traceOf(a.account.address)) return;
          recorder.traceRequest(a.account.address, `webmail-${a.session.publicId.slice(0, 12)}`, request, reply.statusCode, Number(reply.getHeader('content-length') ?? 0));
        });
      }
      sessionRoutes(api, ctx);
      folderRoutes(api, ctx);
      messageRoutes(api, ctx, cookieAuth);
      searchRoutes(api, ctx);
      composeRoutes(api, ctx);
      settingsRoutes(api, ctx);
      mobileconfigRoutes(api, ctx, context);
      filterRoutes(api, ctx);
      eventRoutes(api, ctx);
    },
    { prefix: '/api' },
  );
};
