// RCPT TO: decide at RCPT time whether a recipient can take the message, so that
// nothing is accepted that would later bounce (no backscatter; RFC 5321 6.2 and
// RFC 3834 spirit). Aliases and catch-alls expand here; remote targets (forwarding
// aliases, or submission to other domains) go to the outbound queue.
//
// Rules:
// - "user+detail@" falls back to "user@" (RFC 5233);
// - unknown user 550 5.1.1, disabled 550 5.2.1, mailbox full 452 4.2.2 (RFC 3463 3.2/3.3);
// - an alias is refused as a whole if one of its local targets is full or if none of
//   its targets can take mail: a partial alias delivery could never be retried;
// - quota is checked against SIZE= (RFC 1870) when given, or against the size of a
//   message that this recipient recently refused at DATA (see QuotaDeferrals).

import type { Store } from '../store/store.js';
import type { Account } from '../store/types.js';
import { reply } from './replies.js';
import type { Srs } from '../sieve/srs.js';

export interface LocalTarget {
  accountId: number;
  address: string;
  inboxId: number;
}

/** One envelope recipient, resolved to local INBOXes and remote addresses. */
export interface ResolvedRecipient {
  address: string;
  local: LocalTarget[];
  /** Sent on with the envelope sender as it is (submission to another domain, a bounce sent back). */
  remote: string[];
  /**
   * Remote targets of an alias (or catch-all) of a hosted domain: forwarded mail. Its
   * envelope sender is SRS-rewritten into `forwardingDomain` (smtp/deliver.ts).
   */
  forwards?: string[];
  /** The hosted domain that forwards (the alias's); set with `forwards`. */
  forwardingDomain?: string;
}

const MAX_ALIAS_DEPTH = 5;

/**
 * Remembers, per process, the size of a message a recipient could not take at DATA
 * time (its quota was used up between RCPT and DATA). The sender retries; at that
 * RCPT the recipient is refused with 452 while the message still does not fit, so
 * the retry goes through for the others. Per-process by design: in the worst case a
 * retry reaching another worker repeats the dance once.
 */
export class QuotaDeferrals {
  private readonly sizes = new Map<number, { size: number; until: number }>();
  constructor(private readonly ttlMs = 3_600_000, private readonly maxEntries = 10_000) {}

  remember(accountId: number, size: number): void {
    if (this.sizes.size >= this.maxEntries) this.sizes.clear();
    this.sizes.set(accountId, { size, until: Date.now() + this.ttlMs });
  }

  sizeHint(accountId: number): number {
    const e = this.sizes.get(accountId);
    if (!e) return 0;
    if (e.until < Date.now()) {
      this.sizes.delete(accountId);
      return 0;
    }
    return e.size;
  }
}

export function overQuota(account: Account, extraBytes: number): boolean {
  if (account.quotaBytes === 0) return false;
  return account.usedBytes >= account.quotaBytes || account.usedBytes + extraBytes > account.quotaBytes;
}

export interface ResolveOptions {
  /** Declared size (MAIL FROM SIZE=), 0 if none. */
  sizeHint: number;
  /** Submission may send to other domains; the MX refuses to relay. */
  allowRemote: boolean;
  deferrals: QuotaDeferrals;
  /** Where postmaster@ a hosted domain without its own postmaster, and bare <postmaster>, go. */
  postmaster?: string | undefined;
  /** Bounces to SRS0 addresses of redirected mail go back to the original sender. */
  srs?: Srs | undefined;
}

