// steadymail repair [--account A] [--json] [--structure sample|full]
//
// Fixes what check finds without losing a message (see src/ops/repair.ts and
// docs/repair.md); every action is audited. Safe while `serve` runs.
import { Command, Option } from 'commander';
import { userInfo } from 'node:os';
import type { StructureMode } from '../ops/structure.js';
import { command, io, withStore, type ConfigOption } from './context.js';
import { accountScope } from './check.js';

interface RepairFlags extends ConfigOption {
  account?: string;
  json?: boolean;
  structure: StructureMode;
}

export function repairCommand(): Command {
  return command('repair', 'fix what `check` finds, never losing a message (every action audited)')
    .option('--account <address>', 'repair one account only')
    .option('--json', 'print the actions taken as JSON on stdout')
    .addOption(new Option('--structure <mode>', 're-parse a sample or all cached MIME structures').choices(['sample', 'full']).default('sample'))
    .action(async (options: RepairFlags) => {
      const { runRepair } = await import('../ops/repair.js');
      const audit = { actor: `cli:${userInfo().username}`, reason: 'steadymail repair' };
      const actions = await withStore(options, async (store) =>
        runRepair(store, audit, { ...(await accountScope(store, options.account)), structure: options.structure }),
      );
      if (options.json === true) io().out(JSON.stringify({ actions }, null, 2));
      else if (actions.length === 0) io().out('nothing to repair');
      else for (const a of actions) io().out(a);
    });
}
