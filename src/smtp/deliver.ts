// What happens after the final "." of DATA (RFC 5321 4.1.1.4): trace headers,
// verification, loop check, one blob for every local recipient, the outbound queue
// for remote ones, and only then 250.
//
// Rules:
// - 250 only once every copy is durable (DESIGN.md durability rule): the Store's
//   promises resolve after fsync and commit.
// - Nothing half-delivered: if a later step fails after local copies committed, those
//   copies are expunged again (audited) before the sender gets 451 and retries. The
//   Store has no transaction spanning deliverMessage and enqueueOutbound, so this
//   compensation is the way to keep the rule; the queue step runs last because a
//   queue entry cannot be withdrawn.
// - SMTP has one reply for all recipients after DATA. A recipient whose quota filled
//   up between RCPT and DATA makes the whole message 452 (nothing delivered); the
//   recipient is then refused at RCPT on the retry (QuotaDeferrals), so the others
//   get the message without waiting for it. Postfix+Dovecot LMTP reach the same end
//   with per-recipient LMTP replies; SMTP has none.
// - Local copies get Return-Path (RFC 5321 4.4, added at final delivery); copies
//   leaving through the queue do not.
// - Forwarded copies (remote targets of an alias or catch-all, Sieve redirects) leave
//   with an SRS-rewritten envelope sender in the forwarding domain (sieve/srs.ts), so
//   SPF at the destination checks us and bounces come back here, to be sent on to the
//   original sender (recipients.ts). A message failing DMARC under a reject policy is
//   not forwarded at all: the destination would refuse it and the bounce would go to
//   a sender who most likely never sent it. It is refused at DATA instead.
// - Inbound mail gets the filter's verdict (src/filter/hook.ts) after verification and
//   before anything is written: a refusal is this reply; "junk" puts an account's copy
//   in its \Junk mailbox instead of INBOX. A later per-recipient placement step belongs
//   after filterStep, so it sees the filter's headers.

import type { Store } from '../store/store.js';
import type { Account, NewMessage } from '../store/types.js';
import { OverQuota, isStoreError } from '../store/errors.js';
import { indexMessage, toStoredStructure } from '../mime/index.js';
import { countReceived, type ReceivedMessage } from './message-reader.js';
import { QuotaDeferrals, overQuota, type ResolvedRecipient } from './recipients.js';
import { SmtpReply, reply } from './replies.js';
import type { Verification, VerifyInput } from './auth-results.js';
import { receivedHeader, withoutForgedAuthResults, type TraceInfo } from './trace.js';
import type { FilterInput, FilterVerdict } from '../filter/hook.js';
import type { Srs } from '../sieve/srs.js';
import { DEFAULT_SIEVE_DELIVERY, finishDelivery, planLocalDelivery, type LocalRecipient, type SieveDeliveryOptions, type SieveHookDeps } from '../sieve/deliver-hook.js';

export interface Logger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
  debug(o: object, msg?: string): void;
}

export interface DeliveryRequest {
  kind: 'inbound' | 'submission';
  mailFrom: string;
  recipients: ResolvedRecipient[];
  message: ReceivedMessage;
  trace: TraceInfo;
  /** The authenticated sender (submission). */
  account: Account | null;
}

export interface DeliveryDeps {
  store: Store;
  logger: Logger;
  hostname: string;
  maxMessageBytes: number;
  maxReceivedHeaders: number;
  dmarcRejectEnforced: boolean;
  copyToSent: boolean;
  deferrals: QuotaDeferrals;
  /** Inbound only: SPF/DKIM/DMARC/ARC verification. */
  verify: ((input: VerifyInput) => Promise<Verification>) | null;
  /** Inbound only: the spam and virus filter (src/filter/hook.ts); null: none. */
  filter?: ((input: FilterInput) => Promise<FilterVerdict>) | null;
  /** Sieve limits; the defaults when not given. */
  sieve?: SieveDeliveryOptions;
  /** Sender rewriting for redirected copies. */
  srs?: Srs;
}

