// steadymail import imap|pop3|mbox|maildir --account A …
//
// Every message goes through the store's write path (quota charged, MIME index
// built); re-running never duplicates (src/ops/import/target.ts). Live sources keep a
// journal in <data_dir>/import/ so that a re-run fetches only new mail. A summary is
// printed at the end (also when the import stops on an error), as JSON with --json.
import { Command, Option } from 'commander';
import { join } from 'node:path';
import { normalizeAddress } from '../address/index.js';
import type { Config } from '../config/index.js';
import type { Store } from '../store/store.js';
import type { ImportSummary, ImportTarget } from '../ops/import/target.js';
import type { ImportJournal } from '../ops/import/journal.js';
import { CliError, command, EXIT, io, withStore, type ConfigOption } from './context.js';
import { progressBar } from './progress.js';

interface CommonFlags extends ConfigOption {
  account: string;
  json?: boolean;
}

interface RemoteFlags extends CommonFlags {
  host: string;
  port?: string;
  security: 'tls' | 'starttls' | 'plain';
  user: string;
  passwordStdin?: boolean;
  insecure?: boolean;
  retries: string;
  journal?: string;
  timeout: string;
}

const DEFAULT_PORTS = { imap: { tls: 993, starttls: 143, plain: 143 }, pop3: { tls: 995, starttls: 110, plain: 110 } };

async function readPassword(flags: RemoteFlags): Promise<string> {
  if (flags.passwordStdin !== true) throw new CliError(EXIT.usage, 'give the source password on standard input with --password-stdin');
  const chunks: Buffer[] = [];
  for await (const chunk of io().stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (password === '' || /[\r\n]/.test(password)) throw new CliError(EXIT.dataError, 'the password on stdin must be one non-empty line');
  return password;
}

function integer(value: string, name: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new CliError(EXIT.usage, `${name} must be an integer of at least ${min}`);
  return n;
}

function remote(cmd: Command, protocol: 'imap' | 'pop3'): Command {
  return cmd
    .requiredOption('--host <host>', `the source ${protocol.toUpperCase()} server`)
    .option('--port <port>', `port (default ${DEFAULT_PORTS[protocol].tls} with tls, ${DEFAULT_PORTS[protocol].plain} otherwise)`)
    .addOption(new Option('--security <mode>', 'tls (implicit), starttls (required) or plain').choices(['tls', 'starttls', 'plain']).default('tls'))
    .requiredOption('--user <name>', 'login name on the source')
    .option('--password-stdin', 'read the source password from standard input')
    .option('--insecure', "accept the source's TLS certificate without verifying it")
    .option('--retries <n>', 'reconnections in a row without progress before giving up', '5')
    .option('--timeout <seconds>', 'give up on a silent connection after this long', '60')
    .option('--journal <file>', 'where to record what was imported (default: <data_dir>/import/…)');
}

function common(cmd: Command): Command {
  return cmd.requiredOption('--account <address>', 'the account of this server to import into').option('--json', 'print the summary as JSON on stdout');
}

/** One journal per source (host, port, user) and target (account; POP3: mailbox). */
function journalPath(config: Config, flags: RemoteFlags, protocol: 'imap' | 'pop3', account: string, mailbox?: string): string {
  if (flags.journal !== undefined) return flags.journal;
  const safe = (s: string) => s.replace(/[^A-Za-z0-9.@_-]/g, '_');
  const port = flags.port ?? String(DEFAULT_PORTS[protocol][flags.security]);
  return join(config.dataDir, 'import', `${safe(account)}-${protocol}-${safe(flags.host)}-${safe(port)}-${safe(flags.user)}${mailbox === undefined ? '' : `-${safe(mailbox)}`}.json`);
}

function printSummary(summary: ImportSummary, json: boolean): void {
  if (json) {
    io().out(JSON.stringify(summary, null, 2));
    return;
  }
  for (const f of summary.folders) {
    io().out(`${f.source} → ${f.mailbox}: ${f.imported} imported, ${f.duplicates} already there${f.tooLarge > 0 ? `, ${f.tooLarge} too large` : ''}`);
  }
  io().out(
    `${summary.account}: ${summary.imported} message(s) imported (${summary.bytes} bytes), ${summary.duplicates} already there` +
      `${summary.tooLarge > 0 ? `, ${summary.tooLarge} skipped as larger than limits.max_message_bytes` : ''}` +
      `${summary.reconnects > 0 ? `, ${summary.reconnects} reconnection(s)` : ''}`,
  );
}

/** Opens the target, runs the import with a progress bar, always prints the summary. */
async function run(flags: CommonFlags, source: string, work: (target: ImportTarget, store: Store, config: Config, progress: (phase: string, done: number, total: number) => void) => Promise<void>): Promise<void> {
  const { ImportTarget } = await import('../ops/import/target.js');
  const progress = progressBar();
  await withStore(flags, async (store, config) => {
    const target = await ImportTarget.open(store, normalizeAddress(flags.account), source, config.limits.maxMessageBytes);
    try {
      await work(target, store, config, (phase, done, total) => progress.update(phase, done, total));
    } catch (err) {
      progress.stop();
      printSummary(target.summary, flags.json === true);
      throw mapImportError(err);
    }
    progress.stop();
    printSummary(target.summary, flags.json === true);
  });
}

function mapImportError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  switch (err.name) {
    case 'ImportAuthError':
    case 'MboxFormatError':
    case 'MaildirError':
      return new CliError(EXIT.dataError, err.message);
    case 'SourceUnavailable':
      return new CliError(EXIT.tempFail, err.message);
    default:
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new CliError(EXIT.noInput, err.message);
      return err;
  }
}

