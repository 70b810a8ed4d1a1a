// steadymail check [--account A] [--json] [--hash] [--structure sample|full]
//
// Read-only; safe while `serve` runs. Exit code: 0 no problem found, 1 problems
// found (run `steadymail repair`), or one of the usual codes (context.ts) when the
// check itself could not run.
import { Command, Option } from 'commander';
import { normalizeAddress } from '../address/index.js';
import { NotFound } from '../store/errors.js';
import type { Store } from '../store/store.js';
import type { CheckReport } from '../ops/check.js';
import type { StructureMode } from '../ops/structure.js';
import { CliError, command, io, withStore, type ConfigOption } from './context.js';
import { progressBar } from './progress.js';

/** Exit code of `check` when it found problems (0 when it found none). */
export const EXIT_PROBLEMS = 1;

export async function accountScope(store: Store, address: string | undefined): Promise<{ accountId?: number }> {
  if (address === undefined) return {};
  const normalized = normalizeAddress(address);
  const account = await store.getAccount(normalized);
  if (!account) throw new NotFound(`account ${normalized} does not exist`);
  return { accountId: account.id };
}

interface CheckFlags extends ConfigOption {
  account?: string;
  json?: boolean;
  hash?: boolean;
  structure: StructureMode;
}

export function checkCommand(): Command {
  return command('check', 'verify every invariant of the store (read-only, safe while serving); exit 1 if problems are found')
    .option('--account <address>', 'check one account only')
    .option('--json', 'print a machine-readable report on stdout')
    .option('--hash', 're-hash every message body (reads all mail) instead of checking sizes')
    .addOption(new Option('--structure <mode>', 're-parse a sample or all cached MIME structures').choices(['sample', 'full']).default('sample'))
    .action(async (options: CheckFlags) => {
      const { runCheck } = await import('../ops/check.js');
      const progress = progressBar();
      let report: CheckReport;
      try {
        report = await withStore(options, async (store) =>
          runCheck(store, {
            ...(await accountScope(store, options.account)),
            hash: options.hash === true,
            structure: options.structure,
            onProgress: (phase, done, total) => progress.update(phase, done, total),
          }),
        );
      } finally {
        progress.stop();
      }
      if (options.json === true) io().out(JSON.stringify(report, null, 2));
      else printReport(report);
      if (!report.clean) throw new CliError(EXIT_PROBLEMS, `${report.problems.length} problem(s) found${report.unrepairable > 0 ? `, ${report.unrepairable} not repairable by \`steadymail repair\`` : '; run `steadymail repair`'}`);
    });
}

function printReport(report: CheckReport): void {
  for (const p of report.problems) io().out(`${p.kind}: ${p.detail}${p.repairable ? '' : ' (not repairable)'}`);
  if (report.clean) io().out('no problems found');
}
