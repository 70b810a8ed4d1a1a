// GET /api/settings/mobileconfig: the signed-in user's Apple configuration profile
// (src/http/autoconfig/mobileconfig.ts), offered as a download from webmail settings.

import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../app.js';
import { mobileconfig, mobileconfigFileName } from '../autoconfig/mobileconfig.js';
import { clientSettings } from '../autoconfig/settings.js';
import { ApiFailure, type ApiContext } from './common.js';
import { auth } from './session.js';

export function mobileconfigRoutes(api: FastifyInstance, ctx: ApiContext, http: HttpContext): void {
  api.get('/settings/mobileconfig', async (request, reply) => {
    const { account } = auth(request);
    const domain = account.address.slice(account.address.lastIndexOf('@') + 1);
    const { displayName } = await ctx.store.webmail.getSettings(account.id);
    const profile = ctx.config.autoconfig.enabled ? mobileconfig({ settings: clientSettings(ctx.config, domain, http.boundAddresses), address: account.address, name: displayName }) : null;
    if (profile === null) throw new ApiFailure(404, 'not-found', 'this server announces no IMAP or POP3 and submission listener to configure');
    return reply
      .type('application/x-apple-aspen-config')
      .header('content-disposition', `attachment; filename="${mobileconfigFileName(account.address)}"`)
      .send(profile);
  });
}
