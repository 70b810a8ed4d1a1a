// The typed result of parsing one command: a discriminated union on `name`.
// Handlers switch on `name` and get exactly the arguments that command has.

import type { AppendMessage } from './append.js';
import type { FetchItem } from './fetch.js';
import type { FlagSet } from './flags.js';
import type { ListCommand, StatusItem } from './list.js';
import type { SearchKey, SearchReturn } from './search.js';
import type { GetMetadataArgs, SetMetadataArgs } from './metadata.js';
import type { NotifyArgs } from './notify.js';
import type { SequenceSet } from './sequence-set.js';
import type { StoreAction } from './store.js';

export interface ParserOptions {
  /** UTF8=ACCEPT (RFC 6855) or IMAP4rev2 is enabled: mailbox names are UTF-8 on the wire. */
  utf8Accept: boolean;
}

interface Tagged {
  tag: string;
}

/** RFC 7162 3.2.5: QRESYNC select parameter. */
export interface QresyncParams {
  uidValidity: number;
  modseq: number;
  knownUids: SequenceSet | null;
  /** Optional known message sequence numbers and the UIDs they map to. */
  seqMatch: { seqs: SequenceSet; uids: SequenceSet } | null;
}

export type SortKey = 'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAYFROM' | 'DISPLAYTO';

export interface SortCriterion {
  key: SortKey;
  reverse: boolean;
}

export type NoArgCommandName =
  | 'CAPABILITY'
  | 'NOOP'
  | 'LOGOUT'
  | 'STARTTLS'
  | 'CHECK'
  | 'CLOSE'
  | 'UNSELECT'
  | 'EXPUNGE'
  | 'IDLE'
  | 'NAMESPACE';

export type ImapCommand = Tagged &
  (
    | { name: NoArgCommandName }
    | { name: 'AUTHENTICATE'; mechanism: string; /** SASL-IR (RFC 4959); empty Buffer for `=`. */ initialResponse: Buffer | null }
    | { name: 'LOGIN'; username: string; password: string }
    | { name: 'SELECT' | 'EXAMINE'; mailbox: string; condstore: boolean; qresync: QresyncParams | null }
    | { name: 'CREATE'; mailbox: string; /** RFC 6154 3 USE attributes. */ specialUse: string[] }
    | { name: 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE'; mailbox: string }
    | { name: 'RENAME'; mailbox: string; newName: string }
    | ListCommand
    | { name: 'LSUB'; reference: string; pattern: string }
    | { name: 'STATUS'; mailbox: string; items: StatusItem[] }
    | { name: 'APPEND'; mailbox: string; messages: AppendMessage[] }
    | { name: 'UID EXPUNGE'; set: SequenceSet }
    | {
        name: 'SEARCH';
        uid: boolean;
        charset: string | null;
        /** RFC 4731 ESEARCH; null when no RETURN was given (plain SEARCH response). */
        return: SearchReturn | null;
        /** Implicitly ANDed (RFC 9051 6.4.4). */
        criteria: SearchKey[];
      }
    | {
        name: 'FETCH';
        uid: boolean;
        set: SequenceSet;
        items: FetchItem[];
        /** RFC 7162 3.1.4.1 CHANGEDSINCE modifier. */
        changedSince: number | null;
        /** RFC 7162 3.2.6 VANISHED modifier (UID FETCH only). */
        vanished: boolean;
      }
    | {
        name: 'STORE';
        uid: boolean;
        set: SequenceSet;
        /** RFC 7162 3.1.3 UNCHANGEDSINCE modifier. */
        unchangedSince: number | null;
        action: StoreAction;
        silent: boolean;
        flags: FlagSet;
      }
    | { name: 'COPY' | 'MOVE'; uid: boolean; set: SequenceSet; mailbox: string }
    | { name: 'ENABLE'; capabilities: string[] }
    | { name: 'ID'; /** RFC 2971: field/value pairs, or null for `ID NIL`. */ params: Array<[string, string | null]> | null }
    | {
        name: 'SORT';
        uid: boolean;
        sort: SortCriterion[];
        charset: string;
        /** RFC 5267 ESORT. */
        return: SearchReturn | null;
        criteria: SearchKey[];
      }
    | { name: 'THREAD'; uid: boolean; algorithm: string; charset: string; criteria: SearchKey[] }
    | { name: 'GETQUOTA'; root: string }
    | { name: 'GETQUOTAROOT'; mailbox: string }
    | { name: 'SETQUOTA'; root: string; limits: Array<{ resource: string; limit: number }> }
    | { name: 'COMPRESS'; mechanism: string }
    | ({ name: 'GETMETADATA' } & GetMetadataArgs)
    | ({ name: 'SETMETADATA' } & SetMetadataArgs)
    | ({ name: 'NOTIFY' } & NotifyArgs)
  );

export type ImapCommandName = ImapCommand['name'];

/** Narrow the union to one command: `CommandOf<'FETCH'>`. */
export type CommandOf<N extends ImapCommandName> = Extract<ImapCommand, { name: N }>;
