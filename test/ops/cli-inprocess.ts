// The command line run in this process (faster than the binary), with a data
// directory and extra STEADYMAIL_* settings, stdin given as a string.
import { Readable } from 'node:stream';
import { runCli } from '../../src/cli/program.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function cliIn(dataDir: string, args: string[], input = '', env: Record<string, string> = {}): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await runCli(['node', 'steadymail', ...args], {
    stdin: Readable.from([input]),
    env: { STEADYMAIL_DATA_DIR: dataDir, ...env },
    out: (line) => (out += `${line}\n`),
    write: (text) => (out += text),
    error: (text) => (err += text),
  });
  return { code, out, err };
}
