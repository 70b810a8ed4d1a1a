// The IMAP grammar layer: framing (framer.ts), typed commands (commands.ts),
// and the value grammars they are built from. Pure and I/O-free.

export { ParseError, isParseError, type ParseErrorKind } from './errors.js';
export { Framer, LITERAL_MINUS_MAX, type FrameEvent, type FramerLimits, type FramerMode } from './framer.js';
export { checkCommandPrefix, parseCommand, tryParseCommand, type ParseResult } from './commands.js';
export type { ImapCommand, ImapCommandName, CommandOf, ParserOptions, QresyncParams, SortCriterion, SortKey } from './types.js';
export { hasNumberAbove, resolveSequenceSet, type SeqNumber, type SeqRange, type SequenceSet } from './sequence-set.js';
export { decodeModifiedUtf7, encodeModifiedUtf7, normalizeInbox, HIERARCHY_DELIMITER } from './mailbox-name.js';
export type { FetchItem, FetchPartial, BodySection, SectionText, SimpleFetchItem } from './fetch.js';
export type { SearchKey, SearchReturn, SearchReturnOption } from './search.js';
export { SEARCH_CHARSETS } from './search.js';
export type { StoreAction } from './store.js';
export type { ListCommand, ListReturn, ListSelection, StatusItem } from './list.js';
export type { AppendMessage } from './append.js';
export type { FlagSet, SystemFlag } from './flags.js';
export type { ImapDate } from './datetime.js';
export type { NotifyArgs, NotifyEvent, NotifyFilter, NotifyGroup } from './notify.js';
