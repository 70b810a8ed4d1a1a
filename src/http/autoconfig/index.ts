// Client auto-configuration on the HTTP listener (docs/autoconfig.md):
//   GET  /.well-known/autoconfig/mail/config-v1.1.xml, /mail/config-v1.1.xml  Thunderbird
//   POST /autodiscover/autodiscover.xml, /Autodiscover/Autodiscover.xml      Outlook
// The Apple profile needs a signed-in user and lives with the webmail API
// (src/http/api/mobileconfig.ts).
//
// Rules:
// - Only domains hosted here are answered (404 / Autodiscover error 500 otherwise);
//   whether an account exists is never revealed.
// - Every document is rendered from clientSettings(), the live listener settings.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AddressError, normalizeAddress, normalizeDomain } from '../../address/index.js';
import type { HttpApp, HttpContext } from '../app.js';
import { AutodiscoverError, autodiscoverError, autodiscoverResponse, parseAutodiscoverRequest } from './autodiscover.js';
import { clientSettings, type ClientSettings } from './settings.js';
import { thunderbirdConfig } from './thunderbird.js';

export const THUNDERBIRD_PATHS = ['/.well-known/autoconfig/mail/config-v1.1.xml', '/mail/config-v1.1.xml'] as const;
export const AUTODISCOVER_PATHS = ['/autodiscover/autodiscover.xml', '/Autodiscover/Autodiscover.xml'] as const;

/** The domain Thunderbird asks about: from ?emailaddress=, else from the Host (autoconfig.<domain>). */
function thunderbirdDomain(request: FastifyRequest): string | null {
  const query = request.query as Record<string, unknown>;
  const given = query['emailaddress'];
  try {
    if (typeof given === 'string' && given !== '') return normalizeAddress(given).split('@')[1]!;
    const host = request.hostname.replace(/:\d+$/, '').replace(/^autoconfig\./i, '');
    return normalizeDomain(host);
  } catch (err) {
    if (err instanceof AddressError) return null;
    throw err;
  }
}

async function hostedSettings(context: HttpContext, domain: string): Promise<ClientSettings | null> {
  if (!(await context.store.getDomain(domain))) return null;
  const settings = clientSettings(context.config, domain, context.boundAddresses);
  return settings.incoming.length > 0 ? settings : null;
}

function sendAutodiscoverError(reply: FastifyReply, status: number, error: AutodiscoverError): FastifyReply {
  return reply.code(status).type('text/xml; charset=utf-8').header('cache-control', 'no-store').send(autodiscoverError(error));
}

export async function autoconfigRoutes(app: HttpApp, context: HttpContext): Promise<void> {
  const { config } = context;
  if (!config.autoconfig.enabled) return;

  for (const path of THUNDERBIRD_PATHS) {
    app.get(path, async (request, reply) => {
      const domain = thunderbirdDomain(request);
      const settings = domain === null ? null : await hostedSettings(context, domain);
      if (!settings || settings.outgoing.length === 0) return reply.code(404).type('text/plain; charset=utf-8').send('no mail configuration for this domain\n');
      return reply.type('application/xml; charset=utf-8').header('cache-control', 'max-age=300').send(thunderbirdConfig(settings));
    });
  }

  await app.register(async (scope) => {
    // Outlook sends text/xml; any type is read as text, up to the configured size.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: config.autoconfig.maxRequestBytes }, (_request, body, done) => done(null, body));
    scope.setErrorHandler((err: FastifyError, request, reply) => {
      if (err.statusCode === 413) return sendAutodiscoverError(reply, 413, new AutodiscoverError(600, `the request is larger than ${config.autoconfig.maxRequestBytes} bytes`));
      if (err.statusCode !== undefined && err.statusCode < 500) return sendAutodiscoverError(reply, err.statusCode, new AutodiscoverError(600, err.message));
      request.log.error({ err }, 'autodiscover: request failed');
      return sendAutodiscoverError(reply, 500, new AutodiscoverError(603, 'the server could not answer; try again'));
    });
    for (const path of AUTODISCOVER_PATHS) {
      scope.post(path, async (request, reply) => {
        const body = typeof request.body === 'string' ? request.body : '';
        let address: string;
        try {
          address = normalizeAddress(parseAutodiscoverRequest(body).address);
        } catch (err) {
          if (err instanceof AutodiscoverError) return sendAutodiscoverError(reply, err.code === 601 ? 200 : 400, err);
          if (err instanceof AddressError) return sendAutodiscoverError(reply, 400, new AutodiscoverError(600, err.message));
          throw err;
        }
        const settings = await hostedSettings(context, address.split('@')[1]!);
        if (!settings) return sendAutodiscoverError(reply, 404, new AutodiscoverError(500, 'no mail service for this address here'));
        return reply.type('text/xml; charset=utf-8').header('cache-control', 'no-store').send(autodiscoverResponse(settings, address));
      });
    }
  });
}
