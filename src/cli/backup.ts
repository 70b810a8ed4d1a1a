// steadymail backup DIR / steadymail restore DIR.
//
// SQLite: a database snapshot plus the body files (incremental); restore into an empty
// data directory. PostgreSQL (farm mode): pg_dump of the whole database; restore into an
// empty database. Both run while serving; restore then checks the restored store.
import { Command } from 'commander';
import { BackupError } from '../ops/backup.js';
import type { PgTools } from '../ops/pg-backup.js';
import { CliError, cliConfig, command, EXIT, io, withStore, type ConfigOption } from './context.js';
import { EXIT_PROBLEMS } from './check.js';
import { progressBar } from './progress.js';

function mapped<T>(work: () => Promise<T>): Promise<T> {
  return work().catch((err: unknown) => {
    throw err instanceof BackupError ? new CliError(EXIT.dataError, err.message) : err;
  });
}

interface BackupFlags extends ConfigOption {
  pgDump?: string;
  pgRestore?: string;
}

function pgTools(flags: BackupFlags): PgTools {
  return { pgDump: flags.pgDump ?? 'pg_dump', pgRestore: flags.pgRestore ?? 'pg_restore' };
}

async function checkRestored(options: ConfigOption): Promise<void> {
  const { runCheck } = await import('../ops/check.js');
  const report = await withStore(options, (store) => runCheck(store, { hash: false, structure: 'sample' }));
  if (!report.clean) {
    for (const p of report.problems) io().out(`${p.kind}: ${p.detail}`);
    throw new CliError(EXIT_PROBLEMS, `the restored store has ${report.problems.length} problem(s)`);
  }
  io().out('check: no problems found');
}

export function backupCommands(): Command[] {
  const backup = command('backup', 'copy the store into DIR while serving (SQLite: snapshot + message files, incremental; PostgreSQL: pg_dump)')
    .argument('<dir>', 'backup directory (created if needed)')
    .option('--pg-dump <path>', 'the pg_dump program (PostgreSQL store)', 'pg_dump')
    .action(async (dir: string, options: BackupFlags) => {
      const config = cliConfig(options);
      if (config.store.driver === 'postgres') {
        const { backupPostgres } = await import('../ops/backup.js');
        const { bytes } = await mapped(() => backupPostgres(config.store.url ?? '', dir, pgTools(options)));
        io().out(`backed up to ${dir}: pg_dump of the whole store, ${bytes} bytes`);
        return;
      }
      const { backupStore } = await import('../ops/backup.js');
      const progress = progressBar();
      const result = await mapped(() =>
        withStore(options, (store) => backupStore(store, dir, (done) => progress.update('blobs', done, done))).finally(() => progress.stop()),
      );
      io().out(`backed up to ${dir}: database snapshot, ${result.blobsCopied} message file(s) copied, ${result.blobsKept} already there`);
    });
  const restore = command('restore', 'restore a backup into the empty configured data directory or PostgreSQL database, then check it')
    .argument('<dir>', 'backup directory written by `steadymail backup`')
    .option('--pg-restore <path>', 'the pg_restore program (PostgreSQL store)', 'pg_restore')
    .action(async (dir: string, options: BackupFlags) => {
      const config = cliConfig(options);
      if (config.store.driver === 'postgres') {
        const { restorePostgres } = await import('../ops/backup.js');
        await mapped(() => restorePostgres(dir, config.store.url ?? '', pgTools(options)));
        io().out(`restored the pg_dump into the configured PostgreSQL database`);
      } else {
        const { restoreStore } = await import('../ops/backup.js');
        const { blobs } = await mapped(() => restoreStore(dir, config.dataDir));
        io().out(`restored ${blobs} message file(s) and the database into ${config.dataDir}`);
      }
      await checkRestored(options);
    });
  return [backup, restore];
}
