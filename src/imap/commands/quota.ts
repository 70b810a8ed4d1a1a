// RFC 9208 QUOTA: one quota root "" per account, resource STORAGE in KiB.
import { no } from '../errors.js';
import type { Cmd, CommandContext, Done, Reply } from '../handler.js';
import { mailboxName, untagged } from '../respond.js';

async function quotaLine(ctx: CommandContext): Promise<Buffer | null> {
  const fresh = await ctx.store.getAccountById(ctx.session.account().id);
  if (!fresh || fresh.quotaBytes === 0) return null;
  return untagged(`QUOTA "" (STORAGE ${Math.ceil(fresh.usedBytes / 1024)} ${Math.floor(fresh.quotaBytes / 1024)})`);
}

export async function* getQuotaRoot(cmd: Cmd<'GETQUOTAROOT'>, ctx: CommandContext): Reply {
  const s = ctx.session;
  const m = await ctx.store.getMailbox(s.account().id, cmd.mailbox);
  if (!m) throw no('Mailbox does not exist', 'NONEXISTENT');
  const line = await quotaLine(ctx);
  // RFC 9208 4.3.2: no roots when the mailbox has no quota.
  yield untagged('QUOTAROOT ', mailboxName(m.name, { utf8: s.utf8 }), line ? ' ""' : '');
  if (line) yield line;
  return undefined;
}

export async function* getQuota(cmd: Cmd<'GETQUOTA'>, ctx: CommandContext): Reply {
  const line = cmd.root === '' ? await quotaLine(ctx) : null;
  if (!line) throw no('No such quota root', 'NONEXISTENT');
  yield line;
  return undefined;
}

export async function setQuota(_cmd: Cmd<'SETQUOTA'>, _ctx: CommandContext): Promise<Done | undefined> {
  // RFC 9208 4.1.3: quotas are the operator's to set.
  throw no('Quota is set by the administrator', 'NOPERM');
}
