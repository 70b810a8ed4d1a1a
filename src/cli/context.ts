// What every command shares: the --config option, opening the store for one command,
// exit codes and turning errors into one clear line on stderr.
//
// Exit codes follow sysexits(3), so scripts can tell "you asked for something wrong"
// from "the server is broken":
//   0  ok
//   1  check: problems were found (restore: the restored store has problems)
//   64 EX_USAGE     bad command line (unknown command or option, missing argument)
//   65 EX_DATAERR   invalid input: a malformed address, domain or size, an empty
//                   password, a request the data does not allow (domain still in use)
//   66 EX_NOINPUT   import: a source file does not exist
//   67 EX_NOUSER    the domain, account or alias does not exist
//   70 EX_SOFTWARE  internal error (a bug)
//   71 EX_OSERR     serve: a listener cannot bind its address (in use, not permitted)
//   73 EX_CANTCREAT it already exists
//   75 EX_TEMPFAIL  the store is unavailable; try again
//   78 EX_CONFIG    the configuration is invalid, or the TLS certificate/key or data_dir
//                   cannot be used
import { userInfo } from 'node:os';
import { Command } from 'commander';
import { AddressError } from '../address/index.js';
import { ConfigError, loadConfig, type Config } from '../config/index.js';
import { DataDirError, isStoreError } from '../store/errors.js';
import type { Store } from '../store/store.js';
import type { AuditContext } from '../store/types.js';
import { ListenError, storeOptions } from '../listener.js';
import { TlsError } from '../tls/index.js';

export const EXIT = {
  ok: 0,
  usage: 64,
  dataError: 65,
  noInput: 66,
  noUser: 67,
  software: 70,
  osError: 71,
  cantCreate: 73,
  tempFail: 75,
  config: 78,
} as const;

export class CliError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message: string) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Where commands read and write; the process's own streams except in tests. */
export interface CliIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** For STEADYMAIL_* overrides. */
  env: NodeJS.ProcessEnv;
  /** One line of output (a newline is added). */
  out(line: string): void;
  /** Raw text to stdout (help). */
  write(text: string): void;
  /** Raw text to stderr. */
  error(text: string): void;
}

const processIo: CliIo = {
  stdin: process.stdin,
  env: process.env,
  out: (line) => void process.stdout.write(`${line}\n`),
  write: (text) => void process.stdout.write(text),
  error: (text) => void process.stderr.write(text),
};

let currentIo: CliIo = processIo;
/** Set once per command line by runCli(). */
export function setIo(cliIo: CliIo): void {
  currentIo = cliIo;
}
export function io(): CliIo {
  return currentIo;
}

export interface ConfigOption {
  config?: string;
}

/** A subcommand with the --config option every command takes. */
export function command(name: string, description: string): Command {
  return new Command(name).description(description).option('-c, --config <file>', 'configuration file (default: ./steadymail.toml if present)');
}

export function cliConfig(options: ConfigOption): Config {
  const env = currentIo.env;
  return loadConfig(options.config === undefined ? { env } : { env, path: options.config });
}

/** Opens the store for one short piece of work and always closes it again. */
export async function withStore<T>(options: ConfigOption, work: (store: Store, config: Config) => Promise<T>): Promise<T> {
  const config = cliConfig(options);
  // Imported here so that `version` and `--help` do not load the database driver.
  const { openStore } = await import('../store/open.js');
  const store = await openStore(storeOptions(config));
  try {
    return await work(store, config);
  } finally {
    await store.close();
  }
}

export function cliAudit(): AuditContext {
  return { actor: `cli:${userInfo().username}`, reason: 'removed with the command line' };
}

/** Maps any error to the message and exit code the operator sees. */
export function describeError(err: unknown): { exitCode: number; message: string } {
  if (err instanceof CliError) return { exitCode: err.exitCode, message: err.message };
  if (err instanceof ConfigError) return { exitCode: EXIT.config, message: err.message };
  if (err instanceof TlsError) return { exitCode: EXIT.config, message: err.message };
  if (err instanceof ListenError) return { exitCode: EXIT.osError, message: err.message };
  if (err instanceof DataDirError) return { exitCode: EXIT.config, message: err.message };
  if (err instanceof AddressError) return { exitCode: EXIT.dataError, message: err.message };
  if (isStoreError(err)) {
    switch (err.code) {
      case 'not-found':
        return { exitCode: EXIT.noUser, message: err.message };
      case 'already-exists':
        return { exitCode: EXIT.cantCreate, message: err.message };
      case 'invalid':
      case 'in-use':
      case 'over-quota':
      case 'conflict':
        return { exitCode: EXIT.dataError, message: err.message };
      case 'unavailable':
        return { exitCode: EXIT.tempFail, message: `the store is unavailable: ${err.message}` };
    }
  }
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return { exitCode: EXIT.software, message: `internal error: ${detail}` };
}

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `500M`, `2G`, `1.5G`, `1024`, `0` (= unlimited) → bytes. Units are binary (M = MiB). */
export function parseSize(input: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(input.trim());
  const unit = UNITS[(m?.[2] ?? '').toUpperCase()];
  if (!m || unit === undefined) {
    throw new CliError(EXIT.dataError, `invalid size ${JSON.stringify(input)}: expected a number with an optional unit K, M, G or T (e.g. 500M, 2G; 0 = unlimited)`);
  }
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new CliError(EXIT.dataError, `size ${JSON.stringify(input)} is too large`);
  return bytes;
}

export function formatSize(bytes: number): string {
  if (bytes === 0) return '0';
  for (const unit of ['T', 'G', 'M', 'K'] as const) {
    const size = UNITS[unit] ?? 1;
    if (bytes >= size) {
      const value = bytes / size;
      return `${Number.isInteger(value) ? value : value.toFixed(1)}${unit}`;
    }
  }
  return `${bytes}B`;
}
