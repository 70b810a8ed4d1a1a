// The HTTP side: one Fastify app. Later features (webmail API, admin console, status
// page, metrics, autoconfig) each register a plugin here; they receive the same context.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { VERSION } from '../version.js';
import { autoconfigRoutes } from './autoconfig/index.js';
import type { BoundAddresses } from './autoconfig/settings.js';
import type { SessionRecorder } from '../sessions/recorder.js';

export interface HttpContext {
  config: Config;
  store: Store;
  logger: Logger;
  /** The addresses the listeners actually bound (what client auto-configuration announces). */
  boundAddresses?: BoundAddresses;
  /** Session history, traces and protocol counters (src/sessions). */
  sessions?: SessionRecorder;
}

export type HttpApp = FastifyInstance;

/** A feature's routes: registered in order, each with the shared context. */
export type HttpFeature = (app: HttpApp, context: HttpContext) => Promise<void> | void;

export async function buildHttpApp(context: HttpContext, features: HttpFeature[] = []): Promise<HttpApp> {
  // Typed as Fastify's base logger so every feature sees one FastifyInstance type.
  const commandTimeoutMs = context.config.limits.commandTimeoutSeconds * 1000;
  const loggerInstance: FastifyBaseLogger = context.logger.child({ listener: 'http' });
  const app = Fastify({
    loggerInstance,
    // Request lines at info would be a hot path; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: context.config.limits.maxMessageBytes,
    // On close, idle keep-alive sockets go at once; busy ones get the grace period.
    forceCloseConnections: 'idle',
    // Slowloris: request headers must be complete within the command timeout; a whole
    // request (an upload on a slow link) within four times that.
    requestTimeout: commandTimeoutMs * 4,
    http: { headersTimeout: commandTimeoutMs, requestTimeout: commandTimeoutMs * 4, connectionsCheckingInterval: Math.min(30_000, Math.max(250, commandTimeoutMs / 4)) },
    // Behind a reverse proxy: the client's address and scheme from X-Forwarded-* (docs/webmail.md).
    ...(context.config.webmail.trustedProxies.length > 0 ? { trustProxy: context.config.webmail.trustedProxies } : {}),
  });

  // A load balancer's liveness probe: 200 while the store answers, 503 when it does not.
  app.get('/healthz', async (_request, reply) => {
    try {
      await context.store.ping();
      return { status: 'ok', version: VERSION };
    } catch (err) {
      app.log.warn({ err }, 'health check: the store does not answer');
      return reply.code(503).send({ status: 'unavailable', version: VERSION });
    }
  });

  // Thunderbird autoconfig and Outlook Autodiscover (docs/autoconfig.md).
  await autoconfigRoutes(app, context);

  for (const feature of features) await feature(app, context);
  return app;
}
