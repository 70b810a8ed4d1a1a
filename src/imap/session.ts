// One IMAP session's state and command dispatch (RFC 9051 3, 6).
//
// Rules:
// - The state is a discriminated union: only a 'selected' state has a view, so
//   a handler cannot reach a mailbox that is not selected.
// - Which command runs in which state is the command table's business
//   (command-table.ts); handlers can rely on it.
// - After every command, before its tagged reply, the selected view is synced
//   and other sessions' changes are reported; EXPUNGE is held back after
//   FETCH, STORE and SEARCH (RFC 9051 7.5.1).
// - A ProtocolError or store error becomes one tagged NO/BAD; anything else
//   propagates and ends this session only (the connection logs it).

import type { Account } from '../store/types.js';
import type { ImapCommand, ParserOptions } from './parser/index.js';
import { commandDisabled } from './capabilities.js';
import { COMMAND_TABLE } from './command-table.js';
import { ProtocolError, fromStoreError } from './errors.js';
import type { CommandContext, Done, Reply } from './handler.js';
import type { MailboxView } from './mailbox-view.js';
import type { ImapOptions } from './options.js';
import { tagged, untaggedStatus } from './respond.js';
import { Notifier, type NotifySpec } from './notify.js';
import { fetch } from './commands/fetch.js';
import type { Store } from '../store/store.js';

/** Default of ImapLimits.notifyMaxPending. */
const DEFAULT_NOTIFY_MAX_PENDING = 1000;
import type { SessionObserver } from '../sessions/recorder.js';

export type SessionState =
  | { kind: 'not-authenticated' }
  | { kind: 'authenticated'; account: Account }
  | { kind: 'selected'; account: Account; view: MailboxView }
  | { kind: 'logout' };

export type StateKind = SessionState['kind'];

/** Commands whose responses name messages by MSN: no EXPUNGE while they run (RFC 9051 7.5.1). */
const MSN_STABLE = new Set(['FETCH', 'STORE', 'SEARCH', 'SORT', 'THREAD']);

export class Session {
  state: SessionState = { kind: 'not-authenticated' };
  /** Extensions turned on by ENABLE or implicitly (CONDSTORE by a CONDSTORE command). */
  readonly enabled = new Set<string>();
  secure: boolean;
  readonly remoteAddress: string;
  /** SEARCHRES `$` (RFC 5182): UIDs of the last SEARCH RETURN (SAVE). */
  savedSearch: number[] | null = null;
  /** Set by the connection: called when the selected mailbox changed elsewhere (IDLE pushes it). */
  onMailboxChange: () => void = () => undefined;
  failedLogins = 0;
  /** COMPRESS DEFLATE is active (RFC 4978). */
  compressed = false;
  /** RFC 5465 NOTIFY, when set. */
  notifier: Notifier | null = null;
  /** Set by the connection: called when a NOTIFY event is queued. */
  notifyWake: () => void = () => undefined;
  /** What this session reports to the session recorder, when there is one. */
  observer: SessionObserver | undefined;

  constructor(
    readonly options: ImapOptions,
    conn: { secure: boolean; remoteAddress: string },
  ) {
    this.secure = conn.secure;
    this.remoteAddress = conn.remoteAddress;
  }

  get rev2(): boolean {
    return this.enabled.has('IMAP4REV2');
  }

  get utf8(): boolean {
    return this.enabled.has('UTF8=ACCEPT') || this.rev2;
  }

  get condstore(): boolean {
    return this.enabled.has('CONDSTORE') || this.enabled.has('QRESYNC');
  }

  get qresync(): boolean {
    return this.enabled.has('QRESYNC');
  }

  parserOptions(): ParserOptions {
    return { utf8Accept: this.utf8 };
  }

  account(): Account {
    if (this.state.kind === 'authenticated' || this.state.kind === 'selected') return this.state.account;
    throw new ProtocolError('bad', 'Not authenticated');
  }

  view(): MailboxView {
    if (this.state.kind === 'selected') return this.state.view;
    throw new ProtocolError('bad', 'No mailbox selected');
  }

  /** Leaves the selected state (CLOSE, UNSELECT, a failed SELECT, LOGOUT). */
  deselect(): void {
    if (this.state.kind !== 'selected') return;
    this.state.view.close();
    this.state = { kind: 'authenticated', account: this.state.account };
    this.savedSearch = null;
  }

  close(): void {
    this.deselect();
    this.setNotify(null);
    this.state = { kind: 'logout' };
  }

