// POP3 command handlers: one function per command, each returning a Response
// (never touching the socket), and the table that says in which states each
// command is valid.
//
// Rules:
// - Message numbers refer to the login snapshot; a message marked deleted
//   cannot be listed, read or deleted again (RFC 1939 5).
// - Octet counts in STAT and LIST are exactly what RETR sends (wire.ts).
// - Store errors become "-ERR [SYS/TEMP]" (RFC 3206 4); anything else is a
//   bug and is thrown to the server, which ends this session only.

import { isStoreError } from '../store/errors.js';
import { BlobMissing } from '../store/blobs/blob-store.js';
import { cmdAuth, cmdPass, cmdStls, cmdUser, saslContinue } from './auth-commands.js';
import type { MaildropMessage } from './maildrop.js';
import { parseCommand, type Command } from './parser.js';
import type { Pop3Session, Response, SessionState } from './session.js';

type StateKind = SessionState['kind'];
type Handler = (s: Pop3Session, cmd: Command) => Response | Promise<Response>;

interface CommandSpec {
  states: readonly StateKind[];
  handle: Handler;
}

const AUTHZ: readonly StateKind[] = ['authorization'];
const TRANS: readonly StateKind[] = ['transaction'];
const ANY: readonly StateKind[] = ['authorization', 'transaction'];

/** Thrown by handlers for a reply other than +OK; mapped in dispatch(). */
export class Pop3Error extends Error {
  constructor(
    /** RFC 2449 8 / RFC 3206 response code, without brackets. */
    readonly code: 'IN-USE' | 'LOGIN-DELAY' | 'SYS/TEMP' | 'SYS/PERM' | 'AUTH' | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'Pop3Error';
  }
}

const COMMANDS: Record<string, CommandSpec> = {
  CAPA: { states: ANY, handle: cmdCapa },
  NOOP: { states: ANY, handle: () => ({ status: '+OK' }) },
  QUIT: { states: ANY, handle: cmdQuit },
  USER: { states: AUTHZ, handle: cmdUser },
  PASS: { states: AUTHZ, handle: cmdPass },
  AUTH: { states: AUTHZ, handle: cmdAuth },
  STLS: { states: AUTHZ, handle: cmdStls },
  APOP: { states: AUTHZ, handle: () => ({ status: '-ERR APOP is not supported (no plaintext passwords are stored); use USER/PASS or AUTH' }) },
  STAT: { states: TRANS, handle: cmdStat },
  LIST: { states: TRANS, handle: cmdList },
  RETR: { states: TRANS, handle: cmdRetr },
  DELE: { states: TRANS, handle: cmdDele },
  RSET: { states: TRANS, handle: cmdRset },
  TOP: { states: TRANS, handle: cmdTop },
  UIDL: { states: TRANS, handle: cmdUidl },
};

/** Handles one line from the client: a command, or the next step of an AUTH exchange. */
export async function dispatch(s: Pop3Session, line: string): Promise<Response> {
  try {
    const response = await route(s, line);
    s.badCommands = response.status.startsWith('-ERR') && !response.status.startsWith('-ERR [') ? s.badCommands + 1 : 0;
    return response;
  } catch (err) {
    if (err instanceof Pop3Error) return { status: `-ERR ${err.code ? `[${err.code}] ` : ''}${err.message}` };
    if (isStoreError(err)) {
      s.config.logger.warn({ session: s.conn.id, err }, 'POP3 command failed on a store error');
      return { status: '-ERR [SYS/TEMP] The mail store is temporarily unavailable; try again later' };
    }
    if (err instanceof BlobMissing || isIoError(err)) {
      // A message body that cannot be read: tell the client, keep the session.
      s.config.logger.error({ session: s.conn.id, err }, 'POP3 cannot read a message body');
      return { status: '-ERR [SYS/TEMP] A message could not be read; the administrator has been told' };
    }
    throw err;
  }
}

async function route(s: Pop3Session, line: string): Promise<Response> {
  if (s.state.kind === 'authorization' && s.state.sasl) return saslContinue(s, line);
  const cmd = parseCommand(line);
  if (!cmd) return { status: '-ERR Empty or malformed command' };
  const spec = COMMANDS[cmd.keyword];
  if (!spec) return { status: `-ERR Unknown command` };
  if (!spec.states.includes(s.state.kind)) {
    return { status: s.state.kind === 'transaction' ? '-ERR Not valid after login' : '-ERR Log in first' };
  }
  return spec.handle(s, cmd);
}

/** RFC 2449 5: CAPA. What is offered depends on the state and on TLS. */
function cmdCapa(s: Pop3Session): Response {
  const lines = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'EXPIRE NEVER'];
  const delay = s.config.loginDelaySeconds;
  if (delay !== undefined && delay > 0) lines.push(`LOGIN-DELAY ${delay}`);
  if (s.state.kind === 'authorization') {
    // RFC 2595 4 / RFC 2449 6.3: don't invite plaintext passwords where they would be refused.
    if (s.plaintextAllowed) lines.push('USER', 'SASL PLAIN LOGIN');
    if (s.config.tlsAvailable && !s.conn.secure) lines.push('STLS');
  }
  lines.push('IMPLEMENTATION Steadymail');
  return { status: '+OK Capability list follows', lines };
}

