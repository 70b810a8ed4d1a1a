// steadymail domain add|list|remove
import { Command } from 'commander';
import { normalizeDomain } from '../address/index.js';
import { cliAudit, command, withStore, io, type ConfigOption } from './context.js';

export function domainCommand(): Command {
  const domain = new Command('domain').description('manage the domains this server receives mail for');

  domain.addCommand(
    command('add', 'start hosting a domain')
      .argument('<name>', 'domain name (IDN allowed)')
      .action(async (name: string, options: ConfigOption) => {
        const d = normalizeDomain(name);
        await withStore(options, (store) => store.createDomain(d));
        io().out(`added domain ${d}`);
      }),
  );

  domain.addCommand(
    command('list', 'list the hosted domains').action(async (options: ConfigOption) => {
      const domains = await withStore(options, (store) => store.listDomains());
      for (const d of domains) io().out(d.name);
    }),
  );

  domain.addCommand(
    command('remove', 'stop hosting a domain (refused while it has accounts or aliases, unless --force)')
      .argument('<name>', 'domain name')
      .option('--force', 'also remove its accounts, their mail, and its aliases')
      .action(async (name: string, options: ConfigOption & { force?: boolean }) => {
        const d = normalizeDomain(name);
        await withStore(options, (store) => store.deleteDomain(d, cliAudit(), { force: options.force === true }));
        io().out(`removed domain ${d}`);
      }),
  );

  return domain;
}
