// The steadymail command line. Each command group lives in its own file; exit codes and
// error messages are defined once, in context.ts.
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { aliasCommand } from './alias.js';
import { command, describeError, EXIT } from './context.js';
import { domainCommand } from './domain.js';
import { serveCommand } from './serve.js';
import { userCommand } from './user.js';

export function buildProgram(): Command {
  const program = new Command('steadymail')
    .description('Steadymail: SMTP, POP3, IMAP and webmail for hosting providers')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)');
  program.addCommand(serveCommand());
  program.addCommand(domainCommand());
  program.addCommand(userCommand());
  program.addCommand(aliasCommand());
  program.addCommand(
    command('version', 'print the version').action(() => {
      console.log(`steadymail ${VERSION}`);
    }),
  );
  // Commander errors (unknown option, missing argument) become exceptions, so every
  // way out goes through one place and gets the documented exit code.
  const exitOverride = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.commands.forEach(exitOverride);
  };
  exitOverride(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version "fail" with exit code 0; commander already printed the message.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { exitCode, message } = describeError(err);
    process.stderr.write(`steadymail: ${message}\n`);
    return exitCode;
  }
}

process.exitCode = await main(process.argv);