/** Delivers one message and returns the 250 reply text, or throws an SmtpReply. */
export async function deliverMessage(deps: DeliveryDeps, req: DeliveryRequest): Promise<string> {
  const received = Buffer.concat(req.message.chunks, req.message.size);
  const hops = countReceived(received);
  if (hops >= deps.maxReceivedHeaders) throw reply.loop(hops);

  let authHeaders = '';
  let verification: Verification | null = null;
  if (deps.verify) {
    // Verified as it arrived, before anything of ours changes it.
    const v = await verifySafely(deps, deps.verify, req, received);
    verification = v;
    authHeaders = v.headers;
    // RFC 7489 6.6.4: with pct below 100 the policy applies to that share of failing mail.
    const d = v.dmarc;
    if (deps.dmarcRejectEnforced && d?.result === 'fail' && d.policy === 'reject' && Math.random() * 100 < d.pct) {
      throw reply.dmarcReject(d.domain ?? 'the sender domain');
    }
  }

  const local = distinctLocalTargets(req.recipients);
  const remote = [...new Set(req.recipients.flatMap((r) => r.remote))];
  const forwards = forwardGroups(deps, req, new Set(remote));
  // Filter step: a refusal is the reply to DATA; junk changes where local copies go.
  const verdict = deps.filter && req.kind === 'inbound' ? await filterStep(deps.filter, req, received, verification, local) : null;
  let body = withoutForgedAuthResults(received, deps.hostname);
  if (verdict) body = verdict.rewrite(body);
  const trace = receivedHeader(deps.hostname, req.trace, req.recipients.map((r) => r.address)) + authHeaders + (verdict?.headers ?? '');
  const localForm = Buffer.concat([Buffer.from(`Return-Path: <${req.mailFrom}>\r\n` + trace), body]);
  const outboundForm = Buffer.concat([Buffer.from(trace), body]);

  await checkQuotaNow(deps, local, localForm.length);

  const sieve: SieveHookDeps = { store: deps.store, logger: deps.logger, hostname: deps.hostname, sieve: deps.sieve ?? DEFAULT_SIEVE_DELIVERY, ...(deps.srs ? { srs: deps.srs } : {}) };
  // Sieve after the filter: scripts see its X-Spam-* headers; its junk verdict sends the implicit keep to Junk.
  const plan = await planLocalDelivery(sieve, { mailFrom: req.mailFrom, envelopeRecipients: req.recipients.length, local, message: localForm, ...(verdict?.junk ? { junk: verdict.junk } : {}) });
  if (plan.refuse !== null) throw reply.sieveReject(plan.refuse);
  const dmarc = verification?.dmarc;
  if ((forwards.length > 0 || plan.forwards.length > 0) && dmarc?.result === 'fail' && dmarc.policy === 'reject') {
    deps.logger.info({ session: req.trace.sessionId, domain: dmarc.domain }, 'smtp refused to forward a message failing DMARC p=reject');
    throw reply.dmarcForward(dmarc.domain ?? 'the sender domain');
  }

  const done: Array<{ mailboxId: number; uid: number }> = [];
  try {
    if (plan.copies.length > 0) {
      const stored = await storeBlob(deps, localForm);
      let failed: Error | undefined;
      // One transaction per distinct flag set (usually one: no flags).
      for (const group of groupByFlags(plan.copies)) {
        const results = await deps.store.deliverMessage(
          group.map((c) => c.mailboxId),
          { ...stored, flags: group[0]!.flags, keywords: group[0]!.keywords },
        );
        for (const [i, r] of results.entries()) {
          if (!(r instanceof Error)) {
            done.push({ mailboxId: r.mailboxId, uid: r.uid });
            continue;
          }
          failed ??= r;
          // Filled up since checkQuotaNow (a concurrent delivery): refuse it at the next RCPT.
          const target = group[i];
          if (r instanceof OverQuota && target) deps.deferrals.remember(target.accountId, localForm.length);
        }
      }
      if (failed) throw failed;
    }
    const sent = req.account && deps.copyToSent ? await sentMailboxOf(deps.store, req.account) : null;
    if (remote.length > 0 || forwards.length > 0 || plan.forwards.length > 0 || sent !== null) {
      const stored = await storeBlob(deps, outboundForm);
      if (sent !== null) {
        const r = await deps.store.appendMessage(sent, { ...stored, flags: ['\\Seen'] });
        done.push({ mailboxId: r.mailboxId, uid: r.uid });
      }
      if (remote.length > 0) {
        await deps.store.enqueueOutbound({ blobId: stored.blobId, size: stored.size, mailFrom: req.mailFrom, recipients: remote, accountId: req.account?.id ?? null });
      }
      for (const f of [...forwards, ...plan.forwards]) await deps.store.enqueueOutbound({ blobId: stored.blobId, size: stored.size, mailFrom: f.mailFrom, recipients: f.recipients, accountId: null });
    }
  } catch (err) {
    await undo(deps, done, err);
    if (err instanceof SmtpReply) throw err;
    if (err instanceof OverQuota) throw reply.quotaAtData();
    deps.logger.error({ err, session: req.trace.sessionId }, 'smtp delivery failed; sender told to retry');
    throw reply.storeFailure(err);
  }
  await finishDelivery(sieve, plan, req.trace.sessionId);
  deps.logger.debug({ session: req.trace.sessionId, local: local.length, remote: remote.length, forwarded: forwards.length, size: localForm.length }, 'smtp delivered');
  return `2.0.0 Ok: message accepted (${req.trace.sessionId})`;
}

type Accepted = Extract<FilterVerdict, { action: 'accept' }>;

