// steadymail move-store --to postgres://… | sqlite:PATH
//
// Moves the whole configured store into another, empty one, with every id kept and
// verified (src/ops/move-store/), then prints the configuration change to make. Every
// server and command using the store must be stopped first: move-store refuses
// otherwise, and nothing else can use the store while it runs.
import { Command } from 'commander';
import { CliError, cliConfig, command, EXIT, io, type ConfigOption } from './context.js';
import { progressBar } from './progress.js';

interface MoveFlags extends ConfigOption {
  to: string;
  json?: boolean;
}

export function moveStoreCommand(): Command {
  return command('move-store', 'move the whole store to another backend (SQLite ⇄ PostgreSQL) keeping every UID and id; servers must be stopped')
    .requiredOption('--to <store>', 'the new, empty store: postgres://user:pass@host/db or sqlite:/path/to/data_dir')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (flags: MoveFlags) => {
      const config = cliConfig(flags);
      const { moveStore, parseStoreLocation, redact } = await import('../ops/move-store/index.js');
      const { searchTextExtractor } = await import('../mime/search-text.js');
      const source = config.store.driver === 'postgres' ? { driver: 'postgres' as const, url: config.store.url ?? '', dataDir: config.dataDir } : { driver: 'sqlite' as const, dataDir: config.dataDir };
      const progress = progressBar();
      let result;
      try {
        const target = parseStoreLocation(flags.to, config.dataDir);
        result = await moveStore({ source, target, searchText: searchTextExtractor, onProgress: (phase, done, total) => progress.update(phase, done, total) });
        progress.stop();
        if (flags.json === true) {
          io().out(JSON.stringify({ ...result, check: { clean: result.check.clean, counts: result.check.counts } }, null, 2));
          return;
        }
        io().out(`moved ${result.rows} row(s) of ${result.tables.length} table(s) and ${result.blobs} message bodies (${result.blobBytes} bytes) in ${result.seconds.toFixed(1)} s`);
        io().out('verified: every table has the same rows in the target (count and digest), every body hashes right, check found no problems');
        if (result.files.length > 0) io().out(`copied from the data directory: ${result.files.join(', ')}`);
        io().out('');
        io().out('The configured store was not changed. Before starting any server, point the configuration at the new store:');
        if (target.driver === 'postgres') {
          io().out('  [store]');
          io().out('  driver = "postgres"');
          io().out(`  url = "${redact(target.url)}"`);
          io().out(`  (or STEADYMAIL_STORE_DRIVER=postgres and STEADYMAIL_STORE_URL=${redact(target.url)})`);
          io().out(`Files in ${config.dataDir} (dkim/, tls/, srs.secret) stay where they are; every farm node needs them.`);
        } else {
          io().out(`  data_dir = "${target.dataDir}"`);
          io().out('  [store]');
          io().out('  driver = "sqlite"');
          io().out(`  (or STEADYMAIL_DATA_DIR=${target.dataDir} and STEADYMAIL_STORE_DRIVER=sqlite)`);
        }
      } catch (err) {
        progress.stop();
        if (err instanceof Error && err.name === 'MoveStoreError') {
          const kind = (err as Error & { kind: string }).kind;
          const code = kind === 'in-use' ? EXIT.tempFail : kind === 'not-empty' ? EXIT.cantCreate : kind === 'target' ? EXIT.usage : kind === 'verify' ? 1 : EXIT.dataError;
          throw new CliError(code, `move-store: ${err.message}${kind === 'verify' ? ' (the configured store is unchanged and still the one to use)' : ''}`);
        }
        throw err;
      }
    });
}
