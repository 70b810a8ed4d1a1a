// Every command name the parser knows (RFC 9051 6 and the extensions in types.ts),
// shared by the framer (to refuse a literal for a command that cannot succeed)
// and the parser.

/** Commands that take no arguments at all. */
export const NO_ARG_COMMANDS: ReadonlySet<string> = new Set([
  'CAPABILITY',
  'NOOP',
  'LOGOUT',
  'STARTTLS',
  'CHECK',
  'CLOSE',
  'UNSELECT',
  'EXPUNGE',
  'IDLE',
  'NAMESPACE',
]);

/** Commands that may follow `UID` (RFC 9051 6.4.9, RFC 5256). */
export const UID_COMMANDS: ReadonlySet<string> = new Set(['COPY', 'MOVE', 'FETCH', 'SEARCH', 'STORE', 'EXPUNGE', 'SORT', 'THREAD']);

const WITH_ARGS = [
  'AUTHENTICATE',
  'LOGIN',
  'SELECT',
  'EXAMINE',
  'CREATE',
  'DELETE',
  'RENAME',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'LIST',
  'LSUB',
  'STATUS',
  'APPEND',
  'SEARCH',
  'FETCH',
  'STORE',
  'COPY',
  'MOVE',
  'ENABLE',
  'ID',
  'SORT',
  'THREAD',
  'GETQUOTA',
  'GETQUOTAROOT',
  'SETQUOTA',
  'COMPRESS',
  'GETMETADATA',
  'SETMETADATA',
  'NOTIFY',
];

/** Names that can carry a literal: `UID FETCH` style for UID commands. */
export const COMMANDS_WITH_ARGS: ReadonlySet<string> = new Set([...WITH_ARGS, ...[...UID_COMMANDS].map((c) => `UID ${c}`)]);
