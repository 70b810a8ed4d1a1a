// steadymail export mbox|maildir DIR (--account A … | --all) [--folder NAME]
//
// Reads each account in one snapshot while the server keeps running and never writes
// to the store (src/ops/export/index.ts). Prints a summary (JSON with --json).
import { Command } from 'commander';
import { normalizeAddress } from '../address/index.js';
import type { ExportFormat, ExportSummary } from '../ops/export/index.js';
import { CliError, command, EXIT, io, withStore, type ConfigOption } from './context.js';
import { progressBar } from './progress.js';

interface ExportFlags extends ConfigOption {
  account?: string[];
  all?: boolean;
  folder?: string;
  json?: boolean;
}

function printSummary(summary: ExportSummary, json: boolean): void {
  if (json) {
    io().out(JSON.stringify(summary, null, 2));
    return;
  }
  for (const a of summary.accounts) {
    for (const f of a.folders) {
      io().out(`${a.account} ${f.mailbox} → ${f.path}: ${f.messages} message(s)`);
      for (const w of f.warnings) io().out(`  warning: ${w}`);
    }
  }
  io().out(`exported ${summary.messages} message(s) (${summary.bytes} bytes) of ${summary.accounts.length} account(s) as ${summary.format} into ${summary.dest}`);
}

function exportAs(format: ExportFormat, description: string): Command {
  return command(format, description)
    .argument('<dir>', 'destination directory (new or empty)')
    .option('--account <address>', 'an account to export (repeat for several); with one, the destination is its tree itself', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--all', 'every account, each into <dir>/<address>/')
    .option('--folder <name>', 'only this mailbox (e.g. INBOX, Archive/2024)')
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (dir: string, flags: ExportFlags) => {
      if ((flags.account === undefined) === (flags.all !== true)) throw new CliError(EXIT.usage, 'name the accounts with --account, or give --all');
      const { exportAccounts } = await import('../ops/export/index.js');
      const progress = progressBar();
      await withStore(flags, async (store) => {
        let summary: ExportSummary;
        try {
          summary = await exportAccounts(store, {
            format,
            dest: dir,
            ...(flags.account === undefined ? {} : { accounts: flags.account.map(normalizeAddress), perAccountDirs: flags.account.length > 1 }),
            ...(flags.folder === undefined ? {} : { folder: flags.folder }),
            onProgress: (phase, done, total) => progress.update(phase, done, total),
          });
        } catch (err) {
          if (err instanceof Error && err.name === 'ExportError') throw new CliError(EXIT.cantCreate, err.message);
          throw err;
        } finally {
          progress.stop();
        }
        printSummary(summary, flags.json === true);
      });
    });
}

export function exportCommand(): Command {
  const exp = new Command('export').description('export mail while the server runs: to mbox files or a Maildir++ tree (Dovecot reads it as it is)');
  exp.addCommand(exportAs('mbox', 'one mboxrd file per mailbox (From_ lines with dates, Status/X-Status/X-Keywords for flags)'));
  exp.addCommand(exportAs('maildir', 'a Maildir++ tree: info flags, dovecot-keywords, dovecot-uidlist (UIDs and UIDVALIDITY kept)'));
  return exp;
}
