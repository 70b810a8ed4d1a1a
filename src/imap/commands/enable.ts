// RFC 5161 ENABLE; IMAP4rev2 (RFC 9051 6.3.1), CONDSTORE/QRESYNC (RFC 7162 3.2.3), UTF8=ACCEPT (RFC 6855 3).
import { ENABLEABLE, capabilities } from '../capabilities.js';
import type { Cmd, CommandContext, Reply } from '../handler.js';
import { untagged } from '../respond.js';

export async function* enable(cmd: Cmd<'ENABLE'>, ctx: CommandContext): Reply {
  const s = ctx.session;
  const offered = new Set(capabilities(s).map((c) => c.toUpperCase()));
  const newly: string[] = [];
  for (const c of cmd.capabilities) {
    const up = c.toUpperCase();
    if (!ENABLEABLE.has(up) || !offered.has(up) || s.enabled.has(up)) continue;
    s.enabled.add(up);
    newly.push(up === 'IMAP4REV2' ? 'IMAP4rev2' : up);
    // RFC 7162 3.2.3: enabling QRESYNC implies CONDSTORE.
    if (up === 'QRESYNC' && !s.enabled.has('CONDSTORE')) s.enabled.add('CONDSTORE');
  }
  yield untagged(`ENABLED${newly.map((c) => ' ' + c).join('')}`);
  return undefined;
}
