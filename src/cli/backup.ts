// steadymail backup DIR / steadymail restore DIR.
//
// SQLite: a database snapshot plus the body files (incremental); restore into an empty
// data directory. PostgreSQL (farm mode): pg_dump of the whole database; restore into an
// empty database. Both run while serving; restore then checks the restored store.
import { Command } from 'commander';
import { normalizeAddress } from '../address/index.js';
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
  account?: string;
}

/** An account backup into the running store: creates or completes the account, then checks it. */
async function restoreOneAccount(dir: string, options: BackupFlags): Promise<void> {
  const { restoreAccount } = await import('../ops/account-backup.js');
  const { runCheck } = await import('../ops/check.js');
  const progress = progressBar();
  await withStore(options, async (store, config) => {
    const r = await mapped(() =>
      restoreAccount(store, dir, {
        ...(options.account === undefined ? {} : { address: normalizeAddress(options.account) }),
        maxMessageBytes: config.limits.maxMessageBytes,
        onProgress: (done, total) => progress.update('messages', done, total),
      }).finally(() => progress.stop()),
    );
    const s = r.summary;
    io().out(`${r.created ? 'created' : 'completed'} ${s.account}: ${s.imported} message(s) restored, ${s.duplicates} already there (${r.messages} in the backup)`);
    if (s.imported + s.duplicates !== r.messages) throw new CliError(EXIT_PROBLEMS, `${r.messages - s.imported - s.duplicates} message(s) of the backup were not restored`);
    const account = await store.getAccount(s.account);
    const report = await runCheck(store, { ...(account ? { accountId: account.id } : {}), hash: false, structure: 'sample' });
    if (!report.clean) {
      for (const p of report.problems) io().out(`${p.kind}: ${p.detail}`);
      throw new CliError(EXIT_PROBLEMS, `the restored account has ${report.problems.length} problem(s)`);
    }
    io().out('check: no problems found');
  });
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
    .option('--account <address>', 'back up this one account only (any store; restorable into a running server)')
    .action(async (dir: string, options: BackupFlags) => {
      const config = cliConfig(options);
      if (options.account !== undefined) {
        const { backupAccount } = await import('../ops/account-backup.js');
        const address = normalizeAddress(options.account);
        const progress = progressBar();
        const r = await mapped(() => withStore(options, (store) => backupAccount(store, address, dir, (done, total) => progress.update('bodies', done, total))).finally(() => progress.stop()));
        io().out(`backed up ${address} to ${dir}: ${r.messages} message(s), ${r.blobsCopied} message file(s) copied, ${r.blobsKept} already there`);
        return;
      }
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
    .option('--account <address>', 'an account backup: restore it as this address (default: the address it was taken from)')
    .action(async (dir: string, options: BackupFlags) => {
      const config = cliConfig(options);
      const { readManifest } = await import('../ops/backup.js');
      if ((await mapped(() => readManifest(dir))).driver === 'account') {
        await restoreOneAccount(dir, options);
        return;
      }
      if (options.account !== undefined) throw new CliError(EXIT.usage, `${dir} is a backup of a whole store; --account restores account backups only`);
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
