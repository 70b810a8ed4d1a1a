// steadymail backup DIR / steadymail restore DIR (SQLite store).
//
// backup runs beside `serve`; restore writes into an empty data directory (the one
// the configuration names) and then checks the restored store.
import { Command } from 'commander';
import { BackupError } from '../ops/backup.js';
import { CliError, cliConfig, command, EXIT, io, withStore, type ConfigOption } from './context.js';
import { EXIT_PROBLEMS } from './check.js';
import { progressBar } from './progress.js';

function mapped<T>(work: () => Promise<T>): Promise<T> {
  return work().catch((err: unknown) => {
    throw err instanceof BackupError ? new CliError(EXIT.dataError, err.message) : err;
  });
}

export function backupCommands(): Command[] {
  const backup = command('backup', 'copy the store (database snapshot + message files) into DIR while serving; repeatable, incremental')
    .argument('<dir>', 'backup directory (created if needed)')
    .action(async (dir: string, options: ConfigOption) => {
      const { backupStore } = await import('../ops/backup.js');
      const progress = progressBar();
      const result = await mapped(() =>
        withStore(options, (store) => backupStore(store, dir, (done) => progress.update('blobs', done, done))).finally(() => progress.stop()),
      );
      io().out(`backed up to ${dir}: database snapshot, ${result.blobsCopied} message file(s) copied, ${result.blobsKept} already there`);
    });
  const restore = command('restore', 'restore a backup into the (empty) configured data directory, then check it')
    .argument('<dir>', 'backup directory written by `steadymail backup`')
    .action(async (dir: string, options: ConfigOption) => {
      const { restoreStore } = await import('../ops/backup.js');
      const { runCheck } = await import('../ops/check.js');
      const config = cliConfig(options);
      if (config.store.driver !== 'sqlite') throw new CliError(EXIT.dataError, 'restore works on the SQLite store only');
      const { blobs } = await mapped(() => restoreStore(dir, config.dataDir));
      io().out(`restored ${blobs} message file(s) and the database into ${config.dataDir}`);
      const report = await withStore(options, (store) => runCheck(store, { hash: false, structure: 'sample' }));
      if (!report.clean) {
        for (const p of report.problems) io().out(`${p.kind}: ${p.detail}`);
        throw new CliError(EXIT_PROBLEMS, `the restored store has ${report.problems.length} problem(s)`);
      }
      io().out('check: no problems found');
    });
  return [backup, restore];
}
