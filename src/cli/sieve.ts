// steadymail sieve list|get|put|activate|deactivate|delete: an account's Sieve scripts,
// the same ones users manage over ManageSieve (docs/sieve.md).
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { normalizeAddress } from '../address/index.js';
import type { Store } from '../store/store.js';
import type { Account } from '../store/types.js';
import { compileScript, validScriptName } from '../sieve/validator.js';
import { SieveError } from '../sieve/errors.js';
import { command, withStore, io, CliError, EXIT, type ConfigOption } from './context.js';

async function accountOf(store: Store, input: string): Promise<Account> {
  const address = normalizeAddress(input);
  const account = await store.getAccount(address);
  if (!account) throw new CliError(EXIT.noUser, `account ${address} does not exist`);
  return account;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io().stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function readScriptFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(EXIT.dataError, `cannot read ${file}: ${(err as Error).message}`);
  }
}

export function sieveCommand(): Command {
  const sieve = new Command('sieve').description("manage an account's Sieve filter scripts");

  sieve.addCommand(
    command('list', "list an account's scripts (the active one is marked)")
      .argument('<account>', 'the account address')
      .action(async (input: string, options: ConfigOption) => {
        const scripts = await withStore(options, async (store) => store.listSieveScripts((await accountOf(store, input)).id));
        for (const s of scripts) io().out(`${s.name}\t${s.size}\t${s.active ? 'active' : ''}`.trimEnd());
      }),
  );

  sieve.addCommand(
    command('get', 'print a script')
      .argument('<account>', 'the account address')
      .argument('<name>', 'the script name')
      .action(async (input: string, name: string, options: ConfigOption) => {
        const script = await withStore(options, async (store) => store.getSieveScript((await accountOf(store, input)).id, name));
        if (!script) throw new CliError(EXIT.noUser, `script ${name} does not exist`);
        io().write(script.content);
      }),
  );

  sieve.addCommand(
    command('put', 'store a script (from a file, or standard input); it is checked first')
      .argument('<account>', 'the account address')
      .argument('<name>', 'the script name')
      .argument('[file]', 'the script file (default, or "-": standard input)')
      .option('--activate', 'also make it the active script')
      .action(async (input: string, name: string, file: string | undefined, options: ConfigOption & { activate?: boolean }) => {
        if (!validScriptName(name)) throw new CliError(EXIT.dataError, `invalid script name ${JSON.stringify(name)}`);
        const content = file === undefined || file === '-' ? await readStdin() : await readScriptFile(file);
        try {
          compileScript(content);
        } catch (err) {
          if (err instanceof SieveError) throw new CliError(EXIT.dataError, `${file ?? 'the script'}: ${err.message}`);
          throw err;
        }
        await withStore(options, async (store, config) => {
          const size = Buffer.byteLength(content, 'utf8');
          if (size > config.sieve.maxScriptBytes) throw new CliError(EXIT.dataError, `the script has ${size} bytes; sieve.max_script_bytes is ${config.sieve.maxScriptBytes}`);
          const account = await accountOf(store, input);
          await store.putSieveScript(account.id, name, content);
          if (options.activate) await store.activateSieveScript(account.id, name);
        });
        io().out(`stored script ${name}${options.activate ? ' (active)' : ''}`);
      }),
  );

  sieve.addCommand(
    command('activate', 'make a script the active one')
      .argument('<account>', 'the account address')
      .argument('<name>', 'the script name')
      .action(async (input: string, name: string, options: ConfigOption) => {
        await withStore(options, async (store) => store.activateSieveScript((await accountOf(store, input)).id, name));
        io().out(`activated script ${name}`);
      }),
  );

  sieve.addCommand(
    command('deactivate', 'run no script for the account')
      .argument('<account>', 'the account address')
      .action(async (input: string, options: ConfigOption) => {
        await withStore(options, async (store) => store.activateSieveScript((await accountOf(store, input)).id, null));
        io().out('no script is active');
      }),
  );

  sieve.addCommand(
    command('delete', 'delete a script (not the active one)')
      .argument('<account>', 'the account address')
      .argument('<name>', 'the script name')
      .action(async (input: string, name: string, options: ConfigOption) => {
        await withStore(options, async (store) => store.deleteSieveScript((await accountOf(store, input)).id, name));
        io().out(`deleted script ${name}`);
      }),
  );

  return sieve;
}
