// steadymail migrate [--dry-run] [--json]
//
// --dry-run reads the schema version and lists the migrations this release would
// apply, changing nothing. Without it, the pending migrations run now (instead of at
// the next start of `serve`), after a copy of the database: SQLite writes it itself
// (data/backups/pre-migration-*.db, as at start-up); on PostgreSQL this command runs
// pg_dump into data/backups/pre-migration-*.pgdump first and stops if that fails
// (unless --no-backup).
import { Command } from 'commander';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { storeOptions } from '../listener.js';
import type { SchemaStatus } from '../store/schema-status.js';
import { CliError, cliConfig, command, EXIT, io, type ConfigOption } from './context.js';

interface MigrateFlags extends ConfigOption {
  dryRun?: boolean;
  json?: boolean;
  backup: boolean;
  pgDump: string;
}

function fileDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

async function listBackups(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [] as string[]);
}

function describe(status: SchemaStatus, backupNote: string | undefined): string[] {
  const lines = [`schema version ${status.current} (this release: ${status.latest}), ${status.driver} store`];
  if (status.current === 0) lines.push('no store yet: it is created at the latest version when first opened');
  else if (status.pending.length === 0) lines.push('up to date: nothing to migrate');
  else {
    for (const m of status.pending) lines.push(`pending: ${String(m.version).padStart(4, '0')} ${m.name}`);
    if (backupNote !== undefined) lines.push(backupNote);
  }
  return lines;
}

export function migrateCommand(): Command {
  return command('migrate', 'apply pending schema migrations now, after a copy of the database (--dry-run: only list them)')
    .option('--dry-run', 'show the schema version and the pending migrations; change nothing')
    .option('--json', 'print the result as JSON on stdout')
    .option('--no-backup', 'PostgreSQL: migrate without taking a pg_dump first')
    .option('--pg-dump <path>', 'the pg_dump program (PostgreSQL store)', 'pg_dump')
    .action(async (flags: MigrateFlags) => {
      const { inspectSchema } = await import('../store/schema-status.js');
      const config = cliConfig(flags);
      const options = storeOptions(config);
      const status = await inspectSchema(options);
      if (status.tooNew) {
        throw new CliError(EXIT.tempFail, `the database schema is version ${status.current}, newer than this release supports (${status.latest}); run a release that supports schema version ${status.current}`);
      }
      const backups = join(config.dataDir, 'backups');
      const copyNeeded = status.pending.length > 0 && status.current > 0 && status.hasData;
      const note = !copyNeeded
        ? undefined
        : status.driver === 'sqlite'
          ? `a copy of the database is written to ${backups}/pre-migration-${status.current}-<date>.db first`
          : flags.backup
            ? `a pg_dump is written to ${backups}/pre-migration-${status.current}-<date>.pgdump first`
            : 'no copy is taken first (--no-backup)';
      if (flags.dryRun === true) {
        if (flags.json === true) io().out(JSON.stringify({ dryRun: true, ...status, backup: note ?? null }, null, 2));
        else for (const line of describe(status, note)) io().out(line);
        return;
      }
      let copy: string | undefined;
      if (copyNeeded && status.driver === 'postgres' && flags.backup && options.driver === 'postgres') {
        const { pgDump } = await import('../ops/pg-backup.js');
        const { mkdir } = await import('node:fs/promises');
        await mkdir(backups, { recursive: true });
        copy = join(backups, `pre-migration-${status.current}-${fileDate(new Date())}.pgdump`);
        try {
          await pgDump(options.url, copy, { pgDump: flags.pgDump, pgRestore: 'pg_restore' });
        } catch (err) {
          throw new CliError(EXIT.tempFail, `no migration: the copy before migrating failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      const before = new Set(await listBackups(backups));
      const { openStore } = await import('../store/open.js');
      await (await openStore(options)).close();
      if (copy === undefined) copy = (await listBackups(backups)).filter((f) => !before.has(f)).map((f) => join(backups, f))[0];
      const after = await inspectSchema(options);
      const applied = status.pending.filter((m) => m.version <= after.current);
      if (flags.json === true) {
        io().out(JSON.stringify({ dryRun: false, from: status.current, to: after.current, applied, backup: copy ?? null }, null, 2));
        return;
      }
      if (applied.length === 0) io().out(`up to date: schema version ${after.current}`);
      else {
        for (const m of applied) io().out(`applied: ${String(m.version).padStart(4, '0')} ${m.name}`);
        io().out(`schema version ${status.current} → ${after.current}${copy === undefined ? '' : `; the database before it: ${copy}`}`);
      }
    });
}
