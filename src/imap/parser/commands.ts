// Command dispatch: one framed command (wire bytes, final CRLF removed) to a
// typed ImapCommand (RFC 9051 6, 9). Pure: no session state except the options
// the session passes in. Which commands are allowed in which state is session
// logic and lives there, not here.

import { parseNotifyArgs } from './notify.js';
import { parseGetMetadataArgs, parseSetMetadataArgs } from './metadata.js';
import { parseAppendArgs } from './append.js';
import { NO_ARG_COMMANDS, UID_COMMANDS } from './command-names.js';
import { IncompleteInput, ParseError, bad } from './errors.js';
import { parseFetchArgs } from './fetch.js';
import { parseListArgs, parseStatusItems } from './list.js';
import { parseListMailbox, parseMailbox } from './mailbox-name.js';
import { Reader, decodeUtf8, isAstringChar } from './reader.js';
import { parseSearchArgs } from './search.js';
import { hasStar, parseSequenceSet } from './sequence-set.js';
import { parseSortArgs, parseThreadArgs } from './sort.js';
import { parseStoreArgs } from './store.js';
import type { ImapCommand, NoArgCommandName, ParserOptions, QresyncParams } from './types.js';

/** RFC 9051 9: tag = 1*<any ASTRING-CHAR except "+"> */
function parseTag(r: Reader): string {
  const tag = r.takeWhile((c) => isAstringChar(c) && c !== 0x2b);
  if (tag.length === 0) throw bad('Missing or invalid tag');
  return tag;
}

function base64Arg(r: Reader): Buffer {
  // RFC 4959 3: "=" is an empty initial response.
  if (r.tryChar('=')) return Buffer.alloc(0);
  const text = r.takeWhile((c) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f || c === 0x3d);
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw bad('Invalid base64');
  return Buffer.from(text, 'base64');
}

/** RFC 7162 3.2.5: QRESYNC SP "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")" */
function parseQresync(r: Reader): QresyncParams {
  r.expect('(');
  const uidValidity = r.nzNumber();
  r.sp();
  const modseq = r.number64();
  let knownUids = null;
  let seqMatch = null;
  // [SP known-uids [SP seq-match-data]]: the match data only after known UIDs.
  if (r.trySp() && !r.isChar(')')) {
    knownUids = parseSequenceSet(r, false);
    if (hasStar(knownUids)) throw bad('known-uids may not contain *');
    if (r.trySp() && !r.isChar(')')) {
      r.expect('(');
      const seqs = parseSequenceSet(r, false);
      r.sp();
      const uids = parseSequenceSet(r, false);
      r.expect(')');
      if (hasStar(seqs) || hasStar(uids)) throw bad('seq-match-data may not contain *');
      seqMatch = { seqs, uids };
    }
  }
  r.expect(')');
  return { uidValidity, modseq, knownUids, seqMatch };
}

function parseSelect(r: Reader, tag: string, name: 'SELECT' | 'EXAMINE', opts: ParserOptions): ImapCommand {
  r.sp();
  const mailbox = parseMailbox(r, { utf8: opts.utf8Accept });
  let condstore = false;
  let qresync: QresyncParams | null = null;
  if (r.trySp()) {
    r.list(() => {
      const p = r.keyword('select parameter');
      if (p === 'CONDSTORE' && !condstore) condstore = true;
      else if (p === 'QRESYNC' && !qresync) {
        r.sp();
        qresync = parseQresync(r);
      } else throw bad(`Invalid SELECT parameter ${p}`);
    });
  }
  return { tag, name, mailbox, condstore, qresync };
}

