// RFC 5465 NOTIFY SET / NOTIFY NONE. A NOTIFY SET that fails leaves the previous
// settings in force; with STATUS, the covered mailboxes' STATUS precedes the OK.
import { commandDisabled } from '../capabilities.js';
import type { Cmd, CommandContext, Reply } from '../handler.js';
import { notifySpec } from '../notify.js';

export async function* notify(cmd: Cmd<'NOTIFY'>, ctx: CommandContext): Reply {
  const s = ctx.session;
  if (!cmd.set) {
    s.setNotify(null);
    return undefined;
  }
  const spec = notifySpec(cmd, !commandDisabled(s, 'GETMETADATA'));
  const notifier = s.setNotify(spec, ctx.store);
  if (spec.status && notifier) yield* notifier.initialStatus(s.account().id, { utf8: s.utf8, condstore: s.condstore });
  return undefined;
}