function maildropOf(s: Pop3Session) {
  if (s.state.kind !== 'transaction') throw new Error('maildrop used outside the TRANSACTION state');
  return s.state.maildrop;
}

/** RFC 1939 5: a message-number argument that names an existing, undeleted message. */
function messageArg(s: Pop3Session, arg: string | undefined): MaildropMessage {
  const drop = maildropOf(s);
  if (arg === undefined) throw new Pop3Error(undefined, 'Message number required');
  if (!/^\d{1,10}$/.test(arg)) throw new Pop3Error(undefined, 'Invalid message number');
  const msg = drop.get(Number(arg));
  if (!msg) throw new Pop3Error(undefined, `No such message; there are ${drop.messages.length}`);
  if (msg.deleted) throw new Pop3Error(undefined, `Message ${msg.number} is deleted`);
  return msg;
}

async function cmdStat(s: Pop3Session): Promise<Response> {
  const live = maildropOf(s).live();
  const sizes = await maildropOf(s).wireSizes(live);
  return { status: `+OK ${live.length} ${sum(sizes)}` };
}

async function cmdList(s: Pop3Session, cmd: Command): Promise<Response> {
  const drop = maildropOf(s);
  if (cmd.args.length > 0) {
    const msg = messageArg(s, cmd.args[0]);
    return { status: `+OK ${msg.number} ${await drop.wireSize(msg)}` };
  }
  const live = drop.live();
  const sizes = await drop.wireSizes(live);
  return {
    status: `+OK ${live.length} messages (${sum(sizes)} octets)`,
    lines: live.map((m, i) => `${m.number} ${sizes[i]}`),
  };
}

async function cmdRetr(s: Pop3Session, cmd: Command): Promise<Response> {
  const drop = maildropOf(s);
  const msg = messageArg(s, cmd.args[0]);
  const size = await drop.wireSize(msg);
  return { status: `+OK ${size} octets`, message: { msg, maildrop: drop, markSeen: s.config.markSeenOnRetr && !msg.seen } };
}

/** RFC 1939 7: TOP msg n — the headers, the empty line and n body lines. */
async function cmdTop(s: Pop3Session, cmd: Command): Promise<Response> {
  const drop = maildropOf(s);
  const msg = messageArg(s, cmd.args[0]);
  const n = cmd.args[1];
  if (n === undefined || !/^\d{1,10}$/.test(n)) throw new Pop3Error(undefined, 'TOP needs a message number and a non-negative line count');
  return { status: '+OK Top of message follows', message: { msg, maildrop: drop, topLines: Number(n), markSeen: false } };
}

function cmdDele(s: Pop3Session, cmd: Command): Response {
  const msg = messageArg(s, cmd.args[0]);
  msg.deleted = true;
  return { status: `+OK Message ${msg.number} marked for deletion` };
}

function cmdRset(s: Pop3Session): Response {
  const drop = maildropOf(s);
  for (const m of drop.messages) m.deleted = false;
  return { status: `+OK ${drop.messages.length} messages` };
}

/** RFC 1939 7: UIDL; our ids are printable and at most 70 characters. */
function cmdUidl(s: Pop3Session, cmd: Command): Response {
  if (cmd.args.length > 0) {
    const msg = messageArg(s, cmd.args[0]);
    return { status: `+OK ${msg.number} ${msg.uidl}` };
  }
  return { status: '+OK Unique-id listing follows', lines: maildropOf(s).live().map((m) => `${m.number} ${m.uidl}`) };
}

/**
 * RFC 1939 6: QUIT from TRANSACTION enters UPDATE and removes the marked
 * messages, all in one store transaction; if that fails nothing is removed.
 */
async function cmdQuit(s: Pop3Session): Promise<Response> {
  const st = s.state;
  if (st.kind !== 'transaction') {
    s.state = { kind: 'closed' };
    return { status: `+OK ${s.config.hostname} POP3 server signing off`, then: 'close' };
  }
  s.state = { kind: 'update' };
  const { maildrop, lock, seen } = st;
  const uids = maildrop.deletedUids();
  try {
    await seen.flush();
    if (uids.length > 0) {
      if (!(await lock.confirm())) {
        return { status: '-ERR [IN-USE] The mailbox lock was lost; nothing was deleted', then: 'close' };
      }
      await s.config.store.expungeMessages(maildrop.inboxId, uids, {
        actor: `pop3:${maildrop.account.address}`,
        reason: 'deleted by the POP3 client',
      });
    }
  } catch (err) {
    s.config.logger.warn({ session: s.conn.id, user: maildrop.account.address, err }, 'POP3 UPDATE failed; nothing deleted');
    return { status: '-ERR [SYS/TEMP] Could not delete the marked messages; nothing was deleted, please try again', then: 'close' };
  } finally {
    await lock.release().catch((err: unknown) => s.config.logger.warn({ session: s.conn.id, err }, 'POP3 lease release failed'));
    s.state = { kind: 'closed' };
  }
  const left = maildrop.messages.length - uids.length;
  return { status: `+OK Signing off, ${uids.length} deleted, ${left} left`, then: 'close' };
}

function isIoError(err: unknown): boolean {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && 'syscall' in err;
}

function sum(xs: number[]): number {
  let t = 0;
  for (const x of xs) t += x;
  return t;
}