function parseCreate(r: Reader, tag: string, opts: ParserOptions): ImapCommand {
  r.sp();
  const mailbox = parseMailbox(r, { utf8: opts.utf8Accept });
  const specialUse: string[] = [];
  if (r.trySp()) {
    // RFC 6154 3: create-param = "USE" SP "(" [use-attr *(SP use-attr)] ")"
    r.list(() => {
      if (r.keyword('create parameter') !== 'USE') throw bad('Unknown CREATE parameter');
      r.sp();
      r.list(() => {
        r.expect('\\');
        const attr = '\\' + r.atom('special-use attribute');
        if (!specialUse.some((a) => a.toUpperCase() === attr.toUpperCase())) specialUse.push(attr);
      }, true);
    });
  }
  return { tag, name: 'CREATE', mailbox, specialUse };
}

/** RFC 2971 3.1: id_params_list ::= "(" #(string SPACE nstring) ")" / nil */
function parseIdArgs(r: Reader): Array<[string, string | null]> | null {
  r.sp();
  if (!r.isChar('(')) {
    if (r.keyword('ID parameter list') !== 'NIL') throw bad('Expected ID parameter list or NIL');
    return null;
  }
  return r.list(() => {
    const key = decodeUtf8(r.string(), 'ID field');
    r.sp();
    const value = r.nstring();
    return [key, value === null ? null : decodeUtf8(value, 'ID value')] as [string, string | null];
  }, true);
}

function parseBody(r: Reader, tag: string, name: string, opts: ParserOptions, uid: boolean): ImapCommand {
  const mbox = { utf8: opts.utf8Accept };
  if (uid && !UID_COMMANDS.has(name)) {
    throw bad(`Unknown UID command ${name}`);
  }
  if (NO_ARG_COMMANDS.has(name) && !(uid && name === 'EXPUNGE')) return { tag, name: name as NoArgCommandName };
  switch (name) {
    case 'AUTHENTICATE': {
      r.sp();
      const mechanism = r.keyword('SASL mechanism');
      const initialResponse = r.trySp() ? base64Arg(r) : null;
      return { tag, name, mechanism, initialResponse };
    }
    case 'LOGIN': {
      r.sp();
      const username = r.astringText('user name');
      r.sp();
      return { tag, name, username, password: r.astringText('password') };
    }
    case 'SELECT':
    case 'EXAMINE':
      return parseSelect(r, tag, name, opts);
    case 'CREATE':
      return parseCreate(r, tag, opts);
    case 'DELETE':
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE':
      r.sp();
      return { tag, name, mailbox: parseMailbox(r, mbox) };
    case 'RENAME': {
      r.sp();
      const mailbox = parseMailbox(r, mbox);
      r.sp();
      return { tag, name, mailbox, newName: parseMailbox(r, mbox) };
    }
    case 'LIST':
      return parseListArgs(r, tag, mbox);
    case 'LSUB': {
      r.sp();
      const reference = parseMailbox(r, mbox);
      r.sp();
      return { tag, name, reference, pattern: parseListMailbox(r, mbox) };
    }
    case 'STATUS': {
      r.sp();
      const mailbox = parseMailbox(r, mbox);
      r.sp();
      return { tag, name, mailbox, items: parseStatusItems(r) };
    }
    case 'APPEND':
      return { tag, name, ...parseAppendArgs(r, mbox) };
    case 'EXPUNGE':
      // Only UID EXPUNGE reaches here (RFC 4315 2.1 / RFC 9051 6.4.9).
      r.sp();
      return { tag, name: 'UID EXPUNGE', set: parseSequenceSet(r) };
    case 'SEARCH':
      return { tag, name, uid, ...parseSearchArgs(r) };
    case 'FETCH':
      return { tag, name, uid, ...parseFetchArgs(r, uid) };
    case 'STORE':
      return { tag, name, uid, ...parseStoreArgs(r) };
    case 'COPY':
    case 'MOVE': {
      r.sp();
      const set = parseSequenceSet(r);
      r.sp();
      return { tag, name, uid, set, mailbox: parseMailbox(r, mbox) };
    }
    case 'SORT':
      return { tag, name, uid, ...parseSortArgs(r) };
    case 'THREAD':
      return { tag, name, uid, ...parseThreadArgs(r) };
    case 'ENABLE': {
      r.sp();
      const capabilities = [r.keyword('capability')];
      while (r.trySp()) capabilities.push(r.keyword('capability'));
      return { tag, name, capabilities };
    }
    case 'ID':
      return { tag, name, params: parseIdArgs(r) };
    case 'GETQUOTA':
      r.sp();
      return { tag, name, root: r.astringText('quota root') };
    case 'GETQUOTAROOT':
      r.sp();
      return { tag, name, mailbox: parseMailbox(r, mbox) };
    case 'SETQUOTA': {
      // RFC 9208 4.1.4: SETQUOTA SP quota-root-name SP setquota-list
      r.sp();
      const root = r.astringText('quota root');
      r.sp();
      const limits = r.list(() => {
        const resource = r.keyword('quota resource');
        r.sp();
        return { resource, limit: r.number64() };
      }, true);
      return { tag, name, root, limits };
    }
    case 'GETMETADATA':
      return { tag, name, ...parseGetMetadataArgs(r, mbox) };
    case 'SETMETADATA':
      return { tag, name, ...parseSetMetadataArgs(r, mbox) };
    case 'NOTIFY':
      return { tag, name, ...parseNotifyArgs(r, mbox) };
    case 'COMPRESS':
      // RFC 4978 3: COMPRESS SP algorithm
      r.sp();
      return { tag, name, mechanism: r.keyword('compression mechanism') };
    default:
      throw bad(`Unknown command ${name}`);
  }
}

