// steadymail filter show|junk-score|allow|block|unlist: one account's spam settings
// (docs/filtering.md). The server reads them at every delivery; no restart needed.
import { Command } from 'commander';
import { normalizeAddress } from '../address/index.js';
import { NotFound } from '../store/errors.js';
import type { Store } from '../store/store.js';
import type { Account } from '../store/types.js';
import { CliError, command, EXIT, io, withStore, type ConfigOption } from './context.js';

async function existingAccount(store: Store, address: string): Promise<Account> {
  const account = await store.getAccount(normalizeAddress(address));
  if (!account) throw new NotFound(`account ${address} does not exist`);
  return account;
}

export function filterCommand(): Command {
  const filter = new Command('filter').description("an account's spam filter settings: junk score, allowed and blocked senders");

  filter.addCommand(
    command('show', "show an account's junk score and sender lists")
      .argument('<account>', 'the account')
      .action(async (address: string, options: ConfigOption) => {
        const { settings, junkScore } = await withStore(options, async (store, config) => {
          const account = await existingAccount(store, address);
          return { settings: await store.getFilterSettings(account.id), junkScore: config.filter.junkScore };
        });
        io().out(`junk score\t${settings.junkScore ?? `${junkScore} (server default)`}`);
        for (const p of settings.allow) io().out(`allow\t${p}`);
        for (const p of settings.block) io().out(`block\t${p}`);
      }),
  );

  filter.addCommand(
    command('junk-score', 'set the score from which mail goes to Junk, or "default" for the server\'s')
      .argument('<account>', 'the account')
      .argument('<score>', 'a number, e.g. 4.5, or "default"')
      .action(async (address: string, text: string, options: ConfigOption) => {
        const score = text === 'default' ? null : /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : undefined;
        if (score === undefined) throw new CliError(EXIT.usage, `expected a number or "default", got ${JSON.stringify(text)}`);
        await withStore(options, async (store) => store.setJunkScore((await existingAccount(store, address)).id, score));
        io().out(`junk score of ${normalizeAddress(address)}: ${score ?? 'server default'}`);
      }),
  );

  for (const kind of ['allow', 'block'] as const) {
    filter.addCommand(
      command(kind, kind === 'allow' ? 'never put mail from a sender address or domain in Junk' : 'always put mail from a sender address or domain in Junk')
        .argument('<account>', 'the account')
        .argument('<sender>', 'an address (offers@shop.example) or a domain with its subdomains (shop.example)')
        .action(async (address: string, sender: string, options: ConfigOption) => {
          await withStore(options, async (store) => {
            const account = await existingAccount(store, address);
            await store.setFilterListEntry(account.id, kind === 'allow' ? 'block' : 'allow', sender, false);
            await store.setFilterListEntry(account.id, kind, sender, true);
          });
          io().out(`${kind === 'allow' ? 'allowed' : 'blocked'} ${sender.toLowerCase()} for ${normalizeAddress(address)}`);
        }),
    );
  }

  filter.addCommand(
    command('unlist', 'remove a sender from the allow and block lists')
      .argument('<account>', 'the account')
      .argument('<sender>', 'the address or domain')
      .action(async (address: string, sender: string, options: ConfigOption) => {
        await withStore(options, async (store) => {
          const account = await existingAccount(store, address);
          await store.setFilterListEntry(account.id, 'allow', sender, false);
          await store.setFilterListEntry(account.id, 'block', sender, false);
        });
        io().out(`removed ${sender.toLowerCase()} from the lists of ${normalizeAddress(address)}`);
      }),
  );
  return filter;
}
