// steadymail user add|list|passwd|remove|quota
import { Command } from 'commander';
import { domainOf, normalizeAddress, normalizeDomain } from '../address/index.js';
import { hashPassword } from '../auth/password.js';
import { NotFound } from '../store/errors.js';
import type { Store } from '../store/store.js';
import type { Account } from '../store/types.js';
import { CliError, cliAudit, command, EXIT, formatSize, parseSize, withStore, io, type ConfigOption } from './context.js';
import { readNewPassword } from './password-input.js';

async function existingAccount(store: Store, address: string): Promise<Account> {
  const account = await store.getAccount(address);
  if (!account) throw new NotFound(`account ${address} does not exist`);
  return account;
}

export function userCommand(): Command {
  const user = new Command('user').description('manage mail accounts (the login is the full address)');

  user.addCommand(
    command('add', 'create an account with INBOX, Sent, Drafts, Trash, Junk and Archive')
      .argument('<address>', 'the new address, e.g. alice@example.com')
      .option('--quota <size>', 'mailbox quota, e.g. 500M or 2G; 0 = unlimited', '0')
      .option('--password-stdin', 'read the password from standard input')
      .action(async (input: string, options: ConfigOption & { quota: string; passwordStdin?: boolean }) => {
        const address = normalizeAddress(input);
        const quotaBytes = parseSize(options.quota);
        // Check before asking for a password the operator would then type for nothing.
        await withStore(options, async (store) => {
          const domain = domainOf(address);
          if (!(await store.getDomain(domain))) {
            throw new CliError(EXIT.noUser, `domain ${domain} is not hosted here; add it first with: steadymail domain add ${domain}`);
          }
          if (await store.getAccount(address)) throw new CliError(EXIT.cantCreate, `account ${address} already exists`);
        });
        const passwordHash = await hashPassword(await readNewPassword(options));
        await withStore(options, (store) => store.createAccount({ address, passwordHash, quotaBytes }));
        io().out(`added account ${address}${quotaBytes > 0 ? ` (quota ${formatSize(quotaBytes)})` : ''}`);
      }),
  );

  user.addCommand(
    command('list', 'list accounts with quota and usage')
      .option('--domain <domain>', 'only this domain')
      .action(async (options: ConfigOption & { domain?: string }) => {
        const domain = options.domain === undefined ? undefined : normalizeDomain(options.domain);
        const accounts = await withStore(options, async (store) => {
          if (domain !== undefined && !(await store.getDomain(domain))) throw new NotFound(`domain ${domain} is not hosted here`);
          return store.listAccounts(domain);
        });
        for (const a of accounts) {
          const quota = a.quotaBytes === 0 ? 'unlimited' : formatSize(a.quotaBytes);
          io().out([a.address, `used ${formatSize(a.usedBytes)}`, `quota ${quota}`, ...(a.disabled ? ['disabled'] : [])].join('\t'));
        }
      }),
  );

  user.addCommand(
    command('passwd', "set an account's password")
      .argument('<address>', 'the account')
      .option('--password-stdin', 'read the password from standard input')
      .action(async (input: string, options: ConfigOption & { passwordStdin?: boolean }) => {
        const address = normalizeAddress(input);
        await withStore(options, (store) => existingAccount(store, address));
        const passwordHash = await hashPassword(await readNewPassword(options));
        await withStore(options, async (store) => store.updateAccount((await existingAccount(store, address)).id, { passwordHash }));
        io().out(`changed the password of ${address}`);
      }),
  );

  user.addCommand(
    command('remove', 'remove an account and all its mail')
      .argument('<address>', 'the account')
      .action(async (input: string, options: ConfigOption) => {
        const address = normalizeAddress(input);
        await withStore(options, async (store) => store.deleteAccount((await existingAccount(store, address)).id, cliAudit()));
        io().out(`removed account ${address}`);
      }),
  );

  user.addCommand(
    command('quota', "set an account's quota")
      .argument('<address>', 'the account')
      .argument('<size>', 'e.g. 500M, 2G; 0 = unlimited')
      .action(async (input: string, size: string, options: ConfigOption) => {
        const address = normalizeAddress(input);
        const quotaBytes = parseSize(size);
        await withStore(options, async (store) => store.updateAccount((await existingAccount(store, address)).id, { quotaBytes }));
        io().out(`quota of ${address} is now ${quotaBytes === 0 ? 'unlimited' : formatSize(quotaBytes)}`);
      }),
  );

  return user;
}
