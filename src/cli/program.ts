// The steadymail command line. Each command group lives in its own file; exit codes and
// error messages are defined once, in context.ts. main.ts is the process entry.
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { aliasCommand } from './alias.js';
import { command, describeError, EXIT, io, setIo, type CliIo, type ConfigOption } from './context.js';
import { domainCommand } from './domain.js';
import { queueCommand } from './queue.js';
import { userCommand } from './user.js';
import { filterCommand } from './filter.js';
import { checkCommand } from './check.js';
import { repairCommand } from './repair.js';
import { backupCommands } from './backup.js';
import { sieveCommand } from './sieve.js';
import { incidentCommand, maintenanceCommand } from './incident.js';
import { sessionsCommand, traceCommand } from './sessions.js';
import { importCommand } from './import.js';
import { migrateCommand } from './migrate.js';
import { exportCommand } from './export.js';
import { moveStoreCommand } from './move-store.js';
import { adminCommand } from './admin.js';

export function buildProgram(): Command {
  const program = new Command('steadymail')
    .description('Steadymail: SMTP, POP3, IMAP and webmail for hosting providers')
    .version(VERSION, '-V, --version');
  // serve loads the protocol servers; the admin commands should not pay for that.
  program.addCommand(
    command('serve', 'run the mail server (stops gracefully on SIGTERM or SIGINT)').action(async (options: ConfigOption) => {
      const { serve } = await import('./serve.js');
      await serve(options);
    }),
  );
  program.addCommand(domainCommand());
  program.addCommand(userCommand());
  program.addCommand(aliasCommand());
  program.addCommand(checkCommand());
  program.addCommand(repairCommand());
  for (const c of backupCommands()) program.addCommand(c);
  program.addCommand(queueCommand());
  program.addCommand(filterCommand());
  program.addCommand(sieveCommand());
  program.addCommand(incidentCommand());
  program.addCommand(maintenanceCommand());
  program.addCommand(traceCommand());
  program.addCommand(sessionsCommand());
  program.addCommand(importCommand());
  program.addCommand(exportCommand());
  program.addCommand(migrateCommand());
  program.addCommand(moveStoreCommand());
  program.addCommand(adminCommand());
  program.addCommand(
    command('version', 'print the version').action(() => {
      io().out(`steadymail ${VERSION}`);
    }),
  );
  // Commander errors (unknown option, missing argument) become exceptions, so every
  // way out goes through one place and gets the documented exit code.
  // Output goes through io() so tests can capture it.
  const configure = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: (s) => io().write(s), writeErr: (s) => io().error(s) });
    cmd.showHelpAfterError('(run with --help for usage)');
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** Runs one command line (`argv` as in process.argv); returns the exit code. */
export async function runCli(argv: string[], cliIo?: CliIo): Promise<number> {
  if (cliIo) setIo(cliIo);
  try {
    const program = buildProgram();
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version "fail" with exit code 0; commander already printed the message.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { exitCode, message } = describeError(err);
    io().error(`steadymail: ${message}\n`);
    return exitCode;
  }
}
