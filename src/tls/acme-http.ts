// HTTP-01 validation (RFC 8555 8.3): the CA fetches
// http://<name>/.well-known/acme-challenge/<token> and expects the key authorization.
// Tokens are read from the store, so whichever farm node the request reaches answers.
import type { HttpFeature } from '../http/app.js';

/** RFC 8555 8.1: tokens are base64url; anything else is not ours to look up. */
const TOKEN = /^[A-Za-z0-9_-]{16,256}$/;

export const acmeChallengeFeature: HttpFeature = (app, context) => {
  app.get<{ Params: { token: string } }>('/.well-known/acme-challenge/:token', async (request, reply) => {
    const { token } = request.params;
    const keyAuthorization = TOKEN.test(token) ? await context.store.getAcmeChallenge(token) : undefined;
    if (keyAuthorization === undefined) return reply.code(404).type('text/plain').send('not found\n');
    return reply.type('application/octet-stream').send(keyAuthorization);
  });
};
