// RFC 9051 6.2.3 LOGIN
import type { Cmd, CommandContext, Done } from '../handler.js';
import { login } from '../login-flow.js';

export async function loginCommand(cmd: Cmd<'LOGIN'>, ctx: CommandContext): Promise<Done | undefined> {
  return await login(ctx, cmd.username, cmd.password);
}
