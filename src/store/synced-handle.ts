// fsync of one file or directory through a handle kept open. Callers that
// arrive while an fsync runs share the next one (their writes happened after
// the running one began, so it may not cover them); later callers share that.
// Used for the SQLite WAL (the durability barrier) and the blob shard
// directories (after a rename).

import { open, type FileHandle } from 'node:fs/promises';

export class SyncedHandle {
  private handle: Promise<FileHandle> | undefined;
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  /** `missingOk`: a path that does not exist has nothing to sync (a checkpointed-away WAL). */
  constructor(
    private readonly path: string,
    private readonly options: { missingOk?: boolean } = {},
  ) {}

  sync(): Promise<void> {
    if (this.next) return this.next;
    if (!this.running) return this.start();
    this.next = this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    return this.next;
  }

  async close(): Promise<void> {
    await this.running?.catch(() => undefined);
    await this.next?.catch(() => undefined);
    const h = this.handle;
    this.handle = undefined;
    await (await h?.catch(() => undefined))?.close();
  }

  private start(): Promise<void> {
    const run = (async () => {
      this.handle ??= open(this.path, 'r');
      let fh: FileHandle;
      try {
        fh = await this.handle;
      } catch (err) {
        this.handle = undefined;
        if (this.options.missingOk && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      try {
        await fh.sync();
      } catch (err) {
        // Open the path afresh next time.
        this.handle = undefined;
        await fh.close().catch(() => undefined);
        throw err;
      }
    })();
    const tracked: Promise<void> = run.finally(() => {
      if (this.running === tracked) this.running = undefined;
    });
    this.running = tracked;
    return tracked;
  }
}
