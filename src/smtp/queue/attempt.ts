// One delivery attempt of one queue entry: resolve where to send, apply the domain's
// MTA-STS policy, try the hosts in order, and sort the recipients into delivered, retry
// later, and failed for good.
//
// Rules:
// - RFC 5321 5.1: MX hosts in preference order, each of their addresses in turn; a
//   host that cannot be reached or answers 4xx for the whole transaction passes the
//   message to the next one. A 5xx for the transaction fails every recipient.
// - With a relay (smarthost) configured, the relay is the only destination and the
//   recipient domain's MTA-STS policy is the relay's business.
// - RFC 8461 5: under an `enforce` policy only MX hosts matching the policy are used,
//   only over verified TLS; a failure is temporary (4.7.5), never a plaintext fallback.
//   Under `testing` mail goes as usual and the failure is reported.
// - A host that cannot take the message as it is (SMTPUTF8 missing, 5.6.7) passes it to
//   the next host; when no host can, the message fails for good.

import { DeliveryError, temporary } from './errors.js';
import { resolveMx, toAscii, type MxHost, type MxResolver } from './mx.js';
import { mxMatches, type MtaStsPolicies } from './mta-sts.js';
import type { PeerFeatures, PreparedMessage, SmtpClient, SmtpTarget } from './smtp-client.js';
import type { FailedRecipient } from './dsn.js';
import type { MtaStsPolicy } from '../../store/types.js';

export interface Relay {
  host: string;
  port: number;
  auth?: { user: string; pass: string };
  requireTLS?: boolean;
}

/** What the queue reports for metrics and logs. */
export interface MtaStsReport {
  domain: string;
  mode: MtaStsPolicy['mode'] | 'unknown';
  reason: 'fetch' | 'mx_mismatch' | 'tls';
  detail: string;
}

export interface AttemptDeps {
  hostname: string;
  resolver: MxResolver;
  /** Port of remote MX hosts (25; tests use another). */
  port: number;
  relay?: Relay;
  client: SmtpClient;
  mtaSts?: MtaStsPolicies;
  onMtaStsFailure?: (report: MtaStsReport) => void;
}

export interface AttemptOutcome {
  delivered: string[];
  deferred: Array<{ recipient: string; error: DeliveryError }>;
  failed: FailedRecipient[];
}

function toFailed(recipient: string, error: DeliveryError): FailedRecipient {
  return { recipient, status: error.status, diagnostic: error.message, ...(error.remoteMta ? { remoteMta: error.remoteMta } : {}) };
}

/** The address with its domain as an A-label (always valid on the wire, RFC 5890). */
function asciiDomain(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return address;
  try {
    return `${address.slice(0, at)}@${toAscii(address.slice(at + 1))}`;
  } catch {
    return address;
  }
}

async function targets(deps: AttemptDeps, domain: string): Promise<{ list: SmtpTarget[]; policy?: MtaStsPolicy }> {
  const relay = deps.relay;
  if (relay) {
    return { list: [{ host: relay.host, connectTo: relay.host, port: relay.port, tls: relay.requireTLS ? 'verified' : 'opportunistic', ...(relay.auth ? { auth: relay.auth } : {}) }] };
  }
  const hosts = await resolveMx(deps.resolver, domain);
  const ascii = toAscii(domain);
  const found = deps.mtaSts ? await deps.mtaSts.lookup(ascii) : {};
  const policy = found.policy;
  if (found.failure) deps.onMtaStsFailure?.({ domain: ascii, mode: policy?.mode ?? 'unknown', reason: 'fetch', detail: found.failure });
  const expand = (list: MxHost[], tls: SmtpTarget['tls']) => list.flatMap((h) => h.addresses.map((a) => ({ host: h.host, connectTo: a, port: deps.port, tls })));
  if (!policy || policy.mode === 'none') return { list: expand(hosts, 'opportunistic') };
  const matching = hosts.filter((h) => mxMatches(policy.mx, h.host));
  const others = hosts.filter((h) => !mxMatches(policy.mx, h.host));
  if (others.length > 0) {
    const detail = `MX ${others.map((h) => h.host).join(', ')} of ${ascii} not in its MTA-STS policy (mx: ${policy.mx.join(', ')})`;
    deps.onMtaStsFailure?.({ domain: ascii, mode: policy.mode, reason: 'mx_mismatch', detail });
  }
  if (policy.mode === 'testing') return { list: expand(hosts, 'opportunistic'), policy };
  if (matching.length === 0) {
    throw temporary('4.7.5', `MTA-STS policy of ${ascii} (enforce) matches no MX host: MX ${hosts.map((h) => h.host).join(', ')}, policy mx ${policy.mx.join(', ')}`);
  }
  return { list: expand(matching, 'verified'), policy };
}

export async function attemptDelivery(
  deps: AttemptDeps,
  entry: { domain: string; mailFrom: string; recipients: string[] },
  prepare: (peer: PeerFeatures) => Promise<PreparedMessage>,
): Promise<AttemptOutcome> {
  const all = (error: DeliveryError): AttemptOutcome =>
    error.kind === 'permanent'
      ? { delivered: [], deferred: [], failed: entry.recipients.map((r) => toFailed(r, error)) }
      : { delivered: [], deferred: entry.recipients.map((recipient) => ({ recipient, error })), failed: [] };
  let found: Awaited<ReturnType<typeof targets>>;
  try {
    found = await targets(deps, entry.domain);
  } catch (err) {
    if (err instanceof DeliveryError) return all(err);
    throw err;
  }
  const { list, policy } = found;
  const envelope = { from: entry.mailFrom === '' ? '' : asciiDomain(entry.mailFrom), to: entry.recipients.map(asciiDomain) };
  // The recipients as the peer was given them, mapped back to the queue's spelling.
  const original = new Map(envelope.to.map((a, i) => [a, entry.recipients[i] ?? a]));
  let last: DeliveryError = temporary('4.4.1', `no host of ${entry.domain} could be reached`);
  let unsupported: DeliveryError | undefined;
  for (const target of list) {
    try {
      const res = await deps.client.send(target, envelope, async (peer) => {
        if (policy?.mode === 'testing' && !peer.secure) {
          deps.onMtaStsFailure?.({ domain: policy.domain, mode: 'testing', reason: 'tls', detail: `${target.host} offered no TLS` });
        }
        return prepare(peer);
      });
      const out: AttemptOutcome = { delivered: res.accepted.map((a) => original.get(a) ?? a), deferred: [], failed: [] };
      for (const r of res.refused) {
        const recipient = original.get(r.recipient) ?? r.recipient;
        if (r.error.kind === 'permanent') out.failed.push(toFailed(recipient, r.error));
        else out.deferred.push({ recipient, error: r.error });
      }
      return out;
    } catch (err) {
      if (!(err instanceof DeliveryError)) throw err;
      if (err.status === '5.6.7') {
        unsupported = err;
        continue;
      }
      if (err.kind === 'permanent') return all(err);
      last = policy?.mode === 'enforce' && err.status === '4.7.5' ? temporary('4.7.5', `MTA-STS policy of ${policy.domain} (enforce) requires verified TLS: ${err.message}`, err.remoteMta, err) : err;
    }
  }
  if (policy?.mode === 'enforce' && last.status === '4.7.5') deps.onMtaStsFailure?.({ domain: policy.domain, mode: 'enforce', reason: 'tls', detail: last.message });
  return all(unsupported ?? last);
}
