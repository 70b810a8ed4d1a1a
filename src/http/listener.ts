// Serves the HTTP app on the configured [listen] http address.
import type { Listener, ServerContext } from '../listener.js';
import type { ListenAddress } from '../config/index.js';
import { buildHttpApp, type HttpApp } from './app.js';

export function createHttpListener(context: ServerContext, address: ListenAddress): Listener {
  let app: HttpApp | undefined;
  return {
    name: 'http',
    async start() {
      app = await buildHttpApp(context, context.httpFeatures);
      await app.listen({ host: address.host, port: address.port });
      const bound = app.server.address();
      return typeof bound === 'object' && bound !== null ? { host: bound.address, port: bound.port } : address;
    },
    async stop(graceMs) {
      if (!app) return;
      const server = app.server;
      const closing = app.close();
      // A keep-alive socket that finishes its request during the grace period goes idle
      // and would otherwise linger until its keep-alive timeout.
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      // Requests still running after the grace period are cut off.
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      try {
        await closing;
      } finally {
        clearInterval(sweep);
        clearTimeout(timer);
      }
    },
  };
}
