// The command table (WildDuck style): every command, the states it is allowed
// in (RFC 9051 6.1-6.4) and its handler, one file per command in commands/.

import { getMetadata, setMetadata } from './commands/metadata.js';
import type { ImapCommand, ImapCommandName } from './parser/index.js';
import type { Cmd, CommandContext, Done, Handler, Reply } from './handler.js';
import type { StateKind } from './session.js';
import { append } from './commands/append.js';
import { authenticate } from './commands/authenticate.js';
import { capability } from './commands/capability.js';
import { close } from './commands/close.js';
import { compress } from './commands/compress.js';
import { copy } from './commands/copy.js';
import { create } from './commands/create.js';
import { deleteMailbox } from './commands/delete.js';
import { enable } from './commands/enable.js';
import { expunge } from './commands/expunge.js';
import { fetch } from './commands/fetch.js';
import { id } from './commands/id.js';
import { idle } from './commands/idle.js';
import { list } from './commands/list.js';
import { loginCommand } from './commands/login.js';
import { logout } from './commands/logout.js';
import { lsub } from './commands/lsub.js';
import { namespace } from './commands/namespace.js';
import { noop } from './commands/noop.js';
import { notify } from './commands/notify.js';
import { getQuota, getQuotaRoot, setQuota } from './commands/quota.js';
import { rename } from './commands/rename.js';
import { search } from './commands/search.js';
import { select } from './commands/select.js';
import { sort } from './commands/sort.js';
import { thread } from './commands/thread.js';
import { starttls } from './commands/starttls.js';
import { status } from './commands/status.js';
import { store } from './commands/store.js';
import { subscribe } from './commands/subscribe.js';
import { uidExpunge } from './commands/uid-expunge.js';
import { unselect } from './commands/unselect.js';

export interface CommandEntry {
  states: readonly StateKind[];
  run: (cmd: ImapCommand, ctx: CommandContext) => Reply;
}

const ANY: readonly StateKind[] = ['not-authenticated', 'authenticated', 'selected'];
const NOT_AUTH: readonly StateKind[] = ['not-authenticated'];
const AUTH: readonly StateKind[] = ['authenticated', 'selected'];
const SELECTED: readonly StateKind[] = ['selected'];

const table = new Map<string, CommandEntry>();

async function* asReply(result: Reply | Promise<Done | undefined>): Reply {
  if (result instanceof Promise) return await result;
  return yield* result;
}

function add<N extends ImapCommandName>(names: N[], states: readonly StateKind[], handler: Handler<Cmd<N>>): void {
  for (const name of names) table.set(name, { states, run: (cmd, ctx) => asReply(handler(cmd as Cmd<N>, ctx)) });
}

// RFC 9051 6.1: any state
add(['CAPABILITY'], ANY, capability);
add(['NOOP'], ANY, noop);
add(['LOGOUT'], ANY, logout);
add(['ID'], ANY, id);
// RFC 9051 6.2: not authenticated
add(['STARTTLS'], NOT_AUTH, starttls);
add(['LOGIN'], NOT_AUTH, loginCommand);
add(['AUTHENTICATE'], NOT_AUTH, authenticate);
// RFC 9051 6.3: authenticated (and selected)
add(['ENABLE'], AUTH, enable);
add(['SELECT', 'EXAMINE'], AUTH, select);
add(['CREATE'], AUTH, create);
add(['DELETE'], AUTH, deleteMailbox);
add(['RENAME'], AUTH, rename);
add(['SUBSCRIBE', 'UNSUBSCRIBE'], AUTH, subscribe);
add(['LIST'], AUTH, list);
add(['LSUB'], AUTH, lsub);
add(['STATUS'], AUTH, status);
add(['APPEND'], AUTH, append);
add(['NAMESPACE'], AUTH, namespace);
add(['IDLE'], AUTH, idle);
add(['COMPRESS'], AUTH, compress);
add(['GETQUOTA'], AUTH, getQuota);
add(['GETQUOTAROOT'], AUTH, getQuotaRoot);
add(['SETQUOTA'], AUTH, setQuota);
add(['GETMETADATA'], AUTH, getMetadata);
add(['SETMETADATA'], AUTH, setMetadata);
add(['NOTIFY'], AUTH, notify);
// RFC 9051 6.4: selected
add(['CHECK'], SELECTED, noop);
add(['CLOSE'], SELECTED, close);
add(['UNSELECT'], SELECTED, unselect);
add(['EXPUNGE'], SELECTED, expunge);
add(['UID EXPUNGE'], SELECTED, uidExpunge);
add(['SEARCH'], SELECTED, search);
add(['SORT'], SELECTED, sort);
add(['THREAD'], SELECTED, thread);
add(['FETCH'], SELECTED, fetch);
add(['STORE'], SELECTED, store);
add(['COPY', 'MOVE'], SELECTED, copy);

export const COMMAND_TABLE: ReadonlyMap<string, CommandEntry> = table;
