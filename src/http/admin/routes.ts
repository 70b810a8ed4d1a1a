// THE table of admin API routes, under /api/admin. Everything the console can do is one
// row here; the feature (./index.ts) registers them and tests enumerate them (every
// non-public route must refuse anonymous clients, mailbox users and bad tokens).

import type { AdminCall } from './common.js';
import { sessionOf, signIn, signOut } from './auth.js';
import { dashboard } from './dashboard.js';
import { addDomain, checkDns, createDkim, listDomains, records, removeDomain } from './domains.js';
import { addAlias, createAccount, importAccounts, listAccounts, removeAccount, removeAlias, setDisabled, setPassword, setQuota, showAccount } from './accounts.js';
import { deleteQueueEntry, listQueue, retryQueueEntry, showQueueEntry } from './queue.js';
import { listIncidents, openIncident, resolveIncident, updateIncident } from './incidents.js';
import { listAuditLog } from './audit-log.js';
import { setForwarding, showForwarding } from './forwarding.js';
import { killSession, listLiveSessions, sessionHistory, showTrace, startTrace, stopTrace } from './sessions.js';

export type AdminMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface AdminRoute {
  method: AdminMethod;
  /** Below /api/admin; `:name` parts are parameters. */
  path: string;
  /** Only sign-in is open to anyone. */
  public?: true;
  /** Larger than the default 64 KiB (the CSV import). */
  bodyLimit?: number;
  handle(call: AdminCall): Promise<unknown>;
}

export const ADMIN_PREFIX = '/api/admin';
export const DEFAULT_BODY_LIMIT = 64 * 1024;

export const ADMIN_ROUTES: readonly AdminRoute[] = [
  { method: 'POST', path: '/session', public: true, handle: signIn },
  { method: 'GET', path: '/session', handle: sessionOf },
  { method: 'DELETE', path: '/session', handle: signOut },

  { method: 'GET', path: '/dashboard', handle: dashboard },

  { method: 'GET', path: '/domains', handle: listDomains },
  { method: 'POST', path: '/domains', handle: addDomain },
  { method: 'DELETE', path: '/domains/:name', handle: removeDomain },
  { method: 'POST', path: '/domains/:name/dkim', handle: createDkim },
  { method: 'GET', path: '/domains/:name/records', handle: records },
  { method: 'GET', path: '/domains/:name/dns-check', handle: checkDns },

  { method: 'GET', path: '/accounts', handle: listAccounts },
  { method: 'POST', path: '/accounts', handle: createAccount },
  { method: 'POST', path: '/accounts/import', bodyLimit: 16 * 1024 * 1024, handle: importAccounts },
  { method: 'GET', path: '/accounts/:address', handle: showAccount },
  { method: 'DELETE', path: '/accounts/:address', handle: removeAccount },
  { method: 'PUT', path: '/accounts/:address/password', handle: setPassword },
  { method: 'PUT', path: '/accounts/:address/quota', handle: setQuota },
  { method: 'POST', path: '/accounts/:address/disable', handle: setDisabled(true) },
  { method: 'POST', path: '/accounts/:address/enable', handle: setDisabled(false) },
  { method: 'GET', path: '/accounts/:address/sessions', handle: sessionHistory },
  { method: 'GET', path: '/accounts/:address/trace', handle: showTrace },
  { method: 'POST', path: '/accounts/:address/trace', handle: startTrace },
  { method: 'DELETE', path: '/accounts/:address/trace', handle: stopTrace },
  { method: 'GET', path: '/accounts/:address/forwarding', handle: showForwarding },
  { method: 'PUT', path: '/accounts/:address/forwarding', handle: setForwarding },
  { method: 'POST', path: '/aliases', handle: addAlias },
  { method: 'DELETE', path: '/aliases/:source', handle: removeAlias },

  { method: 'GET', path: '/sessions', handle: listLiveSessions },
  { method: 'POST', path: '/sessions/:id/kill', handle: killSession },

  { method: 'GET', path: '/queue', handle: listQueue },
  { method: 'GET', path: '/queue/:id', handle: showQueueEntry },
  { method: 'POST', path: '/queue/:id/retry', handle: retryQueueEntry },
  { method: 'DELETE', path: '/queue/:id', handle: deleteQueueEntry },

  { method: 'GET', path: '/incidents', handle: listIncidents },
  { method: 'POST', path: '/incidents', handle: openIncident },
  { method: 'POST', path: '/incidents/:id/updates', handle: updateIncident },
  { method: 'POST', path: '/incidents/:id/resolve', handle: resolveIncident },

  { method: 'GET', path: '/audit', handle: listAuditLog },
];