async function openJournal(config: Config, flags: RemoteFlags, protocol: 'imap' | 'pop3', account: string, mailbox?: string): Promise<ImportJournal> {
  const { ImportJournal } = await import('../ops/import/journal.js');
  return ImportJournal.load(journalPath(config, flags, protocol, account, mailbox), `${protocol}://${flags.user}@${flags.host}`, account);
}

export function importCommand(): Command {
  const imp = new Command('import').description('import mail into an account: from an IMAP or POP3 server, mbox files or a Maildir');

  imp.addCommand(
    remote(common(command('imap', 'copy every folder of an IMAP account (flags, keywords, dates); resumable, never duplicates')), 'imap')
      .option('--folder <name...>', 'only these source folders')
      .action(async (flags: RemoteFlags & { folder?: string[] }) => {
        const { importFromImap } = await import('../ops/import/imap.js');
        const password = await readPassword(flags);
        await run(flags, `imap://${flags.user}@${flags.host}`, async (target, _store, config, progress) => {
          const journal = await openJournal(config, flags, 'imap', target.account.address);
          await importFromImap(
            {
              host: flags.host,
              port: flags.port === undefined ? DEFAULT_PORTS.imap[flags.security] : integer(flags.port, '--port', 1),
              security: flags.security,
              user: flags.user,
              password,
              verifyCertificate: flags.insecure !== true,
              ...(flags.folder ? { folders: flags.folder } : {}),
              retries: integer(flags.retries, '--retries', 0),
              retryDelayMs: 500,
              batchMessages: 100,
              batchBytes: 32 * 1024 * 1024,
              timeoutMs: integer(flags.timeout, '--timeout', 1) * 1000,
            },
            target,
            journal,
            progress,
          );
        });
      }),
  );

  imp.addCommand(
    remote(common(command('pop3', 'copy the messages of a POP3 mailbox (left on the source); resumable, never duplicates')), 'pop3')
      .option('--mailbox <name>', 'the mailbox to import into', 'INBOX')
      .action(async (flags: RemoteFlags & { mailbox: string }) => {
        const { importFromPop3 } = await import('../ops/import/pop3.js');
        const password = await readPassword(flags);
        await run(flags, `pop3://${flags.user}@${flags.host}`, async (target, _store, config, progress) => {
          const journal = await openJournal(config, flags, 'pop3', target.account.address, flags.mailbox);
          await importFromPop3(
            {
              host: flags.host,
              port: flags.port === undefined ? DEFAULT_PORTS.pop3[flags.security] : integer(flags.port, '--port', 1),
              security: flags.security,
              user: flags.user,
              password,
              verifyCertificate: flags.insecure !== true,
              mailbox: flags.mailbox,
              retries: integer(flags.retries, '--retries', 0),
              retryDelayMs: 500,
              timeoutMs: integer(flags.timeout, '--timeout', 1) * 1000,
            },
            target,
            journal,
            progress,
          );
        });
      }),
  );

  imp.addCommand(
    common(command('mbox', 'import mbox files (streamed), one mailbox per file'))
      .argument('<file...>', 'mbox files, or directories of *.mbox files (as export writes them: Archive/2024.mbox → Archive/2024)')
      .option('--mailbox <name>', 'import every file into this mailbox (default: the file name, `inbox` → INBOX)')
      .addOption(new Option('--format <format>', 'how body "From " lines were quoted').choices(['mboxrd', 'mboxo']).default('mboxrd'))
      .action(async (files: string[], flags: CommonFlags & { mailbox?: string; format: 'mboxrd' | 'mboxo' }) => {
        const { importMbox } = await import('../ops/import/files.js');
        await run(flags, `mbox:${files.join(',')}`, (target, _store, _config, progress) =>
          importMbox(files, { format: flags.format, ...(flags.mailbox === undefined ? {} : { mailbox: flags.mailbox }) }, target, progress),
        );
      }),
  );

  imp.addCommand(
    common(command('maildir', 'import a Maildir (root = INBOX, Maildir++ .Sub.Folders, info flags, dovecot-keywords)'))
      .argument('<dir>', 'the Maildir root (holding cur/ and new/)')
      .action(async (dir: string, flags: CommonFlags) => {
        const { importMaildir } = await import('../ops/import/files.js');
        await run(flags, `maildir:${dir}`, (target, _store, _config, progress) => importMaildir(dir, target, progress));
      }),
  );
  return imp;
}
