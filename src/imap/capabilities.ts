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