/**
 * Parses one framed command. Throws only ParseError, with `tag` and `command`
 * filled in as far as the line got, so the session can reply `tag BAD ...`
 * (or `* BAD ...` when no tag could be read).
 */
export function parseCommand(bytes: Buffer, opts: ParserOptions): ImapCommand {
  const r = new Reader(bytes);
  let tag: string | undefined;
  let name: string | undefined;
  try {
    tag = parseTag(r);
    r.sp();
    name = r.keyword('command');
    let uid = false;
    let sub = name;
    if (name === 'UID') {
      // RFC 9051 6.4.9: UID prefixes COPY / MOVE / FETCH / SEARCH / STORE / EXPUNGE.
      uid = true;
      r.sp();
      sub = r.keyword('command');
      name = `UID ${sub}`;
    }
    const cmd = parseBody(r, tag, sub, opts, uid);
    r.end();
    return cmd;
  } catch (err) {
    if (err instanceof ParseError) {
      err.tag ??= tag;
      err.command ??= name;
    }
    throw err;
  }
}

export type ParseResult = { ok: true; command: ImapCommand } | { ok: false; error: ParseError };

/** parseCommand without exceptions, for callers that prefer a result value. */
export function tryParseCommand(bytes: Buffer, opts: ParserOptions): ParseResult {
  try {
    return { ok: true, command: parseCommand(bytes, opts) };
  } catch (err) {
    if (err instanceof ParseError) return { ok: false, error: err };
    throw err;
  }
}

/**
 * Checks a command up to a synchronizing literal that has not arrived yet
 * (`prefix` ends with `{n}` CRLF). Returns the error the finished command is
 * bound to get, or undefined when it may still be valid. Lets the server answer
 * BAD / NO before the client uploads the literal, as Dovecot does.
 */
export function checkCommandPrefix(prefix: Buffer, opts: ParserOptions): ParseError | undefined {
  // An empty literal would be read in full and the parser would then complain
  // about the missing rest; announce one byte instead so it stops at the literal.
  const tail = prefix.subarray(Math.max(0, prefix.length - 32)).toString('latin1');
  const empty = /\{0+\}\r\n$/.exec(tail);
  const probe = empty ? Buffer.concat([prefix.subarray(0, prefix.length - empty[0].length), Buffer.from('{1}\r\n')]) : prefix;
  try {
    parseCommand(probe, opts);
    // Cannot complete without the literal; treat as still possible.
    return undefined;
  } catch (err) {
    if (err instanceof IncompleteInput) return undefined;
    if (err instanceof ParseError) return err;
    throw err;
  }
}
