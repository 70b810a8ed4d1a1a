// Row ↔ plain data conversions shared by the SQL store modules.

import type { Selectable } from 'kysely';
import type { AccountsTable, AliasesTable, DomainsTable, MailboxesTable, MessagesTable } from './schema.js';
import type { Account, Alias, Domain, Mailbox, MessageMeta, SpecialUse, StoredStructure, SystemFlag } from '../types.js';

export const FLAG_BITS: Readonly<Record<SystemFlag, number>> = {
  '\\Seen': 1,
  '\\Answered': 2,
  '\\Flagged': 4,
  '\\Deleted': 8,
  '\\Draft': 16,
};
export const SEEN_BIT = FLAG_BITS['\\Seen'];

export function flagsToBits(flags: readonly SystemFlag[]): number {
  let bits = 0;
  for (const f of flags) bits |= FLAG_BITS[f];
  return bits;
}

export function bitsToFlags(bits: number): SystemFlag[] {
  const out: SystemFlag[] = [];
  for (const [flag, bit] of Object.entries(FLAG_BITS) as Array<[SystemFlag, number]>) {
    if (bits & bit) out.push(flag);
  }
  return out;
}

export function toDomain(r: Selectable<DomainsTable>): Domain {
  return { id: Number(r.id), name: r.name, createdAt: new Date(Number(r.created_at)) };
}

export function toAccount(r: Selectable<AccountsTable>): Account {
  return {
    id: Number(r.id),
    address: r.address,
    domainId: Number(r.domain_id),
    passwordHash: r.password_hash,
    quotaBytes: Number(r.quota_bytes),
    usedBytes: Number(r.used_bytes),
    disabled: Number(r.disabled) !== 0,
    createdAt: new Date(Number(r.created_at)),
  };
}

export function toAlias(r: Selectable<AliasesTable>): Alias {
  return { id: Number(r.id), source: r.source, domainId: Number(r.domain_id), targets: JSON.parse(r.targets) as string[] };
}

export function toMailbox(r: Selectable<MailboxesTable>): Mailbox {
  return {
    id: Number(r.id),
    accountId: Number(r.account_id),
    name: r.name,
    specialUse: (r.special_use as SpecialUse | null) ?? null,
    subscribed: Number(r.subscribed) !== 0,
    uidValidity: Number(r.uid_validity),
    uidNext: Number(r.uid_next),
    highestModseq: Number(r.highest_modseq),
    messages: Number(r.messages),
    unseen: Number(r.unseen),
    bytes: Number(r.bytes),
  };
}

export type MessageRow = Omit<Selectable<MessagesTable>, 'structure' | 'id'> & { structure?: string };

export function toMessage(r: MessageRow): MessageMeta {
  return {
    mailboxId: Number(r.mailbox_id),
    uid: Number(r.uid),
    messageId: r.message_id,
    modseq: Number(r.modseq),
    flags: bitsToFlags(Number(r.flags)),
    keywords: JSON.parse(r.keywords) as string[],
    internalDate: new Date(Number(r.internal_date)),
    size: Number(r.size),
    blobId: r.blob_id,
    structure: r.structure === undefined ? {} : (JSON.parse(r.structure) as StoredStructure),
  };
}

/** Keywords are case-insensitive atoms (RFC 9051 2.3.2); keep the first spelling seen. */
export function mergeKeywords(current: readonly string[], add: readonly string[]): string[] {
  const out = [...current];
  const seen = new Set(current.map((k) => k.toLowerCase()));
  for (const k of add) {
    if (!seen.has(k.toLowerCase())) {
      seen.add(k.toLowerCase());
      out.push(k);
    }
  }
  return out;
}

export function removeKeywords(current: readonly string[], remove: readonly string[]): string[] {
  const drop = new Set(remove.map((k) => k.toLowerCase()));
  return current.filter((k) => !drop.has(k.toLowerCase()));
}

export function sameKeywords(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a.map((k) => k.toLowerCase()));
  return b.every((k) => set.has(k.toLowerCase()));
}
