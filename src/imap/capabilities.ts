// What the server advertises (RFC 9051 6.1.1). Only what works end to end is
// listed; an operator can switch a capability off per account (disabledCapabilities).

import type { Session } from './session.js';

/** Capabilities ENABLE accepts (RFC 5161 3.1). */
export const ENABLEABLE = new Set(['CONDSTORE', 'QRESYNC', 'IMAP4REV2', 'UTF8=ACCEPT']);

export function capabilities(session: Session): string[] {
  const o = session.options;
  const caps = ['IMAP4rev1', 'IMAP4rev2', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE', 'IDLE'];
  const state = session.state.kind;
  if (state === 'not-authenticated') {
    if (o.tls && !session.secure) caps.push('STARTTLS');
    if (o.allowPlaintext(session.remoteAddress, session.secure)) caps.push('AUTH=PLAIN', 'AUTH=LOGIN');
    else caps.push('LOGINDISABLED');
  } else {
    caps.push(
      'NAMESPACE',
      'UNSELECT',
      'UIDPLUS',
      'MULTIAPPEND',
      'OBJECTID',
      'METADATA',
      'NOTIFY',
      'MOVE',
      'CHILDREN',
      'SPECIAL-USE',
      'CREATE-SPECIAL-USE',
      'LIST-EXTENDED',
      'LIST-STATUS',
      'ESEARCH',
      'SEARCHRES',
      'CONDSTORE',
      'QRESYNC',
      'QUOTA',
      'QUOTA=RES-STORAGE',
      'SORT',
      'SORT=DISPLAY',
      'ESORT',
      'WITHIN',
      'THREAD=ORDEREDSUBJECT',
      'THREAD=REFERENCES',
      'STATUS=SIZE',
      'BINARY',
      'UTF8=ACCEPT',
      'COMPRESS=DEFLATE',
      `APPENDLIMIT=${o.limits.maxLiteralBytes}`,
    );
  }
  const account = state === 'not-authenticated' || state === 'logout' ? null : session.state.account;
  const off = new Set((o.disabledCapabilities?.(account) ?? []).map((c) => c.toUpperCase()));
  return off.size === 0 ? caps : caps.filter((c) => !off.has(c.toUpperCase()));
}

/** Commands that exist only with a capability: hidden capability, refused command. */
const COMMAND_CAPABILITY: ReadonlyMap<string, string> = new Map([
  ['IDLE', 'IDLE'],
  ['MOVE', 'MOVE'],
  ['UNSELECT', 'UNSELECT'],
  ['NAMESPACE', 'NAMESPACE'],
  ['ENABLE', 'ENABLE'],
  ['ID', 'ID'],
  ['SORT', 'SORT'],
  ['COMPRESS', 'COMPRESS=DEFLATE'],
  ['GETQUOTA', 'QUOTA'],
  ['GETQUOTAROOT', 'QUOTA'],
  ['SETQUOTA', 'QUOTA'],
  ['UID EXPUNGE', 'UIDPLUS'],
  ['GETMETADATA', 'METADATA'],
  ['SETMETADATA', 'METADATA'],
  ['NOTIFY', 'NOTIFY'],
]);

/** True when the operator switched off the capability this command needs for this session. */
export function commandDisabled(session: Session, name: string): boolean {
  const disabled = session.options.disabledCapabilities;
  if (!disabled) return false;
  const state = session.state;
  const account = state.kind === 'authenticated' || state.kind === 'selected' ? state.account : null;
  const off = new Set(disabled(account).map((c) => c.toUpperCase()));
  if (name === 'THREAD') return off.has('THREAD=ORDEREDSUBJECT') && off.has('THREAD=REFERENCES');
  const cap = COMMAND_CAPABILITY.get(name);
  return cap !== undefined && off.has(cap);
}
