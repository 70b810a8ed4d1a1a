// Reading a new password: from stdin with --password-stdin (scripts), else from the
// terminal without echo. Never from the command line, where `ps` and shell history see it.
import { CliError, EXIT, io } from './context.js';

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io().stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from the terminal with echo off. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || ch === '\u0004') return finish(new CliError(EXIT.dataError, 'cancelled'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

export async function readNewPassword(options: { passwordStdin?: boolean }): Promise<string> {
  let password: string;
  if (options.passwordStdin === true) {
    const text = (await readAllStdin()).replace(/\r?\n$/, '');
    if (/[\r\n]/.test(text)) throw new CliError(EXIT.dataError, 'the password on stdin must be a single line');
    password = text;
  } else if (io().stdin === process.stdin && process.stdin.isTTY) {
    password = await promptHidden('New password: ');
    const again = await promptHidden('Repeat it: ');
    if (again !== password) throw new CliError(EXIT.dataError, 'the passwords do not match');
  } else {
    throw new CliError(EXIT.usage, 'no password: use --password-stdin to read it from standard input, or run on a terminal to be asked');
  }
  if (password === '') throw new CliError(EXIT.dataError, 'the password must not be empty');
  return password;
}
