// ChangeBus across the worker processes of one node (embedded mode, SQLite):
// a worker delivers its events to its own listeners at once and sends them to
// the primary, which relays them to every other worker. In farm mode each
// worker has its own PostgreSQL LISTEN and this relay is not used.

import type { ChildProcess } from 'node:child_process';
import { LocalChangeBus } from './bus.js';
import type { ChangeBus, ChangeEvent } from './store.js';

interface RelayedChange {
  steadymail: 'change';
  event: ChangeEvent;
}

function isRelayedChange(msg: unknown): msg is RelayedChange {
  return typeof msg === 'object' && msg !== null && (msg as { steadymail?: unknown }).steadymail === 'change';
}

/** The worker side: used as the store's bus in each worker process. */
export class IpcChangeBus implements ChangeBus {
  private readonly local = new LocalChangeBus();
  private readonly onMessage = (msg: unknown) => {
    if (isRelayedChange(msg)) this.local.deliver(msg.event);
  };

  constructor(private readonly channel: Pick<NodeJS.Process, 'send' | 'on' | 'off'> = process) {
    channel.on('message', this.onMessage);
  }

  publish(event: ChangeEvent): void {
    this.local.deliver(event);
    const message: RelayedChange = { steadymail: 'change', event };
    // The primary may be gone during shutdown; our own listeners already heard it.
    try {
      this.channel.send?.(message);
    } catch {
      /* ignore */
    }
  }

  subscribe(accountId: number, listener: (event: ChangeEvent) => void): () => void {
    return this.local.subscribe(accountId, listener);
  }

  async close(): Promise<void> {
    this.channel.off('message', this.onMessage);
    await this.local.close();
  }
}

/** The primary side: relays every worker's change events to the other workers. */
export class ChangeRelay {
  private readonly workers = new Set<ChildProcess | { send: ChildProcess['send']; on: ChildProcess['on']; off: ChildProcess['off'] }>();

  add(worker: { send: ChildProcess['send']; on: ChildProcess['on']; off: ChildProcess['off'] }): void {
    this.workers.add(worker);
    const onMessage = (msg: unknown) => {
      if (!isRelayedChange(msg)) return;
      for (const other of this.workers) {
        if (other === worker) continue;
        try {
          other.send(msg);
        } catch {
          // A worker that is exiting misses the event; its sessions end anyway.
        }
      }
    };
    worker.on('message', onMessage);
    worker.on('exit', () => {
      worker.off('message', onMessage);
      this.workers.delete(worker);
    });
  }
}
