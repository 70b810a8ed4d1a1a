// RFC 5465 NOTIFY: which events a session asked for, for which mailboxes, and
// the unsolicited responses that report them.
//
// Rules:
// - The selected mailbox is reported by its MailboxView (EXISTS, EXPUNGE, FETCH),
//   never by STATUS (RFC 5465 5.2). With a `selected` group its changes are pushed
//   as they happen, EXPUNGE included (except while a FETCH, STORE or SEARCH runs,
//   RFC 9051 7.5.1); with `selected-delayed` EXPUNGE waits for a command that
//   allows it; without either, the selected mailbox follows the ordinary rules.
// - Other mailboxes: message events become one STATUS per mailbox (coalesced);
//   MailboxName and SubscriptionChange become LIST, metadata changes METADATA.
// - A mailbox is governed by the first group whose filter matches it.
// - The notifier only queues: the connection sends when the session allows it.
//   More than `maxPending` queued notifications: `* OK [NOTIFICATIONOVERFLOW]`
//   and NOTIFY is off, as after NOTIFY NONE (RFC 5465 5.8).

import type { ChangeEvent, Store } from '../store/store.js';
import type { Mailbox } from '../store/types.js';
import type { FetchItem, NotifyArgs, NotifyFilter, NotifyGroup } from './parser/index.js';
import { bad, no } from './errors.js';
import { mailboxName, untagged, untaggedStatus } from './respond.js';

/** The events this server delivers, as RFC 5465 spells them (listed in [BADEVENT]). */
export const NOTIFY_EVENTS = ['MessageNew', 'MessageExpunge', 'FlagChange', 'MailboxName', 'SubscriptionChange', 'MailboxMetadataChange', 'ServerMetadataChange'] as const;
export type NotifyEventName = (typeof NOTIFY_EVENTS)[number];
const BY_UPPER = new Map<string, NotifyEventName>(NOTIFY_EVENTS.map((e) => [e.toUpperCase(), e]));
const METADATA_EVENTS: ReadonlySet<NotifyEventName> = new Set(['MailboxMetadataChange', 'ServerMetadataChange']);

export interface NotifySelected {
  /** selected-delayed: EXPUNGE only at the end of a command that allows it. */
  delayed: boolean;
  events: ReadonlySet<NotifyEventName>;
  /** MessageNew fetch attributes: a FETCH after each new message's EXISTS. */
  fetch: FetchItem[];
}

export interface NotifySpec {
  selected: NotifySelected | null;
  /** The other groups, in the client's order. */
  groups: Array<{ filter: Exclude<NotifyFilter, { kind: 'selected' | 'selected-delayed' }>; events: ReadonlySet<NotifyEventName> }>;
  /** STATUS of every matching mailbox before the tagged OK. */
  status: boolean;
}

/** Items of FETCH that set \Seen: a notification must not change the mailbox (RFC 5465 5.2). */
function peekOnly(item: FetchItem): FetchItem {
  if (item.item === 'BODY[]' || item.item === 'BINARY') return { ...item, peek: true };
  if (item.item === 'RFC822' || item.item === 'RFC822.TEXT') throw bad(`${item.item} would set \\Seen; use BODY.PEEK in MessageNew`);
  return item;
}

/**
 * Checks a NOTIFY SET against RFC 5465 and what this server delivers. Unknown or
 * undeliverable events: NO [BADEVENT (the events we deliver)]; rule breaks: BAD.
 */
export function notifySpec(args: Extract<NotifyArgs, { set: true }>, metadata: boolean): NotifySpec {
  const offered = NOTIFY_EVENTS.filter((e) => metadata || !METADATA_EVENTS.has(e));
  const spec: NotifySpec = { selected: null, groups: [], status: args.status };
  const seen = new Set<string>();
  for (const g of args.groups) {
    const key = filterKey(g.filter);
    if (seen.has(key)) throw bad(`Mailbox filter ${g.filter.kind} given twice`);
    seen.add(key);
    const events = new Set<NotifyEventName>();
    for (const e of g.events) {
      const name = BY_UPPER.get(e.name);
      if (!name || !offered.includes(name)) throw no(`Event ${e.name} is not supported`, `BADEVENT (${offered.join(' ')})`);
      events.add(name);
    }
    checkEvents(g, events);
    const fetch = g.events.find((e) => e.fetch !== undefined)?.fetch ?? [];
    if (g.filter.kind === 'selected' || g.filter.kind === 'selected-delayed') {
      if (spec.selected) throw bad('Only one of selected and selected-delayed');
      spec.selected = { delayed: g.filter.kind === 'selected-delayed', events, fetch: fetch.map(peekOnly) };
    } else {
      if (fetch.length > 0) throw bad('MessageNew fetch attributes are only for the selected mailbox');
      spec.groups.push({ filter: g.filter, events });
    }
  }
  return spec;
}

