// The Sieve step of local delivery: each local recipient's active script decides
// where its copy goes (INBOX, other mailboxes, flags, nowhere), what is forwarded,
// and what automatic messages follow. smtp/deliver.ts carries out the plan with
// its durability and undo rules.
//
// Rules:
// - Never lose mail: a script that fails to compile or run (time, actions,
//   redirects, include loops, a missing mailbox without :create) falls back to
//   implicit keep in INBOX, and the failure is logged.
// - Planning has no side effect except creating mailboxes for ":create"; the
//   copies are stored and the redirects queued by the caller, before its 250.
//   Redirected copies carry an SRS-rewritten envelope sender (srs.ts).
// - Automatic messages (vacation replies, reject notices) go out only after the
//   delivery is durable, and a failure there never fails the delivery.
// - A spam verdict (if a filter ran before this step) sends the implicit keep to
//   the Junk mailbox; what the script files explicitly goes where it says.

import { createHash } from 'node:crypto';
import type { Store } from '../store/store.js';
import type { Mailbox, SystemFlag } from '../store/types.js';
import { AlreadyExists } from '../store/errors.js';
import { indexMessage, toStoredStructure } from '../mime/index.js';
import { buildDsn } from '../smtp/queue/dsn.js';
import { compileScript, type Script } from './validator.js';
import { DEFAULT_SIEVE_LIMITS, runScript, type SieveLimits, type SieveOutcome, type VacationAction } from './interpreter.js';
import { MessageView } from './message.js';
import { splitFlags } from './flags.js';
import { buildRejectNotice, buildVacationReply, vacationRefusal } from './replies.js';
import type { Srs } from './srs.js';

export interface SieveLogger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  debug(o: object, msg?: string): void;
}

export interface SieveDeliveryOptions {
  limits: SieveLimits;
  vacation: { minDays: number; maxDays: number; defaultDays: number };
}

export const DEFAULT_SIEVE_DELIVERY: SieveDeliveryOptions = {
  limits: DEFAULT_SIEVE_LIMITS,
  vacation: { minDays: 1, maxDays: 90, defaultDays: 7 },
};

export interface SieveHookDeps {
  store: Store;
  logger: SieveLogger;
  hostname: string;
  sieve: SieveDeliveryOptions;
  /** Rewrites the envelope sender of redirected copies; without it they keep the original. */
  srs?: Srs;
}

export interface LocalRecipient {
  accountId: number;
  /** The account's own address. */
  address: string;
  inboxId: number;
  /** The RCPT TO address that led here (alias, "+detail" form, ...). */
  rcpt: string;
}

export interface PlannedCopy {
  accountId: number;
  mailboxId: number;
  flags: SystemFlag[];
  keywords: string[];
}

export interface AutomaticMessage {
  accountId: number;
  to: string;
  bytes: Buffer;
  /** A vacation reply: recorded (and skipped if already sent) just before it goes out. */
  vacation?: { handle: string; periodMs: number };
}

export interface LocalPlan {
  copies: PlannedCopy[];
  /** Copies forwarded by redirect (RFC 5228 4.2), per envelope sender (SRS-rewritten). */
  forwards: Array<{ mailFrom: string; recipients: string[] }>;
  automatic: AutomaticMessage[];
  /** Set when the only recipient's script rejects: refuse at DATA with this reason (RFC 5429 2.2). */
  refuse: string | null;
  /** Copies a script chose not to store (discard, reject): audited once the delivery is done. */
  dropped: Array<{ accountId: number; address: string; action: 'discard' | 'reject'; script: string }>;
  /** The message's Message-ID field, for logs and the audit log. */
  messageId: string | null;
}

export interface PlanInput {
  mailFrom: string;
  /** Number of RCPT TO addresses in the transaction. */
  envelopeRecipients: number;
  local: LocalRecipient[];
  message: Buffer;
  /**
   * A spam filter's verdict from an earlier step: implicit keep goes to Junk — for every
   * recipient (true) or for the accounts in the set (the filter decides per account).
   */
  junk?: boolean | ReadonlySet<number>;
}

const compiled = new Map<string, Script>();
const MAX_COMPILED = 1000;

function compileCached(accountId: number, name: string, content: string): Script {
  const key = `${accountId}\0${name}\0${createHash('sha256').update(content).digest('hex')}`;
  let s = compiled.get(key);
  if (!s) {
    s = compileScript(content);
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, s);
  }
  return s;
}

/** Decides every local copy of one message. Throws only for store failures. */
export async function planLocalDelivery(deps: SieveHookDeps, input: PlanInput): Promise<LocalPlan> {
  const view = new MessageView(input.message);
  const plan: LocalPlan = { copies: [], forwards: [], automatic: [], refuse: null, dropped: [], messageId: view.rawHeaders('message-id')[0]?.trim().slice(0, 200) ?? null };
  const single = input.envelopeRecipients === 1 && input.local.length === 1;
  for (const r of input.local) {
    const outcome = await decide(deps, input, r, view);
    await apply(deps, input, r, view, outcome, plan, single);
  }
  return plan;
}

