// RFC 4978 COMPRESS=DEFLATE: the connection switches after the tagged OK.
import { bad, no } from '../errors.js';
import type { Cmd, CommandContext, Done } from '../handler.js';

export async function compress(cmd: Cmd<'COMPRESS'>, ctx: CommandContext): Promise<Done | undefined> {
  if (cmd.mechanism.toUpperCase() !== 'DEFLATE') throw bad(`Unknown compression mechanism ${cmd.mechanism}`);
  if (ctx.session.compressed) throw no('Compression is already active', 'COMPRESSIONACTIVE');
  return { after: 'compress', text: 'DEFLATE active' };
}