function filterKey(f: NotifyFilter): string {
  if (f.kind === 'selected-delayed') return 'selected';
  if (f.kind === 'subtree' || f.kind === 'mailboxes') return `${f.kind} ${JSON.stringify([...f.mailboxes].sort())}`;
  return f.kind;
}

/** RFC 5465 5: MessageNew and MessageExpunge come together, FlagChange only with both. */
function checkEvents(g: NotifyGroup, events: ReadonlySet<NotifyEventName>): void {
  const isNew = events.has('MessageNew');
  const expunge = events.has('MessageExpunge');
  if (isNew !== expunge) throw bad('MessageNew and MessageExpunge must be requested together');
  if (events.has('FlagChange') && !isNew) throw bad('FlagChange needs MessageNew and MessageExpunge');
}

function matches(f: NotifySpec['groups'][number]['filter'], name: string, subscribed: boolean): boolean {
  switch (f.kind) {
    case 'personal':
      return true;
    case 'inboxes':
      // Mail is delivered to INBOX; Sieve fileinto targets are ordinary mailboxes.
      return name === 'INBOX';
    case 'subscribed':
      return subscribed;
    case 'mailboxes':
      return f.mailboxes.includes(name);
    case 'subtree':
      return f.mailboxes.some((m) => name === m || name.startsWith(m + '/'));
    default:
      return false; // selected / selected-delayed: not among these groups
  }
}

type Pending =
  | { kind: 'status'; mailboxId: number; what: Set<'exists' | 'expunge' | 'flags'> }
  | { kind: 'event'; event: Exclude<ChangeEvent, { mailboxId: number }> };

export class Notifier {
  private readonly statusFor = new Map<number, Set<'exists' | 'expunge' | 'flags'>>();
  private readonly events: Array<Exclude<ChangeEvent, { mailboxId: number }>> = [];
  /** Too much queued: the session reports NOTIFICATIONOVERFLOW and turns NOTIFY off. */
  overflowed = false;
  private readonly unsubscribe: () => void;

  constructor(
    readonly spec: NotifySpec,
    private readonly store: Store,
    accountId: number,
    private readonly selectedMailboxId: () => number | null,
    private readonly maxPending: number,
    private readonly wake: () => void,
  ) {
    this.unsubscribe = store.bus.subscribe(accountId, (ev) => this.onEvent(ev));
  }

  close(): void {
    this.unsubscribe();
  }

  /** Whether changes of the selected mailbox are pushed as they happen. */
  get pushesSelected(): boolean {
    return this.spec.selected !== null && this.spec.selected.events.size > 0;
  }

  get pending(): boolean {
    return this.statusFor.size > 0 || this.events.length > 0;
  }

  private onEvent(ev: ChangeEvent): void {
    if (this.overflowed) return;
    if ('mailboxId' in ev) {
      if (ev.mailboxId === this.selectedMailboxId()) return; // the view reports it
      if (this.spec.groups.length === 0) return;
      let what = this.statusFor.get(ev.mailboxId);
      if (!what) this.statusFor.set(ev.mailboxId, (what = new Set()));
      what.add(ev.kind);
    } else {
      if (!this.wants(ev)) return;
      this.events.push(ev);
    }
    if (this.statusFor.size + this.events.length > this.maxPending) {
      this.overflowed = true;
      this.statusFor.clear();
      this.events.length = 0;
    }
    this.wake();
  }

  /** A cheap first cut by event kind; the mailbox filters are applied when sending. */
  private wants(ev: Exclude<ChangeEvent, { mailboxId: number }>): boolean {
    const any = (e: NotifyEventName) => this.spec.groups.some((g) => g.events.has(e)) || (this.spec.selected?.events.has(e) ?? false);
    if (ev.kind === 'metadata') return any(ev.mailbox === '' ? 'ServerMetadataChange' : 'MailboxMetadataChange');
    return any(ev.kind === 'subscription' ? 'SubscriptionChange' : 'MailboxName');
  }

  /** The events that apply to a mailbox: the selected group for the selected one, else the first matching group. */
  private eventsFor(name: string, subscribed: boolean, isSelected: boolean): ReadonlySet<NotifyEventName> {
    if (isSelected && this.spec.selected) return this.spec.selected.events;
    return this.spec.groups.find((g) => matches(g.filter, name, subscribed))?.events ?? new Set();
  }

