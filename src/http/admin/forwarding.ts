// An account's forwarding in the console: the forwarding part of the webmail's filters,
// read from and written to the account's Sieve script "webmail" by the webmail's own
// generator (src/http/api/filters.ts), so the user sees the change under Settings →
// Filters and their rules and vacation reply stay as they were. Setting it is audited.

import { normalizeAddress } from '../../address/index.js';
import { FilterInvalid, FilterRefused, filterLimits, filtersOf, filtersState, saveFilters } from '../api/filters.js';
import type { FiltersState } from '../api/types.js';
import type { Account } from '../../store/types.js';
import { AdminFailure, audit, body, invalid, notFound, type AdminCall } from './common.js';
import type { ForwardingInfo } from './types.js';

const info = (s: FiltersState): ForwardingInfo => ({ forwarding: s.forwarding, active: s.active, otherActive: s.otherActive?.name ?? null, modifiedElsewhere: s.modifiedElsewhere });

async function existing(call: AdminCall): Promise<Account> {
  const address = normalizeAddress(call.params.address ?? '');
  const account = await call.ctx.store.getAccount(address);
  if (!account) throw notFound(`account ${address}`);
  return account;
}

export async function showForwarding(call: AdminCall): Promise<ForwardingInfo> {
  const account = await existing(call);
  return info(await filtersState(call.ctx, account.id));
}

/** Body: `{ enabled, address, keepCopy, activate? }`; the rest of the filters is kept. */
export async function setForwarding(call: AdminCall): Promise<ForwardingInfo> {
  const account = await existing(call);
  const b = body(call);
  const before = await filtersState(call.ctx, account.id);
  if (before.modifiedElsewhere) throw new AdminFailure(409, 'in-use', `the "webmail" Sieve script of ${account.address} was edited by hand; change it with a Sieve client`);
  const { rules, vacation } = before;
  let filters;
  try {
    filters = filtersOf({ rules, vacation, forwarding: { enabled: b.enabled, address: b.address ?? '', keepCopy: b.keepCopy ?? true } }, await filterLimits(call.ctx, account.id));
  } catch (err) {
    if (err instanceof FilterInvalid) throw invalid(err.message);
    throw err;
  }
  let refused;
  try {
    refused = await saveFilters(call.ctx, account.id, filters, b.activate === true);
  } catch (err) {
    if (err instanceof FilterRefused) throw new AdminFailure(err.status, 'invalid-request', err.message);
    throw err;
  }
  if (refused) throw invalid(`the generated script was refused: ${refused.message}`);
  await audit(call, 'account.forwarding', account.address, { from: before.forwarding, to: filters.forwarding, activate: b.activate === true }, account.id);
  return info(await filtersState(call.ctx, account.id));
}
