// The in-process ChangeBus: listeners per account, called after commit.
// Worker processes and farm nodes wrap it (IPC relay, PostgreSQL NOTIFY).

import type { ChangeBus, ChangeEvent } from './store.js';

type Listener = (event: ChangeEvent) => void;

export class LocalChangeBus implements ChangeBus {
  private readonly listeners = new Map<number, Set<Listener>>();
  /** Called for every event published here, e.g. to relay it to other processes. */
  onPublish: ((event: ChangeEvent) => void) | undefined;

  publish(event: ChangeEvent): void {
    this.onPublish?.(event);
    this.deliver(event);
  }

  /** Hands an event that arrived from elsewhere to this process's listeners only. */
  deliver(event: ChangeEvent): void {
    const set = this.listeners.get(event.accountId);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch {
        // One session's broken listener must not stop the others from hearing.
      }
    }
  }

  subscribe(accountId: number, listener: Listener): () => void {
    let set = this.listeners.get(accountId);
    if (!set) {
      set = new Set();
      this.listeners.set(accountId, set);
    }
    set.add(listener);
    return () => {
      const s = this.listeners.get(accountId);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) this.listeners.delete(accountId);
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
