// RFC 9051 6.3.7 SUBSCRIBE / 6.3.8 UNSUBSCRIBE. Subscription is kept on the mailbox row,
// so only existing mailboxes can be subscribed.
import type { Cmd, CommandContext, Done } from '../handler.js';

export async function subscribe(cmd: Cmd<'SUBSCRIBE' | 'UNSUBSCRIBE'>, ctx: CommandContext): Promise<Done | undefined> {
  await ctx.store.setSubscribed(ctx.session.account().id, cmd.mailbox, cmd.name === 'SUBSCRIBE');
  return undefined;
}