  /** The STATUS of a mailbox as NOTIFY reports it (RFC 5465 5.1-5.3). */
  statusLine(m: Mailbox, what: ReadonlySet<'exists' | 'expunge' | 'flags'> | 'all', opts: { utf8: boolean; condstore: boolean }): Buffer | null {
    const events = this.eventsFor(m.name, m.subscribed, false);
    const items: string[] = [];
    const all = what === 'all';
    if ((all || what.has('exists') || what.has('expunge')) && events.has('MessageNew')) items.push(`MESSAGES ${m.messages}`, `UIDNEXT ${m.uidNext}`);
    if (all && items.length > 0) items.push(`UIDVALIDITY ${m.uidValidity}`);
    if (items.length > 0 || (events.has('FlagChange') && (all || what.has('flags')))) items.push(`UNSEEN ${m.unseen}`);
    if (items.length > 0 && opts.condstore) items.push(`HIGHESTMODSEQ ${m.highestModseq}`);
    if (items.length === 0) return null;
    return untagged('STATUS ', mailboxName(m.name, { utf8: opts.utf8 }), ` (${items.join(' ')})`);
  }

  /** NOTIFY SET STATUS: the STATUS of every mailbox a group covers with message events. */
  async *initialStatus(accountId: number, opts: { utf8: boolean; condstore: boolean }): AsyncGenerator<Buffer, void, undefined> {
    const selected = this.selectedMailboxId();
    for (const m of await this.store.listMailboxes(accountId)) {
      if (m.id === selected) continue;
      const line = this.statusLine(m, 'all', opts);
      if (line) yield line;
    }
  }

  /** The queued notifications as untagged responses (empties the queue). */
  async *drain(accountId: number, opts: { utf8: boolean; condstore: boolean }): AsyncGenerator<Buffer, void, undefined> {
    if (this.overflowed) {
      this.close();
      yield untaggedStatus('OK', 'Too many notifications, NOTIFY is now off', 'NOTIFICATIONOVERFLOW');
      return;
    }
    const queued: Pending[] = [
      ...[...this.statusFor].map(([mailboxId, what]) => ({ kind: 'status' as const, mailboxId, what })),
      ...this.events.map((event) => ({ kind: 'event' as const, event })),
    ];
    this.statusFor.clear();
    this.events.length = 0;
    const selected = this.selectedMailboxId();
    let byName: Map<string, Mailbox> | null = null;
    const lookup = async (name: string): Promise<Mailbox | undefined> => {
      byName ??= new Map((await this.store.listMailboxes(accountId)).map((m) => [m.name, m]));
      return byName.get(name);
    };
    for (const p of queued) {
      if (p.kind === 'status') {
        if (p.mailboxId === selected) continue;
        const m = await this.store.getMailboxById(p.mailboxId);
        if (!m) continue;
        const line = this.statusLine(m, p.what, opts);
        if (line) yield line;
        continue;
      }
      const ev = p.event;
      const name = (n: string) => mailboxName(n, { utf8: opts.utf8 });
      if (ev.kind === 'metadata') {
        if (ev.mailbox === '') {
          if (!this.wantsAnywhere('ServerMetadataChange')) continue;
        } else {
          const m = await lookup(ev.mailbox);
          if (!this.eventsFor(ev.mailbox, m?.subscribed ?? false, m !== undefined && m.id === selected).has('MailboxMetadataChange')) continue;
        }
        yield untagged('METADATA ', name(ev.mailbox), ` ${ev.entries.join(' ')}`);
        continue;
      }
      if (ev.kind === 'subscription') {
        const m = await lookup(ev.name);
        if (!this.eventsFor(ev.name, true, m !== undefined && m.id === selected).has('SubscriptionChange')) continue;
        yield untagged(`LIST (${m?.subscribed ? '\\Subscribed' : ''}) "/" `, name(ev.name));
        continue;
      }
      // MailboxName: a mailbox appeared, went away or was renamed (RFC 5465 5.4).
      const current = ev.kind === 'mailbox-renamed' && ev.newName !== undefined ? ev.newName : ev.name;
      const m = await lookup(current);
      const covered = this.eventsFor(current, m?.subscribed ?? false, false).has('MailboxName') || this.eventsFor(ev.name, false, false).has('MailboxName');
      if (!covered) continue;
      if (ev.kind === 'mailbox-deleted') yield untagged('LIST (\\NonExistent) "/" ', name(ev.name));
      else if (ev.kind === 'mailbox-created') yield untagged('LIST () "/" ', name(ev.name));
      else if (ev.newName !== undefined) yield untagged('LIST () "/" ', name(ev.newName), ' ("OLDNAME" (', name(ev.name), '))');
    }
  }

  private wantsAnywhere(e: NotifyEventName): boolean {
    return this.spec.groups.some((g) => g.events.has(e)) || (this.spec.selected?.events.has(e) ?? false);
  }
}
