// steadymail alias add|list|remove
import { Command } from 'commander';
import { normalizeAddress, normalizeAliasSource } from '../address/index.js';
import { command, withStore, io, type ConfigOption } from './context.js';

export function aliasCommand(): Command {
  const alias = new Command('alias').description('manage aliases: an address (or @domain, the catch-all) delivered to other addresses');

  alias.addCommand(
    command('add', 'add an alias')
      .argument('<source>', 'the alias address, or @domain for a catch-all')
      .argument('<targets...>', 'one or more addresses to deliver to')
      .action(async (input: string, targetInputs: string[], options: ConfigOption) => {
        const source = normalizeAliasSource(input);
        const targets = [...new Set(targetInputs.map(normalizeAddress))];
        await withStore(options, (store) => store.addAlias(source, targets));
        io().out(`added alias ${source} -> ${targets.join(', ')}`);
      }),
  );

  alias.addCommand(
    command('list', 'list aliases').action(async (options: ConfigOption) => {
      const aliases = await withStore(options, (store) => store.listAliases());
      for (const a of aliases) io().out(`${a.source}\t${a.targets.join(', ')}`);
    }),
  );

  alias.addCommand(
    command('remove', 'remove an alias')
      .argument('<source>', 'the alias address or @domain')
      .action(async (input: string, options: ConfigOption) => {
        const source = normalizeAliasSource(input);
        await withStore(options, (store) => store.removeAlias(source));
        io().out(`removed alias ${source}`);
      }),
  );

  return alias;
}