/** Resolves one RCPT TO address or throws the SmtpReply to refuse it with. */
export async function resolveRecipient(store: Store, address: string, options: ResolveOptions): Promise<ResolvedRecipient> {
  // RFC 5321 4.5.1: postmaster must work at every domain we serve, and without a domain.
  const isPostmaster = /^postmaster(?:@|$)/i.test(address);
  if (!address.includes('@')) {
    if (!isPostmaster || !options.postmaster) throw reply.badAddress();
    return resolveRecipient(store, options.postmaster, { ...options, postmaster: undefined });
  }
  let first = await store.resolveRecipient(address);
  if (first.kind === 'unknown-user' && isPostmaster && options.postmaster) first = await store.resolveRecipient(options.postmaster);
  // RFC 5233 subaddressing: "user+detail@domain" reaches user@domain when no account
  // or alias has the full address; Sieve sees the detail in the envelope.
  const plus = /^([^@+]+)\+[^@]*(@.+)$/.exec(address);
  if (first.kind === 'unknown-user' && plus) first = await store.resolveRecipient(plus[1]! + plus[2]!);
  // A reply or bounce to the rewritten sender of a forwarded or redirected message
  // (sieve/srs.ts) goes to the original sender, wherever that is; it is reversed once,
  // so an SRS address inside an SRS address cannot make a loop here.
  // A valid one (its hash checks) wins over a catch-all, which would otherwise swallow it.
  const catchAll = first.kind === 'alias' && first.alias.source.startsWith('@');
  const original = first.kind === 'unknown-user' || catchAll ? options.srs?.reverse(address) : null;
  if (original) {
    const back = await resolveRecipient(store, original, { ...options, allowRemote: true, srs: undefined });
    return { ...back, address };
  }
  switch (first.kind) {
    case 'unknown-domain':
      if (!options.allowRemote) throw reply.relayDenied();
      return { address, local: [], remote: [address] };
    case 'unknown-user':
      throw reply.unknownUser();
    case 'account': {
      const { account } = first;
      if (account.disabled) throw reply.disabled();
      if (overQuota(account, Math.max(options.sizeHint, options.deferrals.sizeHint(account.id)))) throw reply.overQuota();
      return { address, local: [await inboxOf(store, account)], remote: [] };
    }
    case 'alias': {
      const forwards: string[] = [];
      const out: ResolvedRecipient = { address, local: [], remote: [], forwards, forwardingDomain: address.slice(address.lastIndexOf('@') + 1).toLowerCase() };
      let disabled = 0;
      await expand(store, first.targets, out, forwards, options, 1, new Set([address.toLowerCase()]), () => disabled++);
      if (out.local.length === 0 && forwards.length === 0) throw disabled > 0 ? reply.disabled() : reply.unknownUser();
      return out;
    }
  }
}

async function expand(
  store: Store,
  targets: string[],
  out: ResolvedRecipient,
  forwards: string[],
  options: ResolveOptions,
  depth: number,
  seen: Set<string>,
  onDisabled: () => void,
): Promise<void> {
  for (const target of targets) {
    const key = target.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const r = await store.resolveRecipient(target);
    if (r.kind === 'unknown-domain') {
      // Forwarding to another domain: the outbound queue delivers it.
      if (!forwards.includes(key)) forwards.push(key);
    } else if (r.kind === 'account') {
      if (r.account.disabled) {
        onDisabled();
        continue;
      }
      if (overQuota(r.account, Math.max(options.sizeHint, options.deferrals.sizeHint(r.account.id)))) throw reply.overQuota();
      if (!out.local.some((t) => t.accountId === r.account.id)) out.local.push(await inboxOf(store, r.account));
    } else if (r.kind === 'alias' && depth < MAX_ALIAS_DEPTH) {
      await expand(store, r.targets, out, forwards, options, depth + 1, seen, onDisabled);
    }
    // An alias target that names no one (or nests too deep) is skipped; the
    // alias is refused only if nothing at all remains.
  }
}

async function inboxOf(store: Store, account: Account): Promise<LocalTarget> {
  const inbox = await store.getMailbox(account.id, 'INBOX');
  // Every account is created with an INBOX; missing one is a store problem (451).
  if (!inbox) throw reply.storeFailure(new Error(`account ${account.address} has no INBOX`));
  return { accountId: account.id, address: account.address, inboxId: inbox.id };
}
