// steadymail queue list|show|retry|delete|flush — the outbound queue, for operators.
// Safe beside a running server: retry and flush only make entries due; the server's
// worker claims them on its next poll. Deletion is audited.
import { Command } from 'commander';
import type { QueueEntry, QueueState } from '../store/types.js';
import { CliError, EXIT, cliAudit, command, withStore, io, type ConfigOption } from './context.js';

const STATES: readonly QueueState[] = ['queued', 'delivered', 'failed'];

function entryId(text: string): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id <= 0) throw new CliError(EXIT.usage, `not a queue entry id: ${text}`);
  return id;
}

function line(e: QueueEntry): string {
  const next = e.state === 'queued' ? e.nextAttemptAt.toISOString() : '-';
  return [e.id, e.state, e.attempts, next, e.mailFrom || '<>', e.recipients.join(','), e.lastError ?? ''].join('\t');
}

export function queueCommand(): Command {
  const queue = new Command('queue').description('inspect and control the outbound mail queue');

  queue.addCommand(
    command('list', 'list queue entries (id, state, attempts, next attempt, sender, recipients, last error)')
      .option('--state <state>', `only entries in this state (${STATES.join(', ')})`)
      .action(async (options: ConfigOption & { state?: string }) => {
        const state = options.state;
        if (state !== undefined && !STATES.includes(state as QueueState)) throw new CliError(EXIT.usage, `unknown state ${state}`);
        const entries = await withStore(options, (store) => store.listQueue(state ? { state: state as QueueState } : {}));
        for (const e of entries) io().out(line(e));
      }),
  );

  queue.addCommand(
    command('show', 'show one entry')
      .argument('<id>', 'queue entry id')
      .action(async (id: string, options: ConfigOption) => {
        const e = await withStore(options, (store) => store.getQueueEntry(entryId(id)));
        if (!e) throw new CliError(EXIT.dataError, `no queue entry ${id}`);
        io().out(JSON.stringify(e, null, 2));
      }),
  );

  queue.addCommand(
    command('retry', 'make an entry (queued or failed) due now')
      .argument('<id>', 'queue entry id')
      .action(async (id: string, options: ConfigOption) => {
        await withStore(options, (store) => store.retryQueueEntry(entryId(id)));
        io().out(`queue entry ${id} is due now`);
      }),
  );

  queue.addCommand(
    command('delete', 'remove an entry; its message is not delivered (audited)')
      .argument('<id>', 'queue entry id')
      .action(async (id: string, options: ConfigOption) => {
        await withStore(options, (store) => store.deleteQueueEntry(entryId(id), { ...cliAudit(), reason: 'queue entry deleted with the command line' }));
        io().out(`deleted queue entry ${id}`);
      }),
  );

  queue.addCommand(
    command('flush', 'make every queued entry due now').action(async (options: ConfigOption) => {
      const n = await withStore(options, async (store) => {
        const queued = await store.listQueue({ state: 'queued', limit: 100_000 });
        for (const e of queued) await store.retryQueueEntry(e.id);
        return queued.length;
      });
      io().out(`${n} queued entries are due now`);
    }),
  );

  return queue;
}
