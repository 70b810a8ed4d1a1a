// The cached MIME structure of each message (computed at delivery, read by every
// FETCH and SEARCH) against its blob.
//
// Every message is looked at for a missing or stale cache (no blob read needed);
// the re-parse that proves a current cache right reads the blob, so it runs on a
// sample unless asked for all of them.

import { indexMessage, readMessageIndex, toStoredStructure, MESSAGE_INDEX_VERSION } from '../mime/index.js';
import type { Store } from '../store/store.js';
import type { Account, Mailbox, MessageMeta } from '../store/types.js';

export type StructureMode = 'sample' | 'full';

export interface StructureProblem {
  kind: 'structure-missing' | 'structure-stale' | 'structure-mismatch';
  accountId: number;
  mailbox: string;
  mailboxId: number;
  uid: number;
  detail: string;
  repairable: true;
}

export interface MessageRef {
  account: Account;
  mailbox: Mailbox;
  message: MessageMeta;
}

/** Re-parses this many messages per account in sample mode (all, in smaller accounts). */
export const SAMPLE_PER_ACCOUNT = 50;

/** Every account's messages, one mailbox at a time (never the whole store in memory). */
export async function* allMessages(store: Store, accountId?: number): AsyncGenerator<MessageRef> {
  for (const account of await accountsOf(store, accountId)) {
    for (const mailbox of await store.listMailboxes(account.id)) {
      for (const message of await store.listMessages(mailbox.id)) yield { account, mailbox, message };
    }
  }
}

export async function accountsOf(store: Store, accountId?: number): Promise<Account[]> {
  if (accountId === undefined) return store.listAccounts();
  const account = await store.getAccountById(accountId);
  return account ? [account] : [];
}

/** What is wrong with a message's cache without reading its blob, if anything. */
export function cacheProblem(ref: MessageRef): StructureProblem | undefined {
  const where = { accountId: ref.account.id, mailbox: ref.mailbox.name, mailboxId: ref.mailbox.id, uid: ref.message.uid, repairable: true as const };
  const s = ref.message.structure;
  if (Object.keys(s).length === 0 || typeof s['root'] !== 'object') {
    return { kind: 'structure-missing', ...where, detail: `${ref.account.address} ${ref.mailbox.name} UID ${ref.message.uid}: no cached structure` };
  }
  if (readMessageIndex(s) === null) {
    return { kind: 'structure-stale', ...where, detail: `${ref.account.address} ${ref.mailbox.name} UID ${ref.message.uid}: structure version ${String(s['version'])}, current ${MESSAGE_INDEX_VERSION}` };
  }
  return undefined;
}

/** The structure its blob gives today; undefined when the blob cannot be read. */
export async function reindex(store: Store, message: MessageMeta): Promise<ReturnType<typeof toStoredStructure> | undefined> {
  let raw: Buffer;
  try {
    raw = await store.blobs.get(message.blobId);
  } catch {
    return undefined; // blob-missing is reported by the store's own check
  }
  return toStoredStructure(indexMessage(raw));
}

export async function checkStructure(
  store: Store,
  options: { accountId?: number; mode: StructureMode; onProgress?: (done: number, total: number) => void },
): Promise<StructureProblem[]> {
  const problems: StructureProblem[] = [];
  const perAccount = new Map<number, MessageRef[]>();
  for await (const ref of allMessages(store, options.accountId)) {
    const p = cacheProblem(ref);
    if (p) {
      problems.push(p);
      continue;
    }
    const list = perAccount.get(ref.account.id) ?? [];
    list.push(ref);
    perAccount.set(ref.account.id, list);
  }
  const chosen: MessageRef[] = [];
  for (const list of perAccount.values()) chosen.push(...(options.mode === 'full' ? list : sample(list, SAMPLE_PER_ACCOUNT)));
  let done = 0;
  for (const ref of chosen) {
    const fresh = await reindex(store, ref.message);
    if (fresh && JSON.stringify(fresh) !== JSON.stringify(ref.message.structure)) {
      problems.push({
        kind: 'structure-mismatch',
        accountId: ref.account.id,
        mailbox: ref.mailbox.name,
        mailboxId: ref.mailbox.id,
        uid: ref.message.uid,
        detail: `${ref.account.address} ${ref.mailbox.name} UID ${ref.message.uid}: cached structure differs from a re-parse of the blob`,
        repairable: true,
      });
    }
    options.onProgress?.(++done, chosen.length);
  }
  return problems;
}

/** Up to n items picked at random (Fisher–Yates on a copy). */
function sample<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  const copy = items.slice();
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(Math.random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}