async function decide(deps: SieveHookDeps, input: PlanInput, r: LocalRecipient, view: MessageView): Promise<(SieveOutcome & { script: string }) | null> {
  const active = await deps.store.getActiveSieveScript(r.accountId);
  if (!active) return null;
  try {
    const script = compileCached(r.accountId, active.name, active.content);
    const boxes = await deps.store.listMailboxes(r.accountId);
    const names = new Set(boxes.map((b) => mailboxKey(b.name)));
    const outcome = await runScript(
      script,
      {
        message: view,
        envelope: { from: input.mailFrom, to: r.rcpt },
        mailboxExists: (name) => names.has(mailboxKey(name)),
        loadScript: async (name) => {
          const s = await deps.store.getSieveScript(r.accountId, name);
          return s ? compileCached(r.accountId, s.name, s.content) : undefined;
        },
        limits: deps.sieve.limits,
        now: new Date(),
      },
      active.name,
    );
    return { ...outcome, script: active.name };
  } catch (err) {
    deps.logger.warn({ err, account: r.address, script: active.name }, 'sieve script failed; message kept in INBOX');
    return null;
  }
}

function mailboxKey(name: string): string {
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

async function apply(
  deps: SieveHookDeps,
  input: PlanInput,
  r: LocalRecipient,
  view: MessageView,
  outcome: (SieveOutcome & { script: string }) | null,
  plan: LocalPlan,
  single: boolean,
): Promise<void> {
  const copies = new Map<number, { flags: Set<string> }>();
  const add = (mailboxId: number, flags: string[]): void => {
    // RFC 5228 2.10.3: one copy per mailbox; flags of several actions are merged.
    const c = copies.get(mailboxId) ?? { flags: new Set<string>() };
    for (const f of flags) c.flags.add(f);
    copies.set(mailboxId, c);
  };
  const implicitKeepBox = async (): Promise<number> => {
    const junk = typeof input.junk === 'boolean' ? input.junk : (input.junk?.has(r.accountId) ?? false);
    if (!junk) return r.inboxId;
    const boxes = await deps.store.listMailboxes(r.accountId);
    return boxes.find((b) => b.specialUse === '\\Junk')?.id ?? r.inboxId;
  };

  if (outcome === null) {
    add(await implicitKeepBox(), []);
  } else {
    const reject = outcome.actions.find((a) => a.kind === 'reject');
    const conflicting = outcome.actions.some((a) => a.kind === 'keep' || (a.kind === 'fileinto' && !a.copy) || a.kind === 'vacation');
    if (reject && conflicting) {
      // RFC 5429 2.1: reject is incompatible with keeping or answering the message.
      deps.logger.warn({ account: r.address }, 'sieve script both rejects and keeps a message; message kept in INBOX');
      add(r.inboxId, []);
    } else {
      for (const a of outcome.actions) {
        switch (a.kind) {
          case 'keep':
            add(r.inboxId, a.flags);
            break;
          case 'fileinto': {
            const box = await fileintoTarget(deps, r, a.mailbox, a.create);
            add(box ?? r.inboxId, a.flags);
            break;
          }
          case 'redirect':
            addForward(deps, input.mailFrom, r, a.address.toLowerCase(), plan);
            break;
          case 'discard':
            plan.dropped.push({ accountId: r.accountId, address: r.address, action: 'discard', script: outcome.script });
            break;
          case 'reject':
            plan.dropped.push({ accountId: r.accountId, address: r.address, action: 'reject', script: outcome.script });
            if (single) {
              plan.refuse = a.reason;
            } else if (input.mailFrom !== '') {
              const bytes = a.extended
                ? buildDsn({ hostname: deps.hostname, to: input.mailFrom, arrivalDate: new Date(), recipients: [{ recipient: r.rcpt, status: '5.7.1', diagnostic: a.reason }], original: input.message })
                : buildRejectNotice({ hostname: deps.hostname, recipient: r.rcpt, sender: input.mailFrom, reason: a.reason, original: input.message });
              plan.automatic.push({ accountId: r.accountId, to: input.mailFrom, bytes });
            }
            break;
          case 'vacation':
            planVacation(deps, input, r, view, a, plan);
            break;
        }
      }
      if (outcome.implicitKeep) add(await implicitKeepBox(), outcome.implicitKeepFlags);
    }
  }
  for (const [mailboxId, c] of copies) {
    const { system, keywords } = splitFlags([...c.flags]);
    plan.copies.push({ accountId: r.accountId, mailboxId, flags: system, keywords });
  }
}

function addForward(deps: SieveHookDeps, mailFrom: string, r: LocalRecipient, to: string, plan: LocalPlan): void {
  if (plan.forwards.some((f) => f.recipients.includes(to))) return;
  // The forwarding account's domain vouches for the copy (SPF at the destination).
  const from = deps.srs ? deps.srs.forward(mailFrom, r.address.slice(r.address.lastIndexOf('@') + 1)) : mailFrom;
  const group = plan.forwards.find((f) => f.mailFrom === from);
  if (group) group.recipients.push(to);
  else plan.forwards.push({ mailFrom: from, recipients: [to] });
}

/** The mailbox for fileinto; created for :create (RFC 5490 3.2); null: keep in INBOX instead. */
async function fileintoTarget(deps: SieveHookDeps, r: LocalRecipient, name: string, create: boolean): Promise<number | null> {
  if (mailboxKey(name) === 'INBOX') return r.inboxId;
  let box: Mailbox | undefined = await deps.store.getMailbox(r.accountId, name);
  if (!box && create) {
    try {
      box = await deps.store.createMailbox(r.accountId, name);
      deps.logger.info({ account: r.address, mailbox: name }, 'sieve created a mailbox');
    } catch (err) {
      if (!(err instanceof AlreadyExists)) {
        deps.logger.warn({ err, account: r.address, mailbox: name }, 'sieve could not create a mailbox; message kept in INBOX');
        return null;
      }
      box = await deps.store.getMailbox(r.accountId, name);
    }
  }
  if (!box) {
    // RFC 5228 4.1 leaves it to us: keeping in INBOX loses nothing.
    deps.logger.warn({ account: r.address, mailbox: name }, 'sieve fileinto a mailbox that does not exist; message kept in INBOX');
    return null;
  }
  return box.id;
}

function planVacation(deps: SieveHookDeps, input: PlanInput, r: LocalRecipient, view: MessageView, a: VacationAction, plan: LocalPlan): void {
  const own = [r.address, r.rcpt, ...a.addresses];
  const refusal = vacationRefusal(view, input.mailFrom, own);
  if (refusal) {
    deps.logger.debug({ account: r.address, sender: input.mailFrom, refusal }, 'sieve vacation: no reply');
    return;
  }
  const v = deps.sieve.vacation;
  // RFC 5230 4.1: out-of-range :days are clamped, not refused.
  const days = Math.min(v.maxDays, Math.max(v.minDays, a.days ?? v.defaultDays));
  const bytes = buildVacationReply({ action: a, hostname: deps.hostname, recipient: r.rcpt, sender: input.mailFrom, original: view });
  plan.automatic.push({ accountId: r.accountId, to: input.mailFrom, bytes, vacation: { handle: a.handle, periodMs: days * 86_400_000 } });
}

/**
 * After the delivery is durable: audits the copies scripts dropped, and sends the
 * automatic messages with the null envelope sender (RFC 3834 3.3), to a local
 * account's INBOX directly, elsewhere through the outbound queue. Never throws;
 * what fails is logged.
 */
export async function finishDelivery(deps: SieveHookDeps, plan: LocalPlan, sessionId: string): Promise<void> {
  for (const d of plan.dropped) {
    try {
      // DESIGN.md: every server-side removal, filters included, is audited.
      await deps.store.audit({
        actor: `sieve:${d.address}`,
        action: `sieve.${d.action}`,
        accountId: d.accountId,
        subject: `message ${plan.messageId ?? 'without Message-ID'} (${sessionId})`,
        reason: `the account's Sieve script "${d.script}" chose ${d.action}`,
        detail: { script: d.script },
      });
    } catch (err) {
      deps.logger.warn({ err, account: d.address }, 'sieve could not audit a dropped copy');
    }
  }
  await sendAutomaticMessages(deps, plan);
}

async function sendAutomaticMessages(deps: SieveHookDeps, plan: LocalPlan): Promise<void> {
  for (const m of plan.automatic) {
    try {
      if (m.vacation && !(await deps.store.recordAutoReply(m.accountId, m.vacation.handle, m.to, m.vacation.periodMs))) {
        deps.logger.debug({ to: m.to }, 'sieve vacation: already answered within :days');
        continue;
      }
      const blob = await deps.store.blobs.put(m.bytes);
      const local = await deps.store.getAccount(m.to.toLowerCase());
      const inbox = local && !local.disabled ? await deps.store.getMailbox(local.id, 'INBOX') : undefined;
      if (inbox) {
        const [res] = await deps.store.deliverMessage([inbox.id], { blobId: blob.id, size: blob.size, internalDate: new Date(), structure: toStoredStructure(indexMessage(m.bytes)) });
        if (res instanceof Error) throw res;
      } else {
        await deps.store.enqueueOutbound({ blobId: blob.id, size: blob.size, mailFrom: '', recipients: [m.to], accountId: m.accountId });
      }
      deps.logger.info({ to: m.to, kind: m.vacation ? 'vacation' : 'reject' }, 'sieve sent an automatic message');
    } catch (err) {
      deps.logger.warn({ err, to: m.to }, 'sieve could not send an automatic message');
    }
  }
}
