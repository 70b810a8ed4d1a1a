// steadymail trace on|off|show ACCOUNT and steadymail sessions history|list|kill: what a
// customer's client sent and what the server answered (src/sessions). They read and write
// the store, so they act on every process and node of the installation.
import { Command } from 'commander';
import type { LiveSession, SessionHistoryEntry, TraceLine } from '../store/sql/sessions.js';
import { liveSince, parseDuration as parseTraceDuration } from '../sessions/views.js';
import { CliError, EXIT, command, io, withStore, type ConfigOption } from './context.js';

/** `90s`, `30m`, `1h`, `2d` (or a number of minutes) → milliseconds. */
export function parseDuration(text: string): number {
  const value = parseTraceDuration(text);
  if (value === undefined) throw new CliError(EXIT.usage, `not a duration: ${text} (e.g. 30m, 1h, 2d; at most 30d)`);
  return value;
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

function historyLine(e: SessionHistoryEntry): string {
  return [
    e.startedAt.toISOString(),
    e.protocol,
    e.clientIp,
    e.login,
    e.endReason,
    seconds(e.endedAt.getTime() - e.startedAt.getTime()),
    `${e.commands} cmds`,
    `${e.bytesIn}/${e.bytesOut} B`,
    e.tls ?? 'plain',
    e.clientId ?? '-',
    e.sessionId + (e.traced ? ' (traced)' : ''),
  ].join('\t');
}

function liveLine(s: LiveSession): string {
  return [s.sessionId, s.protocol, s.account ?? '-', s.clientIp, s.tls ?? 'plain', s.clientId ?? '-', s.startedAt.toISOString(), s.node].join('\t');
}

function traceLine(l: TraceLine): string {
  return `${l.at.toISOString()} ${l.sessionId} ${l.protocol} ${l.direction}: ${l.line}`;
}

async function existingAccount(store: Parameters<Parameters<typeof withStore>[1]>[0], address: string): Promise<string> {
  const account = await store.getAccount(address);
  if (!account) throw new CliError(EXIT.noUser, `no such account: ${address}`);
  return account.address;
}

interface TraceOnOptions extends ConfigOption {
  for?: string;
  bodies?: boolean;
}

export function traceCommand(): Command {
  const trace = new Command('trace').description("record one account's protocol sessions (commands and replies; passwords masked)");
  trace.addCommand(
    command('on', 'start recording (SMTP submission, POP3, IMAP and webmail sign-in) for a limited time')
      .argument('<account>', 'the account address')
      .option('--for <duration>', 'how long, e.g. 30m, 1h, 2d (default: sessions.trace_default_minutes)')
      .option('--bodies', 'record message bodies in full (default: size and SHA-256 only)')
      .action(async (address: string, options: TraceOnOptions) => {
        await withStore(options, async (store, config) => {
          const account = await existingAccount(store, address);
          const ms = options.for !== undefined ? parseDuration(options.for) : config.sessions.traceDefaultMinutes * 60_000;
          const sw = await store.sessions.startTrace(account, new Date(Date.now() + ms), options.bodies === true);
          io().out(`tracing ${account} until ${sw.until.toISOString()}${sw.bodies ? ' (with message bodies)' : ''}`);
        });
      }),
  );
  trace.addCommand(
    command('off', 'stop recording now (what was recorded stays readable until it expires)')
      .argument('<account>', 'the account address')
      .action(async (address: string, options: ConfigOption) => {
        await withStore(options, async (store) => {
          const account = await existingAccount(store, address);
          const stopped = await store.sessions.stopTrace(account);
          io().out(stopped ? `trace of ${account} stopped` : `no trace of ${account} was running`);
        });
      }),
  );
  trace.addCommand(
    command('show', "print an account's trace, oldest line first")
      .argument('<account>', 'the account address')
      .option('--session <id>', 'only this session')
      .option('--json', 'one JSON object')
      .action(async (address: string, options: ConfigOption & { session?: string; json?: boolean }) => {
        await withStore(options, async (store) => {
          const account = await existingAccount(store, address);
          const sw = await store.sessions.getTrace(account);
          const lines = await store.sessions.readTrace(account, options.session !== undefined ? { sessionId: options.session } : {});
          if (options.json) {
            io().out(JSON.stringify({ account, trace: sw ?? null, active: sw !== undefined && sw.until.getTime() > Date.now(), lines }, null, 2));
            return;
          }
          if (!sw) {
            io().out(`no trace of ${account}`);
            return;
          }
          const state = sw.until.getTime() > Date.now() ? `on until ${sw.until.toISOString()}` : `ended ${sw.until.toISOString()}`;
          io().out(`trace of ${account}: ${state}, ${sw.bytes} bytes${sw.bodies ? ', with bodies' : ''}`);
          for (const l of lines) io().out(traceLine(l));
        });
      }),
  );
  return trace;
}

export function sessionsCommand(): Command {
  const sessions = new Command('sessions').description('session history, open sessions, ending a session');
  sessions.addCommand(
    command('history', "an account's recent sessions, newest first (start, protocol, client IP, login, end, duration, commands, bytes in/out, TLS, client id, session id)")
      .argument('<account>', 'the account address (a name without an account shows its failed logins)')
      .option('--limit <n>', 'at most this many rows', '50')
      .option('--json', 'JSON array')
      .action(async (address: string, options: ConfigOption & { limit?: string; json?: boolean }) => {
        const limit = Number(options.limit ?? 50);
        if (!Number.isSafeInteger(limit) || limit <= 0) throw new CliError(EXIT.usage, `not a row count: ${options.limit}`);
        await withStore(options, async (store) => {
          const rows = await store.sessions.listHistory({ account: address, limit });
          if (options.json) io().out(JSON.stringify(rows, null, 2));
          else for (const r of rows) io().out(historyLine(r));
        });
      }),
  );
  sessions.addCommand(
    command('list', 'sessions open now on every process and node (id, protocol, account, client IP, TLS, client id, start, process)')
      .option('--account <address>', 'only this account')
      .option('--json', 'JSON array')
      .action(async (options: ConfigOption & { account?: string; json?: boolean }) => {
        await withStore(options, async (store) => {
          const rows = await store.sessions.listLiveSessions({ seenSince: liveSince(), ...(options.account ? { account: options.account } : {}) });
          if (options.json) io().out(JSON.stringify(rows, null, 2));
          else for (const r of rows) io().out(liveLine(r));
        });
      }),
  );
  sessions.addCommand(
    command('kill', 'end an open session (the process serving it closes it within seconds)')
      .argument('<id>', 'the session id (steadymail sessions list)')
      .option('--no-wait', 'do not wait until it is closed')
      .action(async (id: string, options: ConfigOption & { wait?: boolean }) => {
        await withStore(options, async (store) => {
          if (!(await store.sessions.requestKill(id))) throw new CliError(EXIT.noUser, `no open session ${id}`);
          if (options.wait === false) {
            io().out(`asked the process serving session ${id} to end it`);
            return;
          }
          const deadline = Date.now() + 20_000;
          while (Date.now() < deadline) {
            if (!(await store.sessions.getLiveSession(id))) {
              io().out(`session ${id} ended`);
              return;
            }
            await new Promise((r) => setTimeout(r, 250));
          }
          throw new CliError(EXIT.tempFail, `session ${id} is still open; is the process serving it alive?`);
        });
      }),
  );
  return sessions;
}
