// One delivery attempt of one queue entry: resolve where to send, try the hosts in
// order, and sort the recipients into delivered, retry later, and failed for good.
//
// Rules:
// - RFC 5321 5.1: MX hosts in preference order, each of their addresses in turn; a
//   host that cannot be reached or answers 4xx for the whole transaction passes the
//   message to the next one. A 5xx for the transaction fails every recipient.
// - With a relay (smarthost) configured, the relay is the only destination.

import { DeliveryError, temporary } from './errors.js';
import { resolveMx, type MxResolver } from './mx.js';
import { sendMessage, type SmtpTarget } from './smtp-client.js';
import type { FailedRecipient } from './dsn.js';

export interface Relay {
  host: string;
  port: number;
  auth?: { user: string; pass: string };
  requireTLS?: boolean;
}

export interface AttemptDeps {
  hostname: string;
  resolver: MxResolver;
  /** Port of remote MX hosts (25; tests use another). */
  port: number;
  relay?: Relay;
  timeoutMs: number;
}

export interface AttemptOutcome {
  delivered: string[];
  deferred: Array<{ recipient: string; error: DeliveryError }>;
  failed: FailedRecipient[];
}

function toFailed(recipient: string, error: DeliveryError): FailedRecipient {
  return { recipient, status: error.status, diagnostic: error.message, ...(error.remoteMta ? { remoteMta: error.remoteMta } : {}) };
}

async function targets(deps: AttemptDeps, domain: string): Promise<SmtpTarget[]> {
  const relay = deps.relay;
  if (relay) return [{ host: relay.host, connectTo: relay.host, port: relay.port, ...(relay.auth ? { auth: relay.auth } : {}), ...(relay.requireTLS ? { requireTLS: true } : {}) }];
  const hosts = await resolveMx(deps.resolver, domain);
  return hosts.flatMap((h) => h.addresses.map((a) => ({ host: h.host, connectTo: a, port: deps.port })));
}

export async function attemptDelivery(deps: AttemptDeps, entry: { domain: string; mailFrom: string; recipients: string[] }, message: Buffer): Promise<AttemptOutcome> {
  const all = (error: DeliveryError): AttemptOutcome =>
    error.kind === 'permanent'
      ? { delivered: [], deferred: [], failed: entry.recipients.map((r) => toFailed(r, error)) }
      : { delivered: [], deferred: entry.recipients.map((recipient) => ({ recipient, error })), failed: [] };
  let list: SmtpTarget[];
  try {
    list = await targets(deps, entry.domain);
  } catch (err) {
    if (err instanceof DeliveryError) return all(err);
    throw err;
  }
  let last: DeliveryError = temporary('4.4.1', `no host of ${entry.domain} could be reached`);
  for (const target of list) {
    try {
      const res = await sendMessage(target, { from: entry.mailFrom, to: entry.recipients }, message, { hostname: deps.hostname, timeoutMs: deps.timeoutMs });
      const out: AttemptOutcome = { delivered: res.accepted, deferred: [], failed: [] };
      for (const r of res.refused) {
        if (r.error.kind === 'permanent') out.failed.push(toFailed(r.recipient, r.error));
        else out.deferred.push({ recipient: r.recipient, error: r.error });
      }
      return out;
    } catch (err) {
      if (!(err instanceof DeliveryError)) throw err;
      if (err.kind === 'permanent') return all(err);
      last = err;
    }
  }
  return all(last);
}