  /** Replaces the NOTIFY settings (null: NOTIFY NONE). */
  setNotify(spec: NotifySpec | null, store?: Store): Notifier | null {
    this.notifier?.close();
    this.notifier = null;
    if (spec && store) {
      const max = this.options.limits.notifyMaxPending ?? DEFAULT_NOTIFY_MAX_PENDING;
      const selectedId = () => (this.state.kind === 'selected' ? this.state.view.mailboxId : null);
      this.notifier = new Notifier(spec, store, this.account().id, selectedId, max, () => this.notifyWake());
    }
    return this.notifier;
  }

  /** May a literal be sent for this command now? (Checked before `+ Ready`, RFC 9051 7.5.) */
  allowsCommand(name: string | undefined): boolean {
    if (name === undefined) return false;
    const entry = COMMAND_TABLE.get(name);
    return entry !== undefined && entry.states.includes(this.state.kind);
  }

  /** Runs one command: untagged responses, then the tagged one. */
  async *execute(cmd: ImapCommand, ctx: CommandContext): Reply {
    const entry = COMMAND_TABLE.get(cmd.name);
    if (!entry || commandDisabled(this, cmd.name)) {
      yield tagged(cmd.tag, 'BAD', `${cmd.name} is not supported`);
      return undefined;
    }
    if (!entry.states.includes(this.state.kind)) {
      yield tagged(cmd.tag, 'BAD', stateText(this.state.kind, entry.states, cmd.name));
      return undefined;
    }
    const msnStable = MSN_STABLE.has(cmd.name);
    let done: Done | undefined;
    try {
      done = yield* entry.run(cmd, ctx);
      if (done?.after === 'idle') return done;
      if (done?.after !== 'logout') yield* this.updates(!msnStable, ctx);
    } catch (err) {
      const pe = err instanceof ProtocolError ? err : fromStoreError(err);
      if (!pe) throw err;
      if (pe.kind === 'bye') {
        yield untaggedStatus('BYE', pe.message, pe.code);
        return { after: 'logout' };
      }
      if (!this.mailboxDeleted()) yield* this.updates(false, ctx);
      yield tagged(cmd.tag, pe.kind === 'no' ? 'NO' : 'BAD', pe.message, pe.code);
      return undefined;
    }
    yield tagged(cmd.tag, 'OK', done?.text ?? `${cmd.name} completed`, done?.code);
    return done;
  }

  private mailboxDeleted(): boolean {
    return this.state.kind === 'selected' && this.state.view.deleted;
  }

  /** Pending changes of the selected mailbox, then queued NOTIFY events, as untagged responses. */
  async *updates(allowExpunge: boolean, ctx?: CommandContext): AsyncGenerator<Buffer, void, undefined> {
    if (this.state.kind === 'selected') {
      const view = this.state.view;
      if (view.deleted) throw new ProtocolError('bye', 'Selected mailbox was deleted, have to disconnect');
      const lines = await view.sync({ allowExpunge, condstore: this.condstore, qresync: this.qresync });
      yield* lines;
      const added = view.takeAdded();
      const fetchItems = this.notifier?.pushesSelected ? (this.notifier.spec.selected?.fetch ?? []) : [];
      if (ctx && added.length > 0 && fetchItems.length > 0) {
        // RFC 5465 5.2: MessageNew with fetch attributes, after the EXISTS.
        const ranges = added.map((u) => ({ from: u, to: u }));
        const gen = fetch({ tag: '*', name: 'FETCH', uid: true, set: { kind: 'ranges', ranges }, items: fetchItems, changedSince: null, vanished: false }, ctx);
        for (let r = await gen.next(); !r.done; r = await gen.next()) yield r.value;
      }
    }
    yield* this.notifications();
  }

  /** What the connection pushes while no command runs (NOTIFY is on). */
  async *background(ctx: CommandContext): AsyncGenerator<Buffer, void, undefined> {
    const n = this.notifier;
    if (!n) return;
    if (this.state.kind === 'selected' && n.pushesSelected) yield* this.updates(!(n.spec.selected?.delayed ?? false), ctx);
    else yield* this.notifications();
  }

  private async *notifications(): AsyncGenerator<Buffer, void, undefined> {
    const n = this.notifier;
    if (!n || !(n.pending || n.overflowed) || (this.state.kind !== 'authenticated' && this.state.kind !== 'selected')) return;
    // An overflow during this drain is reported by the next one.
    const overflowed = n.overflowed;
    yield* n.drain(this.state.account.id, { utf8: this.utf8, condstore: this.condstore });
    if (overflowed) this.notifier = null;
  }
}

function stateText(kind: StateKind, allowed: readonly StateKind[], name: string): string {
  if (kind === 'not-authenticated' && allowed.includes('authenticated')) return `${name} not allowed before authentication`;
  if (kind === 'authenticated' && allowed.includes('selected')) return `${name} needs a selected mailbox`;
  return `${name} not allowed in this state`;
}