/** Asks the filter for its verdict; a refusal becomes the SMTP reply to DATA. */
async function filterStep(
  filter: (input: FilterInput) => Promise<FilterVerdict>,
  req: DeliveryRequest,
  received: Buffer,
  v: Verification | null,
  local: ResolvedRecipient['local'],
): Promise<Accepted> {
  const verdict = await filter({
    message: received,
    ip: req.trace.remoteAddress,
    helo: req.trace.helo,
    mailFrom: req.mailFrom,
    rcpts: req.recipients.map((r) => r.address),
    accountIds: local.map((t) => t.accountId),
    sessionId: req.trace.sessionId,
    auth: v ? { spf: v.spf, dkim: v.dkim, dmarc: v.dmarc } : null,
  });
  if (verdict.action === 'accept') return verdict;
  throw new SmtpReply(verdict.code, verdict.enhanced, verdict.text);
}

async function verifySafely(
  deps: DeliveryDeps,
  verify: (input: VerifyInput) => Promise<Verification>,
  req: DeliveryRequest,
  body: Buffer,
): Promise<Verification> {
  try {
    return await verify({ raw: body, ip: req.trace.remoteAddress, helo: req.trace.helo, sender: req.mailFrom, mta: deps.hostname });
  } catch (err) {
    // Verification must not lose mail: record that nothing was verified (RFC 8601 2.2).
    deps.logger.warn({ err, session: req.trace.sessionId }, 'smtp message verification failed');
    return { headers: `Authentication-Results: ${deps.hostname}; none\r\n`, spf: 'none', dkim: [], dmarc: null };
  }
}

/** Alias forwards per rewritten envelope sender; a target also sent to directly is not sent twice. */
function forwardGroups(deps: DeliveryDeps, req: DeliveryRequest, direct: Set<string>): Array<{ mailFrom: string; recipients: string[] }> {
  const groups = new Map<string, Set<string>>();
  const taken = new Set(direct);
  for (const r of req.recipients) {
    if (!r.forwards || r.forwards.length === 0) continue;
    const mailFrom = deps.srs && r.forwardingDomain ? deps.srs.forward(req.mailFrom, r.forwardingDomain) : req.mailFrom;
    const group = groups.get(mailFrom) ?? new Set<string>();
    for (const to of r.forwards) {
      if (taken.has(to)) continue;
      taken.add(to);
      group.add(to);
    }
    groups.set(mailFrom, group);
  }
  return [...groups].filter(([, to]) => to.size > 0).map(([mailFrom, to]) => ({ mailFrom, recipients: [...to] }));
}

function distinctLocalTargets(recipients: ResolvedRecipient[]): LocalRecipient[] {
  const byInbox = new Map<number, LocalRecipient>();
  for (const r of recipients) for (const t of r.local) if (!byInbox.has(t.inboxId)) byInbox.set(t.inboxId, { ...t, rcpt: r.address });
  return [...byInbox.values()];
}

function groupByFlags<T extends { flags: string[]; keywords: string[] }>(copies: T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const c of copies) {
    const key = JSON.stringify([c.flags, c.keywords]);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.values()];
}

/** Quota may have filled since RCPT: re-read it so that nothing is half-delivered. */
async function checkQuotaNow(deps: DeliveryDeps, local: ResolvedRecipient['local'], size: number): Promise<void> {
  const accounts = await Promise.all(local.map((t) => deps.store.getAccountById(t.accountId)));
  const full = accounts.filter((a): a is Account => a !== undefined && overQuota(a, size));
  if (full.length === 0) return;
  for (const a of full) deps.deferrals.remember(a.id, size);
  throw reply.quotaAtData();
}

async function storeBlob(deps: DeliveryDeps, bytes: Buffer): Promise<NewMessage> {
  const blob = await deps.store.blobs.putStream(once(bytes), deps.maxMessageBytes + 64 * 1024);
  const index = indexMessage(bytes);
  return { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: toStoredStructure(index) };
}

async function* once(bytes: Buffer): AsyncIterable<Uint8Array> {
  yield bytes;
}

async function sentMailboxOf(store: Store, account: Account): Promise<number | null> {
  const boxes = await store.listMailboxes(account.id);
  return boxes.find((m) => m.specialUse === '\\Sent')?.id ?? null;
}

async function undo(deps: DeliveryDeps, done: Array<{ mailboxId: number; uid: number }>, cause: unknown): Promise<void> {
  const byMailbox = new Map<number, number[]>();
  for (const d of done) byMailbox.set(d.mailboxId, [...(byMailbox.get(d.mailboxId) ?? []), d.uid]);
  for (const [mailboxId, uids] of byMailbox) {
    try {
      await deps.store.expungeMessages(mailboxId, uids, {
        actor: 'system:smtp',
        reason: `delivery aborted before the reply (${isStoreError(cause) ? cause.code : 'error'}); the sender retries`,
      });
    } catch (err) {
      deps.logger.error({ err, mailboxId, uids }, 'smtp could not withdraw a partial delivery; the retry will duplicate it');
    }
  }
}
